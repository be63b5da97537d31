"""Who is calling the partner API: a short-lived JWT the partner signed with its own key, checked against the JWKS
in our registry. Every refusal has its own stable code, so a partner's operator can tell a clock problem from a
key problem from a replay."""

from __future__ import annotations

import re
import time

from flask import current_app

from app.errors import ApiError
from app.extensions import kv
from app.partners import jws
from app.partners import service as registry
from app.partners.models import Partner

_CITY = re.compile(r"^\d{6}$")
_JTI = re.compile(r"^[A-Za-z0-9_.:-]{8,128}$")

REFUSALS: dict[str, tuple[int, str]] = {
    "unauthorized": (401, "请提供合作城市签发的访问令牌（Authorization: Bearer <JWT>）。"),
    "malformed_token": (401, "访问令牌格式有误：应为 EdDSA 签名的 JWT，含 iss、aud、iat、exp、jti。"),
    "unknown_partner": (401, "签发方不在本市的合作城市名单中。"),
    "partner_suspended": (403, "与该城市的互认服务已暂停。"),
    "unknown_key": (401, "无法识别访问令牌的签名密钥（kid），请确认已公布该公钥。"),
    "bad_signature": (401, "访问令牌签名校验失败。"),
    "wrong_audience": (401, "访问令牌不是签发给本市的（aud 不符）。"),
    "expired": (401, "访问令牌已过期，或签发时间晚于当前时间（请校准时钟）。"),
    "bad_lifetime": (401, "访问令牌的有效期不能超过 5 分钟。"),
    "replayed": (401, "该访问令牌已使用过，请每次请求签发新的令牌。"),
}


def refuse(code: str) -> ApiError:
    status, message = REFUSALS[code]
    challenge = f'Bearer error="invalid_token", error_description="{code}"'
    return ApiError(status, code, message, headers={"WWW-Authenticate": challenge} if status == 401 else None)


def _audience_ok(aud, own: str) -> bool:
    return aud == own or (isinstance(aud, list) and own in aud)


def authenticate(token: str | None, now: float | None = None) -> Partner:
    """The partner that signed ``token``, or an :class:`ApiError` saying exactly why not."""
    if not token:
        raise refuse("unauthorized")
    try:
        header, claims = jws.peek(token)
    except jws.JwsError:
        raise refuse("malformed_token") from None
    issuer, jti = claims.get("iss"), claims.get("jti")
    issued_at, expires_at = claims.get("iat"), claims.get("exp")
    if (not isinstance(issuer, str) or not _CITY.match(issuer) or not isinstance(jti, str) or not _JTI.match(jti)
            or any(isinstance(v, bool) or not isinstance(v, int) for v in (issued_at, expires_at))):
        raise refuse("malformed_token")
    partner = registry.find_partner(issuer)
    if partner is None:
        raise refuse("unknown_partner")
    if partner.status != "active":
        raise refuse("partner_suspended")
    public = registry.public_key(partner, header["kid"])
    if public is None:
        raise refuse("unknown_key")
    if not jws.verify(token, public):
        raise refuse("bad_signature")
    config = current_app.config
    if not _audience_ok(claims.get("aud"), config["CITY_CODE"]):
        raise refuse("wrong_audience")
    now = time.time() if now is None else now
    leeway = config["PARTNER_CLOCK_LEEWAY_SECONDS"]
    if now > expires_at + leeway or issued_at > now + leeway:
        raise refuse("expired")
    if expires_at - issued_at > config["PARTNER_AUTH_MAX_LIFETIME_SECONDS"] or expires_at <= issued_at:
        raise refuse("bad_lifetime")
    # Kept until the token could no longer pass the expiry check anyway.
    if not kv.set(f"partners:auth-jti:{issuer}:{jti}", "1", nx=True, ex=max(int(expires_at + leeway - now), 1) + 1):
        raise refuse("replayed")
    return partner
