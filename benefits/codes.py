"""The credit code (扫码亮信) token: format, signing and offline-checkable verification.

    XYF1.<kid>.<payload>.<signature>

* ``XYF1``: type prefix and format version, so a scanner can route the string (like a payment code's prefix);
* ``kid``: which of the issuer's keys signed it (see ``/.well-known/jwks.json``);
* ``payload``: base64url (no padding) of 38 bytes, big-endian::

      version u8 (=1) | code id 12 bytes | subject 12 bytes | level u8 | issuer city u32 | iat u32 | exp u32

  the code id is random (single use), the subject a keyed pseudonym of the citizen (stable, so limits
  apply; it reveals nothing without our key), the level 0–5, the issuer city its division code (330600),
  iat/exp Unix seconds. No ID number, name or raw score;
* ``signature``: base64url of the Ed25519 signature over the ASCII bytes ``XYF1.<kid>.<payload>``.

A binary payload keeps the whole code at ~150 characters, a QR code of version 7–8 at error correction M,
which phones scan at a glance; a JSON/JWS form would not fit version 10. This module does no I/O: the caller
passes a key lookup and the time, so the same code runs offline (see docs/offline-verification.md).
"""

from __future__ import annotations

import re
import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from app.security.signing import b64url, b64url_decode

PREFIX = "XYF1"
FORMAT_VERSION = 1
_PAYLOAD = struct.Struct(">B12s12sBIII")
_KID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
MAX_LENGTH = 200
SIGNATURE_BYTES = 64


class CodeRefused(Exception):
    """The code cannot be accepted; ``reason`` is one of malformed, unknown_key, bad_signature, expired."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CodeClaims:
    code_id: str  # base64url of 12 random bytes
    subject: str  # base64url of 12 bytes
    level: int
    issuer: str  # city division code, e.g. "330600"
    issued_at: int
    expires_at: int
    kid: str


def new_code_id() -> bytes:
    return secrets.token_bytes(12)


def encode(*, kid: str, sign: Callable[[bytes], bytes], code_id: bytes, subject: bytes, level: int, issuer: str,
           issued_at: int, expires_at: int) -> str:
    payload = _PAYLOAD.pack(FORMAT_VERSION, code_id, subject, level, int(issuer), issued_at, expires_at)
    signing_input = f"{PREFIX}.{kid}.{b64url(payload)}"
    return f"{signing_input}.{b64url(sign(signing_input.encode('ascii')))}"


def parse(token: str) -> tuple[CodeClaims, bytes, bytes]:
    """Split and decode without checking the signature: (claims, signing input, signature)."""
    if not isinstance(token, str) or len(token) > MAX_LENGTH:
        raise CodeRefused("malformed")
    return _parse(token)


# A scan parses its code twice (routing ours from a partner city's, then checking it); the claims are frozen, so
# the second parse can be the first's answer. Failures are not cached (they raise).
@lru_cache(maxsize=64)
def _parse(token: str) -> tuple[CodeClaims, bytes, bytes]:
    parts = token.strip().split(".")
    if len(parts) != 4 or parts[0] != PREFIX or not _KID.match(parts[1]):
        raise CodeRefused("malformed")
    try:
        payload, signature = b64url_decode(parts[2]), b64url_decode(parts[3])
    except ValueError:
        raise CodeRefused("malformed") from None
    if len(payload) != _PAYLOAD.size or len(signature) != SIGNATURE_BYTES:
        raise CodeRefused("malformed")
    version, code_id, subject, level, issuer, issued_at, expires_at = _PAYLOAD.unpack(payload)
    if version != FORMAT_VERSION or level > 5 or expires_at <= issued_at:
        raise CodeRefused("malformed")
    claims = CodeClaims(b64url(code_id), b64url(subject), level, f"{issuer:06d}", issued_at, expires_at, parts[1])
    return claims, ".".join(parts[:3]).encode("ascii"), signature


def verify(token: str, key_for: Callable[[CodeClaims], object | None], now: float, leeway: int = 0) -> CodeClaims:
    """Check format, key, signature and expiry, in that order; raise :class:`CodeRefused` with the reason.

    ``key_for(claims)`` returns an object with ``verify(signature, data) -> bool`` (a signing key), or None
    when the issuer/kid pair is not known.
    """
    claims, signing_input, signature = parse(token)
    key = key_for(claims)
    if key is None:
        raise CodeRefused("unknown_key")
    if not key.verify(signature, signing_input):
        raise CodeRefused("bad_signature")
    if now > claims.expires_at + leeway:
        raise CodeRefused("expired")
    return claims
