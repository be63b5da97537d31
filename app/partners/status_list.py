"""Token Status Lists (draft-ietf-oauth-status-list) for the SD-JWT VC attestations we issue, and reading a
partner's.

A list is a bit array, one status per attestation (``bits: 1``: 0 VALID, 1 INVALID; we never suspend, so the
2-bit form with SUSPENDED is not used), the bits of each byte filled least significant first, compressed with
zlib (DEFLATE, RFC 1950) and base64url-encoded into ``lst``. It is served as a signed JWT (``typ:
statuslist+jwt``, ``sub`` its own URI, ``iat``, ``exp``, ``ttl``) at ``/partner/v1/status-lists/<n>``, built
from the attestations table at each request: revoking an attestation (the revocation feed's row) is what flips
its bit, so the list and the feed can never disagree.

Indices come from :class:`StatusList.next_index`, advanced by one conditional UPDATE, and the pair
(list, index) is unique on the attestation: an index is never given twice, so a revoked index never comes back
as valid for somebody else. Large lists (``STATUS_LIST_SIZE``, 131072 by default) give holders herd privacy: the
list fetch tells the issuer nothing about which attestation is being checked.
"""

from __future__ import annotations

import hashlib
import json
import time
import zlib

from flask import current_app, request
from joserfc import jws as jose_jws
from joserfc import jwt as jose_jwt
from joserfc.errors import JoseError
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db, kv
from app.partners.models import Attestation, StatusList
from app.security.signing import b64url, b64url_decode, keyring
from app.timeutil import utcnow

TYP = "statuslist+jwt"
JWS_ALG = "Ed25519"  # RFC 9864
VALID, INVALID = 0, 1
MAX_TOKEN_LENGTH = 2_000_000


class StatusListError(Exception):
    pass


# -- the encoding -------------------------------------------------------------------------------------------

def encode_lst(statuses: bytes | bytearray) -> str:
    return b64url(zlib.compress(bytes(statuses), 9))


def decode_lst(lst: str, max_bytes: int = 16 * 1024 * 1024) -> bytes:
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(b64url_decode(lst), max_bytes)
    except (ValueError, zlib.error):
        raise StatusListError("lst is not base64url zlib data") from None
    if inflater.unconsumed_tail:
        raise StatusListError("status list too large")
    return raw


