"""The credit code's format: what it carries, what it must not, and that it fits a small QR symbol."""

from __future__ import annotations

import struct

import pytest
import qrcode
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.security.signing import b64url_decode
from benefits import codes, qr


class _Key:
    def __init__(self) -> None:
        self.private = Ed25519PrivateKey.generate()

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            self.private.public_key().verify(signature, data)
        except Exception:  # noqa: BLE001
            return False
        return True


@pytest.fixture
def key():
    return _Key()


def _code(key, **overrides):
    fields = {"kid": "k1k2k3k4", "sign": key.private.sign, "code_id": b"\x01" * 12, "subject": b"\x02" * 12,
              "level": 4, "issuer": "330600", "issued_at": 1_800_000_000, "expires_at": 1_800_000_060}
    fields.update(overrides)
    return codes.encode(**fields)


def test_round_trip_carries_exactly_the_claims(key):
    token = _code(key)
    claims = codes.verify(token, lambda c: key if c.kid == "k1k2k3k4" else None, now=1_800_000_030)
    assert (claims.level, claims.issuer, claims.issued_at, claims.expires_at, claims.kid) == (
        4, "330600", 1_800_000_000, 1_800_000_060, "k1k2k3k4")
    assert b64url_decode(claims.code_id) == b"\x01" * 12 and b64url_decode(claims.subject) == b"\x02" * 12
    prefix, kid, payload, _ = token.split(".")
    assert prefix == "XYF1" and kid == "k1k2k3k4"
    # Nothing else hides in the payload: version, id, subject, level, city, iat, exp.
    assert len(b64url_decode(payload)) == struct.calcsize(">B12s12sBIII") == 38


def test_code_fits_qr_version_10_or_less_with_room_to_spare(key):
    token = _code(key, kid="AbCdEfGh", level=5, issuer="330600")
    assert len(token) <= 160
    symbol = qrcode.QRCode(error_correction=qr.ERROR_CORRECTION)
    symbol.add_data(token)
    assert symbol.best_fit() <= 10
    assert qr.qr_version(token) <= 8


def test_checks_run_in_order_format_key_signature_expiry(key):
    token = _code(key)
    verify = lambda t, now=1_800_000_030, lookup=lambda c: key: codes.verify(t, lookup, now)  # noqa: E731
    for bad, reason in [
        ("XYF1.k1k2k3k4." + token.split(".")[2], "malformed"),
        (token.replace("XYF1", "XYF9", 1), "malformed"),
    ]:
        with pytest.raises(codes.CodeRefused) as refused:
            verify(bad)
        assert refused.value.reason == reason
    with pytest.raises(codes.CodeRefused) as refused:
        verify(token, lookup=lambda c: None)
    assert refused.value.reason == "unknown_key"
    with pytest.raises(codes.CodeRefused) as refused:
        verify(token, lookup=lambda c: _Key())
    assert refused.value.reason == "bad_signature"
    # Expired and signed by another key: the signature is the answer (an attacker learns nothing about time).
    with pytest.raises(codes.CodeRefused) as refused:
        verify(token, now=1_800_000_061, lookup=lambda c: _Key())
    assert refused.value.reason == "bad_signature"
    with pytest.raises(codes.CodeRefused) as refused:
        verify(token, now=1_800_000_061)
    assert refused.value.reason == "expired"
    assert verify(token, now=1_800_000_060).level == 4  # valid through its last second


def test_kid_is_covered_by_the_signature(key):
    token = _code(key)
    swapped = token.replace("k1k2k3k4", "k9k9k9k9", 1)
    with pytest.raises(codes.CodeRefused) as refused:
        codes.verify(swapped, lambda c: key, 1_800_000_030)
    assert refused.value.reason == "bad_signature"


def test_level_out_of_range_or_expiry_before_issue_is_malformed(key):
    for overrides in ({"level": 9}, {"expires_at": 1_800_000_000}):
        with pytest.raises(codes.CodeRefused) as refused:
            codes.parse(_code(key, **overrides))
        assert refused.value.reason == "malformed"


def test_png_decodes_back_to_the_same_code(key):
    import base64
    import io

    import zxingcpp
    from PIL import Image

    token = _code(key)
    png, svg = qr.render(token)
    image = Image.open(io.BytesIO(base64.b64decode(png)))
    assert [result.text for result in zxingcpp.read_barcodes(image)] == [token]
    assert svg.startswith("<svg") and "path" in svg
