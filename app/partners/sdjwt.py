"""SD-JWT VC (RFC 9901 Selective Disclosure for JWTs + draft-ietf-oauth-sd-jwt-vc): issuing and checking.

Written here on top of joserfc rather than taken from a library: PyPI ``sd-jwt`` 0.10.4 (2024) predates RFC 9901,
its verifier checks no ``exp`` and cannot verify EdDSA key-binding JWTs; the other PyPI packages that mention
SD-JWT VC are young single-author toolkits (wallets, OpenID4VP) far larger than the ~100 lines the format needs.
joserfc does the JWS (``alg: Ed25519``, RFC 9864); this module does the disclosures:

* a disclosure is ``base64url(JSON [salt, claim name, value])``, the salt 128 random bits;
* the issuer-signed JWT lists ``base64url(SHA-256(disclosure))`` in ``_sd`` (sorted, with decoy digests so
  their number says nothing), with ``_sd_alg: sha-256``;
* the SD-JWT is ``<issuer-signed JWT>~<disclosure>~…~`` (no key binding: our attestation is a bearer token like
  the compact JWS it replaces; a verifier refuses a key-binding JWT it was not asked to check).

The checks a verifier makes (:func:`verify`): the header (``typ: dc+sd-jwt``, an Ed25519 ``alg``, a ``kid``,
nothing that brings its own key), the signature, ``_sd_alg``, and every disclosure: well-formed, its digest in
``_sd`` exactly once, no claim name twice. ``exp``/``nbf``/``status`` are the caller's (app/partners/inbound.py).
The npm ``@sd-jwt/sd-jwt-vc`` library checks our output independently in the tests (tests/node/).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets

from joserfc import jws as jose_jws
from joserfc import jwt as jose_jwt
from joserfc.errors import JoseError

from app.security.signing import SigningKey, b64url, b64url_decode

TYP = "dc+sd-jwt"
JWS_ALG = "Ed25519"  # RFC 9864, fully specified; "EdDSA" is accepted inbound
ACCEPTED_ALGS = ("Ed25519", "EdDSA")
SD_ALG = "sha-256"
# The city credit level credential type (the vct): a URN, since we publish no type metadata document.
VCT = "urn:xinyongfen:vct:city-credit-level:1"
DECOYS = 2
MAX_LENGTH = 8192
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")
_KID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_FORBIDDEN_HEADERS = {"crit", "jwk", "jku", "x5u", "x5c", "b64"}
_RESERVED = {"_sd", "_sd_alg", "...", "iss", "iat", "nbf", "exp", "cnf", "vct", "status", "sub", "aud", "jti"}


class SdJwtError(Exception):
    """``reason``: malformed, bad_signature or bad_disclosure."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _digest(disclosure: str) -> str:
    return b64url(hashlib.sha256(disclosure.encode("ascii")).digest())


def make_disclosure(name: str, value) -> str:
    salt = b64url(secrets.token_bytes(16))
    return b64url(json.dumps([salt, name, value], ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def issue(claims: dict, selective: dict, key: SigningKey) -> tuple[str, dict[str, str]]:
    """(issuer-signed JWT, {claim name: disclosure}): ``claims`` always visible, ``selective`` disclosable."""
    disclosures = {name: make_disclosure(name, value) for name, value in selective.items()}
    digests = [_digest(d) for d in disclosures.values()]
    digests += [b64url(hashlib.sha256(secrets.token_bytes(32)).digest()) for _ in range(DECOYS)]
    payload = {**claims, "_sd": sorted(digests), "_sd_alg": SD_ALG}
    header = {"alg": JWS_ALG, "kid": key.kid, "typ": TYP}
    return jose_jwt.encode(header, payload, key.jose_private(), algorithms=[JWS_ALG]), disclosures


def present(issuer_jwt: str, disclosures) -> str:
    return issuer_jwt + "~" + "".join(f"{d}~" for d in disclosures)


def looks_like_sd_jwt(token: str) -> bool:
    if not isinstance(token, str) or "~" not in token:
        return False
    first = token.strip().split("~", 1)[0].split(".")
    return len(first) == 3 and all(_SEGMENT.match(p) for p in first)


def split(token: str) -> tuple[str, list[str]]:
    """(issuer-signed JWT, disclosures); SdJwtError("malformed") for anything else, a key-binding JWT included."""
    if not isinstance(token, str) or len(token) > MAX_LENGTH or not looks_like_sd_jwt(token):
        raise SdJwtError("malformed")
    parts = token.strip().split("~")
    if parts[-1] != "":  # a key-binding JWT: our attestations carry no cnf to check it against
        raise SdJwtError("malformed")
    disclosures = parts[1:-1]
    if any(not d or not _SEGMENT.match(d) for d in disclosures):
        raise SdJwtError("malformed")
    return parts[0], disclosures


def peek(token: str) -> tuple[dict, dict]:
    """(header, payload) of the issuer-signed JWT, not verified: enough to find the issuer and its key."""
    issuer_jwt, _ = split(token)
    try:
        extracted = jose_jws.extract_compact(issuer_jwt.encode("ascii"))
        header, payload = extracted.headers(), json.loads(extracted.payload)
    except (JoseError, ValueError, UnicodeDecodeError):
        raise SdJwtError("malformed") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise SdJwtError("malformed")
    if (header.get("typ") != TYP or header.get("alg") not in ACCEPTED_ALGS or _FORBIDDEN_HEADERS & set(header)
            or not isinstance(header.get("kid"), str) or not _KID.match(header["kid"])):
        raise SdJwtError("malformed")
    return header, payload


def _disclosed(disclosure: str) -> tuple[str, object]:
    try:
        decoded = json.loads(b64url_decode(disclosure).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise SdJwtError("bad_disclosure") from None
    if (not isinstance(decoded, list) or len(decoded) != 3 or not isinstance(decoded[0], str)
            or not isinstance(decoded[1], str) or decoded[1] in _RESERVED):
        raise SdJwtError("bad_disclosure")
    return decoded[1], decoded[2]


def verify(token: str, public) -> tuple[dict, dict, list[str]]:
    """Check signature and disclosures; (header, claims with the disclosed ones, disclosed claim names)."""
    header, payload = peek(token)
    issuer_jwt, disclosures = split(token)
    try:
        jose_jws.deserialize_compact(issuer_jwt, public, algorithms=list(ACCEPTED_ALGS))
    except (JoseError, ValueError):
        raise SdJwtError("bad_signature") from None
    digests = payload.get("_sd", [])
    if payload.get("_sd_alg") != SD_ALG or not isinstance(digests, list) or len(set(digests)) != len(digests):
        raise SdJwtError("malformed")
    claims = {k: v for k, v in payload.items() if k not in ("_sd", "_sd_alg")}
    seen: set[str] = set()
    names = []
    for disclosure in disclosures:
        digest = _digest(disclosure)
        if digest not in digests or digest in seen:
            raise SdJwtError("bad_disclosure")
        seen.add(digest)
        name, value = _disclosed(disclosure)
        if name in claims:
            raise SdJwtError("bad_disclosure")
        claims[name] = value
        names.append(name)
    return header, claims, names