def pack(indices_with_status: dict[int, int], size: int, bits: int = 1) -> bytearray:
    """The byte array of a list of ``size`` entries, ``bits`` per entry, least significant bits first."""
    per_byte = 8 // bits
    data = bytearray(-(-size // per_byte))
    for index, status in indices_with_status.items():
        data[index // per_byte] |= (status & ((1 << bits) - 1)) << ((index % per_byte) * bits)
    return data


def status_at(raw: bytes, index: int, bits: int = 1) -> int:
    per_byte = 8 // bits
    if index < 0 or index // per_byte >= len(raw):
        raise StatusListError("index outside the list")
    return (raw[index // per_byte] >> ((index % per_byte) * bits)) & ((1 << bits) - 1)


# -- our lists ------------------------------------------------------------------------------------------------

def public_root() -> str:
    configured = current_app.config["PUBLIC_BASE_URL"]
    return (configured or request.url_root).rstrip("/")


def uri_of(list_id: int) -> str:
    return f"{public_root()}/partner/v1/status-lists/{list_id}"


_L = StatusList.__table__


def allocate() -> tuple[int, int]:
    """(list, index) for a new attestation, in the caller's transaction; concurrent callers never share one."""
    size = current_app.config["STATUS_LIST_SIZE"]
    for _ in range(5):
        open_list = db.session.scalar(select(func.max(_L.c.id)))
        if open_list is not None:
            taken = db.session.execute(
                update(_L).where(_L.c.id == open_list, _L.c.next_index < _L.c.size)
                .values(next_index=_L.c.next_index + 1).returning(_L.c.next_index)).scalar()
            if taken is not None:
                return open_list, taken - 1
        try:
            with db.session.begin_nested():  # a new list; a racing worker may create the same number first
                db.session.execute(insert(_L).values(id=(open_list or 0) + 1, bits=1, size=size, next_index=0,
                                                     created_at=utcnow()))
        except IntegrityError:
            continue
    raise RuntimeError("could not allocate a status list index")


def token_for(list_id: int, now: float | None = None) -> str | None:
    """The signed Token Status List ``list_id``, or None when there is no such list."""
    row = db.session.execute(select(_L.c.size, _L.c.bits).where(_L.c.id == list_id)).first()
    if row is None:
        return None
    revoked = db.session.scalars(select(Attestation.status_idx).where(
        Attestation.status_list_id == list_id, Attestation.revoked_at.is_not(None)))
    lst = encode_lst(pack(dict.fromkeys(revoked, INVALID), row.size, row.bits))
    config = current_app.config
    issued = int(now if now is not None else time.time())
    claims = {"iss": config["CITY_CODE"], "sub": uri_of(list_id), "iat": issued,
              "exp": issued + config["STATUS_LIST_EXP_SECONDS"], "ttl": config["STATUS_LIST_TTL_SECONDS"],
              "status_list": {"bits": row.bits, "lst": lst}}
    key = keyring().current()
    return jose_jwt.encode({"alg": JWS_ALG, "kid": key.kid, "typ": TYP}, claims, key.jose_private(),
                           algorithms=[JWS_ALG])


# -- a partner's lists ------------------------------------------------------------------------------------------

def read_token(token: str, uri: str, key_for, now: float, leeway: int = 0) -> tuple[dict, bytes]:
    """Check a fetched status list token (type, key, signature, subject, expiry); its claims and the bit array.

    ``key_for(kid, iat)`` gives the issuer's public key (joserfc OKPKey) or None."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise StatusListError("not a status list token")
    try:
        extracted = jose_jws.extract_compact(token.strip().encode("ascii"))
        header, claims = extracted.headers(), json.loads(extracted.payload)
    except (JoseError, ValueError, UnicodeError):
        raise StatusListError("not a status list token") from None
    if not isinstance(claims, dict) or header.get("typ") != TYP or header.get("alg") not in ("Ed25519", "EdDSA"):
        raise StatusListError("not a status list token")
    issued_at = claims.get("iat")
    if not isinstance(issued_at, int) or isinstance(issued_at, bool):
        raise StatusListError("status list without iat")
    key = key_for(header.get("kid"), issued_at)
    if key is None:
        raise StatusListError("status list signed by an unknown key")
    try:
        jose_jws.deserialize_compact(token.strip(), key, algorithms=["Ed25519", "EdDSA"])
    except (JoseError, ValueError):
        raise StatusListError("status list signature does not verify") from None
    if claims.get("sub") != uri:
        raise StatusListError("status list is not the one referenced")
    expires = claims.get("exp")
    if isinstance(expires, int) and now > expires + leeway:
        raise StatusListError("status list expired")
    body = claims.get("status_list")
    if not isinstance(body, dict) or body.get("bits") not in (1, 2, 4, 8) or not isinstance(body.get("lst"), str):
        raise StatusListError("status list body malformed")
    return claims, decode_lst(body["lst"])


def _cache_key(uri: str) -> str:
    return "partners:status-list:" + hashlib.sha256(uri.encode()).hexdigest()[:32]


def partner_status(uri: str, index: int, fetch, key_for, now: float, leeway: int = 0) -> int:
    """The status of entry ``index`` of a partner's list at ``uri``: from the cache while its ``ttl`` lasts,
    else fetched (``fetch(uri) -> token``) and checked. Raises StatusListError when it cannot be known."""
    cached = kv.get(_cache_key(uri))
    token = cached.decode() if isinstance(cached, bytes) else cached
    if token:
        try:
            claims, raw = read_token(token, uri, key_for, now, leeway)
            return status_at(raw, index, claims["status_list"]["bits"])
        except StatusListError:
            kv.delete(_cache_key(uri))
    token = fetch(uri)
    claims, raw = read_token(token, uri, key_for, now, leeway)
    ttl = claims.get("ttl")
    expires = claims.get("exp")
    keep = min(v for v in (ttl if isinstance(ttl, int) and ttl > 0 else 0,
                           (expires - int(now)) if isinstance(expires, int) else 10**9, 3600))
    if keep > 0:
        kv.set(_cache_key(uri), token, ex=keep)
    return status_at(raw, index, claims["status_list"]["bits"])
