"""The partner registry: who our partner cities are, their scales and cut-offs, their keys, and our pseudonym keys.

A partner is known by its administrative division code (杭州 330100). Its public keys are a JWK Set, given
inline or fetched from its ``jwks_url`` (refreshed by reconciliation, and at once — at most once a minute — when
one of its tokens names a ``kid`` we have not seen). Nothing here is a shared secret: partners sign with their
own private keys and we only ever hold their public ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, update

from app.errors import ApiError
from app.extensions import db, kv
from app.partners import client, jws
from app.partners.models import Partner
from app.security.pii import vault
from app.security.rotation import encrypted_column
from app.security.signing import b64url
from app.timeutil import utcnow
from score_model.partners import PartnerScale, ScaleError, build_scale

log = logging.getLogger(__name__)

PSEUDONYM_KEY_PURPOSE = b"partner-pseudonym-key"
encrypted_column(Partner, "pseudonym_key_cipher", PSEUDONYM_KEY_PURPOSE)
PLACEHOLDER_NOTE = "未公开——需与对方城市确认"


@dataclass(frozen=True)
class KnownCity:
    city_code: str
    city_name: str
    score_name: str
    scale: tuple[int, int] | None
    cutoffs: tuple[tuple[int, int, str], ...] | None  # (level, native min, name)
    confirmed: bool
    note: str
    status: str


_LADDER_NAMES = ("待提高", "一般", "良好", "优秀", "极好")
# The alliance as we know it today (seed 000: 钱江分, 天一分, 桂花分). Only public facts: 天一分's and 桂花分's scales
# are not published, so their rows are placeholders that start suspended until staff confirm them.
KNOWN_CITIES: tuple[KnownCity, ...] = (
    KnownCity("330600", "绍兴", "绍兴信用分", (0, 1000),
              tuple(zip((1, 2, 3, 4, 5), (0, 560, 640, 720, 800), _LADDER_NAMES, strict=True)),
              True, "", "active"),
    KnownCity("330100", "杭州", "钱江分", (0, 1000),
              tuple(zip((1, 2, 3, 4, 5), (0, 550, 600, 700, 750), _LADDER_NAMES, strict=True)),
              True, "钱江分公开分档：<550 待提高，550–599 一般，600–699 良好，700–749 优秀，≥750 极好。", "active"),
    KnownCity("330200", "宁波", "天一分", None, None, False, PLACEHOLDER_NOTE, "suspended"),
    KnownCity("320500", "苏州", "桂花分", None, None, False, PLACEHOLDER_NOTE, "suspended"),
)


# -- reading --------------------------------------------------------------------------------------------

def find_partner(city_code: str) -> Partner | None:
    return db.session.scalar(select(Partner).where(Partner.city_code == city_code))


def get_partner(city_code: str) -> Partner:
    partner = find_partner(city_code)
    if partner is None:
        raise ApiError(404, "partner_unknown", "没有这个合作城市（请使用行政区划代码，如杭州 330100）。")
    return partner


def list_partners(status: str | None = None) -> list[Partner]:
    stmt = select(Partner).order_by(Partner.city_code)
    if status:
        stmt = stmt.where(Partner.status == status)
    return list(db.session.scalars(stmt))


def scale_of(partner: Partner) -> PartnerScale | None:
    """The partner's native scale with its cut-offs, or None while they are not configured."""
    if partner.scale_min is None or partner.scale_max is None or not partner.cutoffs:
        return None
    try:
        return build_scale(partner.scale_min, partner.scale_max, partner.cutoffs)
    except ScaleError:
        log.error("partner %s has inconsistent cut-offs; ignoring them", partner.city_code)
        return None


def key_ids(partner: Partner) -> list[str]:
    try:
        return jws.validate_jwks(partner.jwks) if partner.jwks else []
    except ValueError:
        return []


# -- changing -------------------------------------------------------------------------------------------

def seed_known_partners() -> list[str]:
    """Add the known cities that are missing (never this instance's own city); returns the codes added.

    Idempotent, and it never overwrites a row: staff may have confirmed a scale or set keys since.
    """
    own = current_app.config["CITY_CODE"]
    added = []
    for city in KNOWN_CITIES:
        if city.city_code == own or find_partner(city.city_code) is not None:
            continue
        db.session.add(Partner(
            city_code=city.city_code, city_name=city.city_name, score_name=city.score_name,
            scale_min=city.scale[0] if city.scale else None, scale_max=city.scale[1] if city.scale else None,
            cutoffs=[{"level": level, "min": start, "name": name} for level, start, name in city.cutoffs]
            if city.cutoffs else None,
            scale_confirmed=city.confirmed, scale_note=city.note, status=city.status))
        added.append(city.city_code)
    db.session.flush()
    return added


