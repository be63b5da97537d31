"""Compact JWS with Ed25519 signatures only: what partner cities exchange (attestations, API tokens).

Deliberately narrow: one algorithm, no ``crit``, no embedded keys (``jwk``, ``jku``, ``x5u`` are refused), keys
only from the registry. Any standard JOSE library produces and verifies the same tokens (tests check ours with
joserfc). No I/O here.
"""

from __future__ import annotations

import json
import re

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.security.signing import ALG, SigningKey, b64url, b64url_decode

# We sign with "EdDSA" (RFC 8037, what every JOSE library of today verifies); RFC 9864 names the same algorithm
# on Ed25519 keys "Ed25519", which newer partners may send: both are accepted, nothing else.
ACCEPTED_ALGS = frozenset({ALG, "Ed25519"})
MAX_LENGTH = 4096
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")
_KID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_FORBIDDEN_HEADERS = {"crit", "jwk", "jku", "x5u", "x5c", "b64"}


class JwsError(Exception):
    """``reason``: malformed (not a JWS we accept) or bad_signature."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _json_segment(data: dict) -> str:
    return b64url(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())


def sign(claims: dict, key: SigningKey, typ: str = "JWT") -> str:
    header = {"alg": ALG, "kid": key.kid, "typ": typ}
    signing_input = f"{_json_segment(header)}.{_json_segment(claims)}"
    return f"{signing_input}.{b64url(key.sign(signing_input.encode('ascii')))}"


def looks_like_jws(token: str) -> bool:
    parts = token.split(".") if isinstance(token, str) else []
    return len(parts) == 3 and all(_SEGMENT.match(p) for p in parts)


def parse(token: str) -> tuple[dict, dict, bytes, bytes]:
    """Split and decode without verifying: (header, claims, signing input, signature)."""
    if not isinstance(token, str) or len(token) > MAX_LENGTH or not looks_like_jws(token.strip()):
        raise JwsError("malformed")
    head, body, sig = token.strip().split(".")
    try:
        header = json.loads(b64url_decode(head))
        claims = json.loads(b64url_decode(body))
        signature = b64url_decode(sig)
    except (ValueError, UnicodeDecodeError):
        raise JwsError("malformed") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JwsError("malformed")
    if header.get("alg") not in ACCEPTED_ALGS or _FORBIDDEN_HEADERS & set(header):
        raise JwsError("malformed")
    if not isinstance(header.get("kid"), str) or not _KID.match(header["kid"]) or len(signature) != 64:
        raise JwsError("malformed")
    return header, claims, f"{head}.{body}".encode("ascii"), signature


def public_key_from_jwk(jwk: dict) -> Ed25519PublicKey | None:
    """The Ed25519 key of a JWK, or None when the JWK is not a usable Ed25519 signing key."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        return None
    if jwk.get("use", "sig") != "sig" or jwk.get("alg", ALG) not in ACCEPTED_ALGS or "d" in jwk:
        return None
    try:
        raw = b64url_decode(jwk.get("x", ""))
        return Ed25519PublicKey.from_public_bytes(raw) if len(raw) == 32 else None
    except (ValueError, TypeError):
        return None


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


def key_in(jwks: dict | None, kid: str) -> Ed25519PublicKey | None:
    for jwk in (jwks or {}).get("keys", []) if isinstance(jwks, dict) else []:
        if isinstance(jwk, dict) and jwk.get("kid") == kid:
            return public_key_from_jwk(jwk)
    return None


def verify_signature(public: Ed25519PublicKey, signing_input: bytes, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        public.verify(signature, signing_input)
    except InvalidSignature:
        return False
    return True
