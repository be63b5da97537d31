"""A partner city's citizen at one of our merchants: their credit code or attestation, checked and mapped.

Three forms are accepted:

* the partner's own credit code (``XYF1.<kid>.<payload>.<sig>``, issuer ≠ our city): their citizen shows the code
  their mini-program made, exactly as at home; it names no audience and carries only the level;
* an attestation the partner issued for us, as an SD-JWT VC (``typ: dc+sd-jwt``, app/partners/sdjwt.py) or, until
  PARTNER_LEGACY_JWS_UNTIL, as the compact JWS (``EdDSA``) of xyf-partner/1: audience must be our city code, and
  it may carry the native score, which we map through the partner's cut-offs in our registry.

Before any key is used, a partner's fetched JWKS older than PARTNER_JWKS_TTL_SECONDS is refetched, and the token
refused when that fails (``partner_keys_stale``); a JWK's window (``nbf``/``exp``) must hold the token's ``iat``
and now (``key_out_of_window``). An SD-JWT VC also has its disclosures checked (``bad_disclosure``), its ``nbf``,
and its entry in the partner's Token Status List (``attestation_revoked``; ``status_unavailable`` when the list
can be neither fetched nor found in the cache within its ``ttl``).

Checks, in order (the first that fails is the answer): format (``malformed``), the issuer (``partner_unknown``,
``partner_suspended``), the key (``unknown_key``; an unknown kid refetches their JWKS, throttled), the signature
(``bad_signature``), the audience (``wrong_audience``), the expiry (``expired``), the revocation list pulled from
the partner (``attestation_revoked``). An issuer not in our registry is ``partner_unknown`` for both kinds.

Benefits, below us, calls these through the checker registered in ``benefits.visitors`` and gets a
``benefits.visitors.PartnerHolder`` back.
"""

from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import exists, select

from app.extensions import db
from app.partners import client, jws, sdjwt, status_list
from app.partners import service as registry
from app.partners.attestations import legacy_jws_allowed
from app.partners.models import Partner, PulledRevocation
from app.security.key_windows import jwk_window_allows
from app.security.signing import keyring
from benefits import codes, visitors
from benefits.visitors import PartnerHolder
from score_model.partners import ScaleError

_SUBJECT = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_JTI = re.compile(r"^[A-Za-z0-9_-]{8,56}$")
_CITY = re.compile(r"^\d{6}$")


def is_partner_token(token: str) -> bool:
    """True for an attestation, or a credit code whose issuer is not us (our own codes keep their own path)."""
    if not isinstance(token, str):
        return False
    token = token.strip()
    if jws.looks_like_jws(token) or sdjwt.looks_like_sd_jwt(token):
        return True
    if token.startswith(codes.PREFIX + "."):
        try:
            claims, _, _ = codes.parse(token)
        except codes.CodeRefused:
            return False
        return claims.issuer != current_app.config["CITY_CODE"]
    return False


def _partner(city_code: str) -> Partner:
    partner = registry.find_partner(city_code)
    if partner is None:
        raise codes.CodeRefused("partner_unknown")
    if partner.status != "active":
        raise codes.CodeRefused("partner_suspended")
    return partner


def _partner_key(partner: Partner, kid: str):
    """The partner's public key ``kid`` from a trust list younger than its ttl; CodeRefused otherwise."""
    if not registry.jwks_fresh(partner):
        raise codes.CodeRefused("partner_keys_stale")
    public = registry.public_key(partner, kid)
    if public is None:
        raise codes.CodeRefused("unknown_key")
    return public


def _check_window(partner: Partner, kid: str, issued_at, now: float) -> None:
    """The key's published window (JWK ``nbf``/``exp``) must hold the token's ``iat`` and now; checked after the
    expiry, so an expired token says so rather than blaming its key."""
    issued = issued_at if _int(issued_at) else 0
    leeway = current_app.config["PARTNER_CLOCK_LEEWAY_SECONDS"]
    if jwk_window_allows(registry.jwk_of(partner, kid) or {}, issued, now, leeway):
        return
    # The partner may have switched keys early (an emergency rotation moves the new key's nbf): ask once more.
    if not (registry.refresh_on_doubt(partner)
            and jwk_window_allows(registry.jwk_of(partner, kid) or {}, issued, now, leeway)):
        raise codes.CodeRefused("key_out_of_window")