def _scale_error(error: ScaleError) -> ApiError:
    return ApiError(422, "invalid_scale", f"分值范围或分档有误：{error}", {"cutoffs": [str(error)]})


def _apply_scale(partner: Partner, changes: dict) -> None:
    scale_min = changes.get("scale_min", partner.scale_min)
    scale_max = changes.get("scale_max", partner.scale_max)
    cutoffs = changes.get("cutoffs", partner.cutoffs)
    if cutoffs:
        if scale_min is None or scale_max is None:
            raise ApiError(422, "invalid_scale", "设置分档前请先填写分值范围（scale_min、scale_max）。",
                           {"scale_min": ["设置分档时必填。"]})
        try:
            scale = build_scale(scale_min, scale_max, cutoffs)
        except ScaleError as error:
            raise _scale_error(error) from None
        cutoffs = [{"level": c.level, "min": c.min, "name": c.name} for c in scale.cutoffs]
    elif scale_min is not None and scale_max is not None and scale_min >= scale_max:
        raise ApiError(422, "invalid_scale", "分值范围的下限应小于上限。", {"scale_max": ["应大于 scale_min。"]})
    partner.scale_min, partner.scale_max, partner.cutoffs = scale_min, scale_max, cutoffs or None


def _apply_keys(partner: Partner, changes: dict) -> None:
    if "jwks" in changes and changes["jwks"] is not None:
        try:
            jws.validate_jwks(changes["jwks"])
        except ValueError as error:
            raise ApiError(422, "invalid_jwks", str(error), {"jwks": [str(error)]}) from None
    for name in ("jwks", "jwks_url", "api_base_url"):
        if name in changes:
            setattr(partner, name, changes[name] or None)


_PLAIN_FIELDS = ("city_name", "score_name", "scale_confirmed", "scale_note", "status", "credential_format")


def create_partner(data: dict) -> Partner:
    if data["city_code"] == current_app.config["CITY_CODE"]:
        raise ApiError(422, "own_city", "不能把本市登记为合作城市。", {"city_code": ["这是本市的代码。"]})
    if find_partner(data["city_code"]) is not None:
        raise ApiError(409, "partner_exists", "该城市已在合作城市名单中。")
    partner = Partner(city_code=data["city_code"], **{k: data[k] for k in _PLAIN_FIELDS if k in data})
    _apply_scale(partner, data)
    _apply_keys(partner, data)
    db.session.add(partner)
    db.session.flush()
    return partner


def update_partner(city_code: str, changes: dict) -> Partner:
    partner = get_partner(city_code)
    for name in _PLAIN_FIELDS:
        if name in changes:
            setattr(partner, name, changes[name])
    if {"scale_min", "scale_max", "cutoffs"} & set(changes):
        _apply_scale(partner, changes)
    _apply_keys(partner, changes)
    db.session.flush()
    return partner


def set_status(city_code: str, status: str) -> Partner:
    return update_partner(city_code, {"status": status})


# -- keys -----------------------------------------------------------------------------------------------

def refresh_jwks(partner: Partner, timeout: float | None = None) -> list[str]:
    """Fetch the partner's JWKS from its URL and keep it; raises client.PartnerUnavailable, or ApiError when
    what they publish is not a usable JWK Set. Returns the kids."""
    if not partner.jwks_url:
        raise ApiError(409, "no_jwks_url", "该合作城市没有登记公钥地址（jwks_url）。")
    fetched = client.fetch_jwks(partner.jwks_url, timeout)
    try:
        kids = jws.validate_jwks(fetched)
    except ValueError as error:
        raise client.PartnerUnavailable("invalid_jwks", f"对方公布的公钥集无效：{error}") from None
    partner.jwks, partner.jwks_fetched_at = fetched, utcnow()
    db.session.flush()
    return kids


def configure_keys(city_code: str, data: dict) -> Partner:
    """Set the partner's JWKS (inline or URL) and API address; with a URL, fetch it now so a wrong address shows at
    once rather than at a cashier's counter. Nothing is kept when the fetch fails."""
    partner = get_partner(city_code)
    _apply_keys(partner, data)
    if data.get("refresh", True) and partner.jwks_url and "jwks" not in data:
        try:
            refresh_jwks(partner)
        except client.PartnerUnavailable as error:
            db.session.rollback()
            raise ApiError(502, "jwks_unavailable", f"无法从 jwks_url 取得对方的公钥集：{error.message}",
                           {"jwks_url": [error.code]}) from None
    db.session.commit()
    return partner


