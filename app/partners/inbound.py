"""A partner city's citizen at one of our merchants: their credit code or attestation, checked and mapped.

Two forms are accepted:

* the partner's own credit code (``XYF1.<kid>.<payload>.<sig>``, issuer ≠ our city): their citizen shows the code
  their mini-program made, exactly as at home; it names no audience and carries only the level;
* an attestation (compact JWS, ``EdDSA``) the partner issued for us: audience must be our city code, and it may
  carry the native score, which we map through the partner's cut-offs in our registry.

Checks, in order (the first that fails is the answer): format (``malformed``), the issuer (``partner_unknown``,
``partner_suspended``), the key (``unknown_key``; an unknown kid refetches their JWKS, throttled), the signature
(``bad_signature``), the audience (``wrong_audience``), the expiry (``expired``), the revocation list pulled from
the partner (``attestation_revoked``). An issuer not in our registry is ``partner_unknown`` for both kinds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import exists, select

from app.extensions import db
from app.partners import jws
from app.partners import service as registry
from app.partners.models import Partner, PulledRevocation
from app.security.signing import keyring
from benefits import codes
from score_model.partners import ScaleError

_SUBJECT = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_JTI = re.compile(r"^[A-Za-z0-9_-]{8,56}$")
_CITY = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class PartnerHolder:
    """What a merchant's verification learns of a partner city's citizen."""

    partner_id: int
    city_code: str
    city_name: str
    score_name: str
    kind: str  # attestation | credit_code
    jti: str
    subject: str
    level: int  # on our ladder
    expires_at: int

    @property
    def code_id(self) -> str:
        """The redemption's single-use key: the issuer's city in front, so no issuer can collide with another."""
        return f"{self.city_code}:{self.jti}"


def is_partner_token(token: str) -> bool:
    """True for an attestation, or a credit code whose issuer is not us (our own codes keep their own path)."""
    if not isinstance(token, str):
        return False
    token = token.strip()
    if jws.looks_like_jws(token):
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


def _credit_code(token: str, now: float) -> PartnerHolder:
    claims, signing_input, signature = codes.parse(token)
    partner = _partner(claims.issuer)
    public = registry.public_key(partner, claims.kid)
    if public is None:
        raise codes.CodeRefused("unknown_key")
    if not jws.verify_raw(public, signing_input, signature):
        raise codes.CodeRefused("bad_signature")
    if now > claims.expires_at:
        raise codes.CodeRefused("expired")
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
        public = registry.public_key(partner, header["kid"])
    if public is None:
        raise codes.CodeRefused("unknown_key")
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
    if db.session.scalar(select(exists().where(PulledRevocation.partner_id == partner.id,
                                               PulledRevocation.jti == jti))):
        raise codes.CodeRefused("attestation_revoked")
    level = _our_level(partner, level, claims.get("score"))
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
    return _attestation(token, now)