def _credit_code(token: str, now: float) -> PartnerHolder:
    claims, signing_input, signature = codes.parse(token)
    partner = _partner(claims.issuer)
    public = _partner_key(partner, claims.kid)
    if not jws.verify_raw(public, signing_input, signature):
        raise codes.CodeRefused("bad_signature")
    if now > claims.expires_at:
        raise codes.CodeRefused("expired")
    _check_window(partner, claims.kid, claims.issued_at, now)
    return PartnerHolder(partner.id, partner.city_code, partner.city_name, partner.score_name, "credit_code",
                         claims.code_id, claims.subject, claims.level, claims.expires_at)


def _attestation(token: str, now: float) -> PartnerHolder:
    try:
        header, claims = jws.peek(token)
    except jws.JwsError as error:
        raise codes.CodeRefused(error.reason) from None
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not _CITY.match(issuer):
        raise codes.CodeRefused("malformed")
    own = current_app.config["CITY_CODE"]
    partner = None
    if issuer == own:  # one of ours, shown here instead of in the city it was made for
        key = keyring().get(header["kid"])
        public = key.jose_public() if key else None
    else:
        partner = _partner(issuer)
        public = _partner_key(partner, header["kid"])
    if public is None:
        raise codes.CodeRefused("unknown_key")
    if not legacy_jws_allowed():
        raise codes.CodeRefused("legacy_format_retired")
    if not jws.verify(token, public):
        raise codes.CodeRefused("bad_signature")
    audience = claims.get("aud")
    if not (audience == own or (isinstance(audience, list) and own in audience)) or partner is None:
        raise codes.CodeRefused("wrong_audience")
    subject, jti, level, expires_at = claims.get("sub"), claims.get("jti"), claims.get("lvl"), claims.get("exp")
    if (not isinstance(subject, str) or not _SUBJECT.match(subject) or not isinstance(jti, str)
            or not _JTI.match(jti) or any(isinstance(v, bool) or not isinstance(v, int) for v in (level, expires_at))
            or not 0 <= level <= 5):
        raise codes.CodeRefused("malformed")
    if now > expires_at + current_app.config["PARTNER_CLOCK_LEEWAY_SECONDS"]:
        raise codes.CodeRefused("expired")
    _check_window(partner, header["kid"], claims.get("iat"), now)
    if db.session.scalar(select(exists().where(PulledRevocation.partner_id == partner.id,
                                               PulledRevocation.jti == jti))):
        raise codes.CodeRefused("attestation_revoked")
    level = _our_level(partner, level, claims.get("score"))
    return PartnerHolder(partner.id, partner.city_code, partner.city_name, partner.score_name, "attestation", jti,
                         subject, level, expires_at)


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _status(partner: Partner, claims: dict, now: float) -> None:
    """The attestation's entry in the partner's Token Status List: refused unless VALID (0)."""
    reference = claims.get("status", {}).get("status_list") if isinstance(claims.get("status"), dict) else None
    if not isinstance(reference, dict) or not _int(reference.get("idx")) or not isinstance(reference.get("uri"), str):
        raise codes.CodeRefused("malformed")
    uri, index = reference["uri"], reference["idx"]
    # Only lists under the partner's registered API address: a token must not make us fetch any URL it names.
    base = (partner.api_base_url or "").rstrip("/")
    if not base or not uri.startswith(base + "/status-lists/"):
        raise codes.CodeRefused("status_unavailable")
    leeway = current_app.config["PARTNER_CLOCK_LEEWAY_SECONDS"]

    def key_for(kid, issued_at):
        if not isinstance(kid, str):
            return None
        public = registry.public_key(partner, kid)
        jwk = registry.jwk_of(partner, kid) or {}
        return public if public is not None and jwk_window_allows(jwk, issued_at, now, leeway) else None

    def fetch(url):
        try:
            return client.fetch_status_list(url, current_app.config["PARTNER_RECEIPT_TIMEOUT_SECONDS"])
        except client.PartnerUnavailable:
            raise status_list.StatusListError("unreachable") from None

    try:
        status = status_list.partner_status(uri, index, fetch, key_for, now, leeway)
    except status_list.StatusListError:
        raise codes.CodeRefused("status_unavailable") from None
    if status != status_list.VALID:
        raise codes.CodeRefused("attestation_revoked")


