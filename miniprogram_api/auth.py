"""Citizen sessions for the mini-program: short-lived signed access tokens plus refresh tokens.

Access tokens are HMAC-signed (no database row per token) and carry the account's ``token_version``;
unbinding bumps the version, which revokes every token issued before. Refresh tokens are random, kept
as a digest in the key-value store with their own expiry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import wraps

from flask import current_app, g
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.audit.service import Actor
from app.auth.guards import bearer_token
from app.citizens.models import Citizen
from app.errors import ApiError
from app.extensions import db, kv
from app.security.secrets_util import digest, new_secret
from miniprogram_api import cache
from miniprogram_api.models import WeChatAccount

ACCESS_TTL_SECONDS = 2 * 3600
REFRESH_TTL_SECONDS = 30 * 24 * 3600
_SALT = "mp-access"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _refresh_key(token: str) -> str:
    return f"mp:refresh:{digest(token)}"


def issue_tokens(account: WeChatAccount, with_refresh: bool = True) -> TokenPair:
    """An access token, and a refresh token unless ``with_refresh`` is False (浙里办 signs in again with a ticket)."""
    claims = {"a": account.ref, "v": account.token_version}
    if account.app_kind != "mp":  # a 浙里办 token names its channel: the score's fast path checks no row
        claims["k"] = account.app_kind
    access = _serializer().dumps(claims)
    if not with_refresh:
        return TokenPair(access, "", ACCESS_TTL_SECONDS)
    refresh = new_secret("mr")
    kv.set(_refresh_key(refresh), json.dumps({"a": account.ref, "v": account.token_version}),
           ex=REFRESH_TTL_SECONDS)
    return TokenPair(access, refresh, ACCESS_TTL_SECONDS)


def refresh_tokens(refresh_token: str) -> TokenPair:
    """Trade a refresh token for a new pair; the old refresh token is used up (rotation)."""
    raw = kv.getdel(_refresh_key(refresh_token))
    account = _account_for(json.loads(raw)) if raw else None
    if account is None:
        raise ApiError(401, "invalid_refresh_token", "登录已失效，请重新登录。")
    return issue_tokens(account)


def revoke_refresh_token(refresh_token: str) -> None:
    """Log out one session: its refresh token stops working; its access token lapses within ACCESS_TTL_SECONDS."""
    kv.delete(_refresh_key(refresh_token))


def _account_for(claims: dict) -> WeChatAccount | None:
    account = db.session.scalar(db.select(WeChatAccount).where(WeChatAccount.ref == claims.get("a")))
    if account is None or account.token_version != claims.get("v"):
        return None
    return account


def account_for_access_token(token: str) -> WeChatAccount | None:
    claims = _claims(token)
    return _account_for(claims) if claims else None


def _claims(token: str | None) -> dict | None:
    if not token:
        return None
    try:
        claims = _serializer().loads(token, max_age=ACCESS_TTL_SECONDS)
    except (SignatureExpired, BadSignature):
        return None
    return claims if isinstance(claims, dict) else None


def bound_citizen_id_required(view):
    """For the score view: check the token against the cached account state (no database round trip when it is
    cached; the score is fetched in the same round trip) and set ``g.citizen_id``; the same refusals as
    ``citizen_required()``."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        claims = _claims(bearer_token())
        if claims and claims.get("k", "mp") != "mp":
            claims = None  # another channel's token
        state = cache.account_state(claims.get("a", ""), prefetch_score=True) if claims else None
        if state is None or state["v"] != claims.get("v"):
            raise ApiError(401, "unauthorized", "登录已失效，请重新登录。", headers={"WWW-Authenticate": "Bearer"})
        if state["c"] is None:
            raise ApiError(403, "not_bound", "请先绑定本人身份（姓名与身份证号码）后再使用。")
        g.citizen_id = state["c"]
        g.actor = Actor("citizen", claims["a"])
        return view(*args, **kwargs)

    return wrapper


def citizen_required(bound: bool = True, channel: str = "mp"):
    """Authenticate the citizen app's caller: a token of an account of ``channel`` ("mp": the mini-program,
    "zlb": 浙里办). With ``bound`` the account must be bound to a citizen; sets ``g.wechat_account`` and
    ``g.citizen`` (None when unbound and ``bound`` is False)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            token = bearer_token()
            account = account_for_access_token(token) if token else None
            if account is None or account.app_kind != channel:
                raise ApiError(401, "unauthorized", "登录已失效，请重新登录。", headers={"WWW-Authenticate": "Bearer"})
            citizen = db.session.get(Citizen, account.citizen_id) if account.citizen_id else None
            if bound and citizen is None:
                raise ApiError(403, "not_bound", "请先绑定本人身份（姓名与身份证号码）后再使用。")
            g.wechat_account, g.citizen = account, citizen
            g.actor = Actor("citizen", account.ref)
            return view(*args, **kwargs)

        return wrapper

    return decorator
