"""Rate limits and lockouts on Flask-Limiter's storage and strategies (Redis in production, memory embedded).

Every limit here is named: ``hit`` counts one event (an issued code, a failed login) and refuses with a 429
``{code, status, message}`` and ``Retry-After`` once the window's budget is spent; ``check`` refuses without
counting (a lockout: failures are counted, the next try is checked first). Keys are opaque: callers pass refs and
keyed digests, never an ID number, a phone or a password.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits import parse

from app.errors import ApiError


@dataclass(frozen=True)
class Refusal:
    code: str
    # Formatted with ``minutes``: how long until the window ends, rounded up.
    message: str


def init_app(app: Flask) -> None:
    # One Limiter per app (it keeps its storage), so several apps can live in one process (tests, two cities).
    limiter = Limiter(key_func=client_ip, storage_uri=app.config.get("REDIS_URL") or "memory://",
                      strategy="fixed-window", key_prefix="xyf-limit", headers_enabled=False)
    limiter.init_app(app)
    app.extensions["rate_limiter"] = limiter


def _limiter() -> Limiter:
    return current_app.extensions["rate_limiter"]


def client_ip() -> str:
    # remote_addr is the proxy's address unless the app trusts X-Forwarded-For (ProxyFix, see gunicorn.conf.py).
    return request.remote_addr or "unknown"


def _refuse(limit_text: str, refusal: Refusal, keys: tuple[str, ...]) -> ApiError:
    item = parse(limit_text)
    reset_at, _ = _limiter().limiter.get_window_stats(item, *keys)
    wait = max(int(reset_at - time.time()) + 1, 1)
    return ApiError(429, refusal.code, refusal.message.format(minutes=(wait + 59) // 60),
                    headers={"Retry-After": str(wait)})


def hit(limit_text: str, refusal: Refusal, *keys: str) -> None:
    """Count one event under ``keys``; refuse (without counting) when the window's budget is spent."""
    if not _limiter().limiter.hit(parse(limit_text), *keys):
        raise _refuse(limit_text, refusal, keys)


def check(limit_text: str, refusal: Refusal, *keys: str) -> None:
    """Refuse if ``keys`` has spent its budget (a lockout); counts nothing."""
    if not _limiter().limiter.test(parse(limit_text), *keys):
        raise _refuse(limit_text, refusal, keys)


def count(limit_text: str, *keys: str) -> None:
    """Count one failure under ``keys`` (checked by a later ``check``)."""
    _limiter().limiter.hit(parse(limit_text), *keys)


def clear(limit_text: str, *keys: str) -> None:
    _limiter().limiter.clear(parse(limit_text), *keys)


def reset() -> None:
    """Forget every counter (tests; the Redis store is also emptied by FLUSHDB)."""
    _limiter().reset()