def _sd_jwt_vc(token: str, now: float) -> PartnerHolder:
    try:
        header, payload = sdjwt.peek(token)
    except sdjwt.SdJwtError as error:
        raise codes.CodeRefused(error.reason) from None
    issuer, issued_at = payload.get("iss"), payload.get("iat")
    if not isinstance(issuer, str) or not _CITY.match(issuer) or not _int(issued_at):
        raise codes.CodeRefused("malformed")
    own = current_app.config["CITY_CODE"]
    if issuer == own:  # one of ours, shown here instead of in the city it was made for
        raise codes.CodeRefused("wrong_audience")
    partner = _partner(issuer)
    public = _partner_key(partner, header["kid"])
    try:
        _, claims, _ = sdjwt.verify(token, public)
    except sdjwt.SdJwtError as error:
        raise codes.CodeRefused(error.reason) from None
    audience = claims.get("aud")
    if not (audience == own or (isinstance(audience, list) and own in audience)):
        raise codes.CodeRefused("wrong_audience")
    subject, jti, level, expires_at = claims.get("sub"), claims.get("jti"), claims.get("level"), claims.get("exp")
    not_before = claims.get("nbf", issued_at)
    if (claims.get("vct") != sdjwt.VCT or not isinstance(subject, str) or not _SUBJECT.match(subject)
            or not isinstance(jti, str) or not _JTI.match(jti) or not all(map(_int, (level, expires_at, not_before)))
            or not 0 <= level <= 5):
        raise codes.CodeRefused("malformed")
    leeway = current_app.config["PARTNER_CLOCK_LEEWAY_SECONDS"]
    if now > expires_at + leeway:
        raise codes.CodeRefused("expired")
    if now < not_before - leeway:
        raise codes.CodeRefused("malformed")
    _check_window(partner, header["kid"], issued_at, now)
    _status(partner, claims, now)
    if db.session.scalar(select(exists().where(PulledRevocation.partner_id == partner.id,
                                               PulledRevocation.jti == jti))):
        raise codes.CodeRefused("attestation_revoked")
    score = claims.get("score")
    if score is not None and not _int(score):
        raise codes.CodeRefused("malformed")
    level = _our_level(partner, level, score)
    return PartnerHolder(partner.id, partner.city_code, partner.city_name, partner.score_name, "attestation", jti,
                         subject, level, expires_at)


def _our_level(partner: Partner, level: int, native_score) -> int:
    """Our ladder's level: L0 is the home city's word whatever the points; otherwise the native score through the
    partner's cut-offs in our registry when both are there, else the level the token states."""
    if level == 0 or native_score is None:
        return level
    scale = registry.scale_of(partner)
    if scale is None:
        return level
    try:
        return scale.level_for(native_score)
    except ScaleError:
        raise codes.CodeRefused("malformed") from None


def verify_token(token: str, now: float) -> PartnerHolder:
    """Check a partner city's token; raises :class:`benefits.codes.CodeRefused` with the reason."""
    token = token.strip()
    if token.startswith(codes.PREFIX + "."):
        return _credit_code(token, now)
    if sdjwt.looks_like_sd_jwt(token):
        return _sd_jwt_vc(token, now)
    return _attestation(token, now)


# benefits.verification knows partner cities only through this (registered when this module is imported).
visitors.register_checker(is_partner_token, verify_token)