def jwks_fresh(partner: Partner) -> bool:
    """Whether the partner's keys may be trusted now: inline ones (staff set them) always; fetched ones while
    younger than PARTNER_JWKS_TTL_SECONDS, else refetched now (throttled); False when that fails."""
    if not partner.jwks_url:
        return True
    ttl = current_app.config["PARTNER_JWKS_TTL_SECONDS"]
    if partner.jwks_fetched_at is not None and (utcnow() - partner.jwks_fetched_at).total_seconds() <= ttl:
        return True
    throttle = current_app.config["PARTNER_JWKS_REFRESH_MIN_SECONDS"]
    if not kv.set(f"partners:jwks-stale:{partner.city_code}", "1", nx=True, ex=max(throttle, 1)):
        # Another request is refreshing (or just failed to): its result, if any, is in the row.
        db.session.refresh(partner, ["jwks", "jwks_fetched_at"])
        return partner.jwks_fetched_at is not None and (utcnow() - partner.jwks_fetched_at).total_seconds() <= ttl
    try:
        refresh_jwks(partner, timeout=current_app.config["PARTNER_RECEIPT_TIMEOUT_SECONDS"])
        db.session.commit()
    except (client.PartnerUnavailable, ApiError) as error:
        db.session.rollback()
        log.warning("partner %s: stale JWKS could not be refreshed: %s", partner.city_code,
                    getattr(error, "code", error))
        return False
    return True


def jwk_of(partner: Partner, kid: str) -> dict | None:
    for jwk in (partner.jwks or {}).get("keys", []) if isinstance(partner.jwks, dict) else []:
        if isinstance(jwk, dict) and jwk.get("kid") == kid:
            return jwk
    return None


def refresh_on_doubt(partner: Partner) -> bool:
    """Refetch the partner's JWKS because a token did not fit what we hold (an unknown kid, a key whose window
    changed); at most once per PARTNER_JWKS_REFRESH_MIN_SECONDS, so a forger cannot make us hammer them."""
    if not partner.jwks_url:
        return False
    throttle = current_app.config["PARTNER_JWKS_REFRESH_MIN_SECONDS"]
    if not kv.set(f"partners:jwks-refresh:{partner.city_code}", "1", nx=True, ex=max(throttle, 1)):
        return False
    try:
        refresh_jwks(partner, timeout=current_app.config["PARTNER_RECEIPT_TIMEOUT_SECONDS"])
        db.session.commit()
    except (client.PartnerUnavailable, ApiError) as error:
        db.session.rollback()
        log.warning("partner %s: JWKS refresh failed: %s", partner.city_code, getattr(error, "code", error))
        return False
    return True


def public_key(partner: Partner, kid: str):
    """The partner's public key for ``kid``; an unknown kid refetches their JWKS (throttled) before giving up."""
    key = jws.key_in(partner.jwks, kid)
    if key is not None or not refresh_on_doubt(partner):
        return key
    return jws.key_in(partner.jwks, kid)


# -- pairwise pseudonyms ----------------------------------------------------------------------------------

def pseudonym_key(partner: Partner) -> bytes:
    """This partner's pseudonym key, made on first use. Two first uses racing agree on one key: the write is
    conditional on there being none, and the loser reads the winner's."""
    if partner.pseudonym_key_cipher is None:
        fresh = base64.b64encode(secrets.token_bytes(32)).decode()
        db.session.execute(update(Partner).where(Partner.id == partner.id, Partner.pseudonym_key_cipher.is_(None))
                           .values(pseudonym_key_cipher=vault().encrypt(fresh, PSEUDONYM_KEY_PURPOSE))
                           .execution_options(synchronize_session=False))
        db.session.refresh(partner, ["pseudonym_key_cipher"])
    return base64.b64decode(vault().decrypt(partner.pseudonym_key_cipher, PSEUDONYM_KEY_PURPOSE))


def pseudonym(partner: Partner, citizen_ref: str) -> str:
    """The citizen as this partner knows them: HMAC-SHA256 under the partner's own key, so two partners comparing
    notes cannot link one person, and nobody without our key can find the person behind it."""
    digest = hmac.new(pseudonym_key(partner), b"xyf-partner-subject\x00" + citizen_ref.encode(), hashlib.sha256)
    return b64url(digest.digest())
