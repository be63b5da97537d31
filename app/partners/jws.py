"""Compact JWS with Ed25519 signatures: what partner cities exchange (attestations, API tokens), on joserfc.

joserfc does the JOSE work (serialisation, JWK import, signature checks). What stays here is our policy, kept
narrow on purpose: Ed25519 only (``EdDSA`` or its RFC 9864 name ``Ed25519``), a ``kid`` in every header, no
``crit`` and no embedded or remote keys (``jwk``, ``jku``, ``x5u``, ``x5c`` are refused), keys only from our
registry, and the refusal reasons our callers map to stable codes. No I/O here.
"""

from __future__ import annotations

import json
import re
import warnings

from joserfc import jws as jose_jws
from joserfc import jwt as jose_jwt
from joserfc.errors import BadSignatureError, JoseError, SecurityWarning
from joserfc.jwk import OKPKey

from app.security.signing import ALG, SigningKey

# We sign with "EdDSA" (RFC 8037, what every JOSE library of today verifies); RFC 9864 names the same algorithm
# on Ed25519 keys "Ed25519", which newer partners may send: both are accepted, nothing else. joserfc warns that
# "EdDSA" is deprecated by RFC 9864; it is still what partners verify, so the warning is expected here.
ACCEPTED_ALGS = [ALG, "Ed25519"]
warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)
MAX_LENGTH = 4096
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")
_KID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_FORBIDDEN_HEADERS = {"crit", "jwk", "jku", "x5u", "x5c", "b64"}


class JwsError(Exception):
    """``reason``: malformed (not a JWS we accept) or bad_signature."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sign(claims: dict, key: SigningKey, typ: str = "JWT") -> str:
    return jose_jwt.encode({"alg": ALG, "kid": key.kid, "typ": typ}, claims, key.jose_private(), algorithms=[ALG])


def looks_like_jws(token: str) -> bool:
    parts = token.split(".") if isinstance(token, str) else []
    return len(parts) == 3 and all(_SEGMENT.match(p) for p in parts)


def peek(token: str) -> tuple[dict, dict]:
    """(header, claims), decoded but not verified: enough to find the issuer and its key; JwsError if malformed."""
    if not isinstance(token, str) or len(token) > MAX_LENGTH or not looks_like_jws(token.strip()):
        raise JwsError("malformed")
    try:
        extracted = jose_jws.extract_compact(token.strip().encode("ascii"))
        header, claims = extracted.headers(), json.loads(extracted.payload)
    except (JoseError, ValueError, UnicodeDecodeError):
        raise JwsError("malformed") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JwsError("malformed")
    if header.get("alg") not in ACCEPTED_ALGS or _FORBIDDEN_HEADERS & set(header):
        raise JwsError("malformed")
    if not isinstance(header.get("kid"), str) or not _KID.match(header["kid"]):
        raise JwsError("malformed")
    return header, claims


def verify(token: str, public: OKPKey) -> bool:
    """True when ``token`` (already accepted by :func:`peek`) carries a valid signature by ``public``."""
    try:
        jose_jws.deserialize_compact(token.strip(), public, algorithms=ACCEPTED_ALGS)
    except BadSignatureError:
        return False
    except (JoseError, ValueError):
        return False
    return True


def verify_raw(public: OKPKey, data: bytes, signature: bytes) -> bool:
    """An Ed25519 signature over bytes of our own format (a partner's XYF1 credit code is not a JWS)."""
    from cryptography.exceptions import InvalidSignature

    try:
        public.public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def public_key_from_jwk(jwk: dict) -> OKPKey | None:
    """The Ed25519 key of a JWK, or None when the JWK is not a usable public Ed25519 signing key."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        return None
    if jwk.get("use", "sig") != "sig" or jwk.get("alg", ALG) not in ACCEPTED_ALGS or "d" in jwk:
        return None
    try:
        key = OKPKey.import_key({name: jwk[name] for name in ("kty", "crv", "x") if name in jwk})
    except (JoseError, ValueError, TypeError):
        return None
    return key if len(key.public_key.public_bytes_raw()) == 32 else None


def validate_jwks(jwks) -> list[str]:
    """The kids of a JWK Set we can use; ValueError when it is not a JWK Set of public Ed25519 keys."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise ValueError("JWKS 应为 {\"keys\": [...]}。")
    kids = []
    for jwk in jwks["keys"]:
        if isinstance(jwk, dict) and "d" in jwk:
            raise ValueError("JWKS 中不能含有私钥（d）。")
        if public_key_from_jwk(jwk) is not None and isinstance(jwk.get("kid"), str) and _KID.match(jwk["kid"]):
            kids.append(jwk["kid"])
    if not kids:
        raise ValueError("JWKS 中没有可用的 Ed25519 签名公钥（kty OKP, crv Ed25519, 带 kid）。")
    return kids


def key_in(jwks: dict | None, kid: str) -> OKPKey | None:
    for jwk in (jwks or {}).get("keys", []) if isinstance(jwks, dict) else []:
        if isinstance(jwk, dict) and jwk.get("kid") == kid:
            return public_key_from_jwk(jwk)
    return None
