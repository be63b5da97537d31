"""Console sign-in: server-side sessions in the key-value store, idle timeout, CSRF on every form, a rate-limited
login, secure cookies and a Content-Security-Policy that allows only the app's own assets.

The browser's (signed) Flask session cookie carries only a random console session id and the CSRF token; who is
signed in lives under ``console:session:<id>`` in the key-value store with a TTL of the idle timeout, refreshed by
every request, so logout and idle timeout hold across processes and hosts.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from functools import wraps

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf

from app.audit.service import Actor
from app.auth import service as auth
from app.auth.models import DepartmentUser, StaffUser
from app.community import service as community
from app.extensions import kv

SESSION_KEY = "console:session:{}"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; "
    "connect-src 'self'; media-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """Secure cookies when configured, and whenever the request came over HTTPS (behind a proxy too, with
    ProxyFix); HttpOnly and SameSite=Lax are set in ``configure``."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def configure(app: Flask) -> None:
    app.config.setdefault("CONSOLE_IDLE_SECONDS", int(os.environ.get("CONSOLE_IDLE_SECONDS") or 30 * 60))
    app.config.setdefault("CONSOLE_MAX_SESSION_SECONDS", 12 * 3600)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if os.environ.get("SESSION_COOKIE_SECURE", "").lower() in ("1", "true", "yes"):
        app.config["SESSION_COOKIE_SECURE"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the token lives as long as the console session
    app.session_interface = ConsoleSessionInterface()


# -- who is signed in ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConsoleUser:
    """Who is signed in, as plain values (the ORM account may be expunged by a long read like the audit walk)."""

    kind: str  # staff, department or community (a village / community points desk)
    account_id: int
    username: str
    name: str
    role: str  # staff, admin, department; for community: grid, reviewer, counter or manager
    department_code: str | None = None
    department_name: str | None = None
    scheme_name: str | None = None

    @classmethod
    def of(cls, kind: str, account) -> ConsoleUser:
        if kind == "staff":
            return cls(kind, account.id, account.username, account.display_name, account.role)
        if kind == "community":
            return cls(kind, account.id, account.username, account.display_name, account.role,
                       scheme_name=community.scheme_name(account))
        return cls(kind, account.id, account.username, account.display_name, "department",
                   account.department.code, account.department.name)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def department(self):
        """The department (ORM object, loaded afresh) of a department user; None for staff."""
        return auth.get_department(self.department_code) if self.department_code else None

    @property
    def actor(self) -> Actor:
        if self.kind == "staff":
            return Actor("staff", self.username)
        if self.kind == "community":
            return Actor("community", self.username)
        return Actor("department", self.department_code)


def _session_key(session_id: str) -> str:
    return SESSION_KEY.format(session_id)


def sign_in(account: StaffUser | DepartmentUser) -> None:
    """A fresh session (a new id and CSRF token: nothing set before the login survives it)."""
    session.clear()
    g.pop("csrf_token", None)  # the old token went with the old session
    session_id = secrets.token_urlsafe(32)
    kind = "staff" if isinstance(account, StaffUser) else "department" if isinstance(account, DepartmentUser) \
        else "community"
    kv.set(_session_key(session_id), json.dumps({"kind": kind, "id": account.id, "since": int(time.time())}),
           ex=current_app.config["CONSOLE_IDLE_SECONDS"])
    session["console_sid"] = session_id
    session.permanent = False


def sign_out() -> None:
    session_id = session.get("console_sid")
    if session_id:
        kv.delete(_session_key(session_id))
    session.clear()


def current_user() -> ConsoleUser | None:
    """The signed-in console user of this request (cached on ``g``); refreshes the idle timeout."""
    if "console_user" in g:
        return g.console_user
    g.console_user = None
    g.console_timed_out = False
    session_id = session.get("console_sid")
    if not session_id:
        return None
    raw = kv.get(_session_key(session_id))
    if raw is None:
        g.console_timed_out = True
        session.pop("console_sid", None)
        return None
    data = json.loads(raw)
    if time.time() - data.get("since", 0) > current_app.config["CONSOLE_MAX_SESSION_SECONDS"]:
        sign_out()
        g.console_timed_out = True
        return None
    account = community.active_worker(data["id"]) if data["kind"] == "community" \
        else auth.console_account(data["kind"], data["id"])
    if account is None:
        sign_out()
        return None
    kv.expire(_session_key(session_id), current_app.config["CONSOLE_IDLE_SECONDS"])
    g.console_user = ConsoleUser.of(data["kind"], account)
    g.actor = g.console_user.actor
    return g.console_user


def login_required(*roles: str):
    """Pages: 302 to the login page without a session (JSON endpoints: 401), 403 for another role.

    ``roles`` among 'staff' (any staff, admin included), 'admin', 'department' and 'community'."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user()
            if user is None:
                if request.path.startswith("/console/api/"):
                    abort(401)
                message = "timeout" if g.get("console_timed_out") else None
                target = request.full_path if request.method == "GET" else request.path
                return redirect(url_for("console.login", next=target.rstrip("?"), why=message))
            allowed = (
                ("staff" in roles and user.kind == "staff")
                or ("admin" in roles and user.is_admin)
                or ("department" in roles and user.kind == "department")
                or ("community" in roles and user.kind == "community")
            )
            if not allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


# -- CSRF -----------------------------------------------------------------------------------------------------

def csrf_token() -> str:
    return generate_csrf()


def check_csrf() -> None:
    """Every state-changing request of the console carries the session's CSRF token (form field or header)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    token = request.form.get("csrf_token") or request.headers.get("X-CSRFToken")
    try:
        validate_csrf(token)
    except Exception as error:  # ValidationError from wtforms: missing, expired or not this session's
        raise CSRFError(str(error)) from None


# -- headers ------------------------------------------------------------------------------------------------------

def secure_headers(response):
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    if response.mimetype in ("text/html", "application/json"):
        response.headers["Cache-Control"] = "no-store"
    return response
