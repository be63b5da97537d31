#!/usr/bin/env python3
"""Offline check of a 绍兴信用分 credit code (扫码亮信) on a merchant device: signature and expiry only.

    python docs/verify_credit_code_offline.py --jwks http://127.0.0.1:5000/.well-known/jwks.json 'XYF1.…'
    python docs/verify_credit_code_offline.py --jwks jwks.json 'XYF1.…'        # a JWKS saved earlier
    python docs/verify_credit_code_offline.py --self-test                      # no server needed

Needs one Ed25519 library: pyca/cryptography (``pip install cryptography``) or PyNaCl. Exit status 0 when the
code is genuine and unexpired, 1 otherwise (the reason is printed). Whether the code was already used, and
whether the holder qualifies for an offer, only the server knows: redeem with POST /merchant/v1/verifications.
See docs/offline-verification.md.
"""

from __future__ import annotations

import argparse
import base64
import json
import struct
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone

PREFIX = "XYF1"
PAYLOAD = struct.Struct(">B12s12sBIII")  # version, code id, subject, level, issuer city, iat, exp
LEVEL_NAMES = {5: "极好", 4: "优秀", 3: "良好", 2: "一般", 1: "待提高", 0: "受限"}
CITY_TZ = timezone(timedelta(hours=8))


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def ed25519_verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """True when the signature is valid; works with pyca/cryptography or PyNaCl, whichever is installed."""
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        from nacl.exceptions import BadSignatureError
        from nacl.signing import VerifyKey

        try:
            VerifyKey(public_key).verify(message, signature)
        except BadSignatureError:
            return False
        return True
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except InvalidSignature:
        return False
    return True


class KeyCache:
    """The issuer's JWKS, fetched once and again only when a code names a kid we have not seen (a rotation)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.keys = self._load()

    def _load(self) -> dict[str, bytes]:
        if self.source.startswith(("http://", "https://")):
            with urllib.request.urlopen(self.source, timeout=5) as response:
                jwks = json.load(response)
        else:
            with open(self.source, encoding="utf-8") as handle:
                jwks = json.load(handle)
        self.windows = {jwk["kid"]: (jwk.get("nbf"), jwk.get("exp")) for jwk in jwks["keys"]}
        return {jwk["kid"]: b64url_decode(jwk["x"]) for jwk in jwks["keys"]
                if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519"}

    def get(self, kid: str) -> bytes | None:
        if kid not in self.keys and self.source.startswith(("http://", "https://")):
            self.keys = self._load()
        return self.keys.get(kid)

    def window_allows(self, kid: str, issued_at: int, now: float, leeway: int) -> bool:
        """The key's validity window as the JWKS publishes it (nbf, exp): it signed nothing before nbf, and
        nothing it signed is valid after exp."""
        nbf, exp = self.windows.get(kid, (None, None))
        return not ((nbf is not None and issued_at < nbf - leeway)
                    or (exp is not None and (now > exp + leeway or issued_at > exp)))


def check(code: str, keys: KeyCache, now: float | None = None, leeway: int = 5) -> dict:
    """Return the code's claims, or raise ValueError(reason) with the same reasons the server uses."""
    parts = code.strip().split(".")
    if len(parts) != 4 or parts[0] != PREFIX:
        raise ValueError("malformed")
    _, kid, payload_b64, signature_b64 = parts
    try:
        payload, signature = b64url_decode(payload_b64), b64url_decode(signature_b64)
    except ValueError:
        raise ValueError("malformed") from None
    if len(payload) != PAYLOAD.size or len(signature) != 64:
        raise ValueError("malformed")
    version, code_id, subject, level, issuer, issued_at, expires_at = PAYLOAD.unpack(payload)
    if version != 1 or level > 5:
        raise ValueError("malformed")
    public_key = keys.get(kid)
    if public_key is None:
        raise ValueError("unknown_key")
    # The signature covers the prefix, the kid and the payload exactly as they appear in the code.
    if not ed25519_verify(public_key, signature, f"{PREFIX}.{kid}.{payload_b64}".encode("ascii")):
        raise ValueError("bad_signature")
    # A device clock may be a few seconds off; the server does not allow any leeway.
    now = now if now is not None else time.time()
    if now > expires_at + leeway:
        raise ValueError("expired")
    if not keys.window_allows(kid, issued_at, now, leeway):
        raise ValueError("unknown_key")  # signed outside the key's validity window
    return {"level": level, "level_name": LEVEL_NAMES[level], "issuer": f"{issuer:06d}", "kid": kid,
            "issued_at": datetime.fromtimestamp(issued_at, CITY_TZ).isoformat(),
            "expires_at": datetime.fromtimestamp(expires_at, CITY_TZ).isoformat(),
            "code_id": base64.urlsafe_b64encode(code_id).rstrip(b"=").decode()}


def self_test() -> int:
    """Make a key, a JWKS and a code the way the server does, and check them (needs pyca/cryptography)."""
    import os
    import tempfile

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    b64 = lambda data: base64.urlsafe_b64encode(data).rstrip(b"=").decode()  # noqa: E731
    jwks = {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": b64(raw), "kid": "selftest", "use": "sig",
                      "alg": "EdDSA"}]}
    now = int(time.time())
    payload = b64(PAYLOAD.pack(1, os.urandom(12), os.urandom(12), 3, 330600, now, now + 60))
    signing_input = f"{PREFIX}.selftest.{payload}"
    code = f"{signing_input}.{b64(private.sign(signing_input.encode()))}"
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(jwks, handle)
    keys = KeyCache(handle.name)
    os.unlink(handle.name)
    print("genuine:", check(code, keys))
    for name, bad in (("tampered", code[:-2] + ("AA" if not code.endswith("AA") else "BA")),
                      ("expired", None)):
        try:
            check(bad, keys) if bad else check(code, keys, now=now + 120)
        except ValueError as refusal:
            print(f"{name}: refused ({refusal})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("code", nargs="?", help="the scanned string, XYF1.…")
    parser.add_argument("--jwks", help="JWKS URL (…/.well-known/jwks.json) or a saved JWKS file")
    parser.add_argument("--self-test", action="store_true", help="check a code made on the spot")
    args = parser.parse_args(argv)
    if args.self_test:
        return self_test()
    if not args.code or not args.jwks:
        parser.error("give a code and --jwks (or --self-test)")
    try:
        claims = check(args.code, KeyCache(args.jwks))
    except ValueError as refusal:
        print(json.dumps({"valid": False, "reason": str(refusal)}, ensure_ascii=False))
        return 1
    print(json.dumps({"valid": True, **claims, "note": "单次使用须联网核销：POST /merchant/v1/verifications"},
                     ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
