"""Key rotation seen from outside: the JWKS, codes issued before and after, and a standard Ed25519 verifier."""

from __future__ import annotations

import base64
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.security.signing import keyring
from benefits import credit_code
from tests.benefits.helpers import Shop, code_for, make_citizen, mp_headers


@pytest.fixture
def setting(app, client):
    with app.app_context():
        shop = Shop(client)
        citizen = make_citizen("周树人")
        return shop, mp_headers(citizen)


def _kid(code: str) -> str:
    return code.split(".")[1]


def test_old_code_verifies_after_rotation_until_it_expires_and_new_codes_use_the_new_kid(
        app, client, runner, setting, monkeypatch):
    shop, headers = setting
    old_code, spare_old_code = code_for(client, headers), code_for(client, headers)
    old_kid = _kid(old_code)

    result = runner.invoke(args=["benefits", "rotate-key", "--keep-previous-for", "70"])
    assert result.exit_code == 0, result.output
    new_code = code_for(client, headers)
    new_kid = _kid(new_code)
    assert new_kid != old_kid

    jwks = client.get("/.well-known/jwks.json")
    assert jwks.status_code == 200 and "max-age" in jwks.headers["Cache-Control"]
    assert {key["kid"] for key in jwks.get_json()["keys"]} >= {old_kid, new_kid}
    assert jwks.get_json()["keys"][0]["kid"] == new_kid  # the current key first

    assert shop.verify(old_code)["reason"] == "ok"
    assert shop.verify(new_code)["reason"] == "ok"

    # 71 s later: the old key has left the JWKS; its last code had expired anyway.
    later = time.time() + 71
    with app.app_context():
        monkeypatch.setattr(keyring(), "clock", lambda: later)
    monkeypatch.setattr(credit_code, "clock", lambda: later)
    assert old_kid not in {key["kid"] for key in client.get("/.well-known/jwks.json").get_json()["keys"]}
    assert shop.verify(spare_old_code)["reason"] == "unknown_key"


def test_any_standard_ed25519_library_verifies_a_code_with_the_published_jwks(client, setting):
    _, headers = setting
    code = code_for(client, headers)
    prefix, kid, payload, signature = code.split(".")
    jwk = next(key for key in client.get("/.well-known/jwks.json").get_json()["keys"] if key["kid"] == kid)
    unb64 = lambda text: base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))  # noqa: E731
    signed = f"{prefix}.{kid}.{payload}".encode()

    # pyca/cryptography
    Ed25519PublicKey.from_public_bytes(unb64(jwk["x"])).verify(unb64(signature), signed)

    # joserfc (a JOSE library): import the JWK as published, verify the raw EdDSA signature
    from joserfc.jwk import OKPKey

    okp = OKPKey.import_key(jwk)
    okp.public_key.verify(unb64(signature), signed)
