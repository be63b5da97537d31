"""The city's signing keys: kids, JWKS, rotation, several processes sharing one key directory."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.security.signing import KeyRing, jwk_thumbprint


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def ring(tmp_path, clock):
    return KeyRing(tmp_path / "signing", clock=clock)


def _public_from_jwk(jwk: dict) -> Ed25519PublicKey:
    raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
    return Ed25519PublicKey.from_public_bytes(raw)


def test_first_use_creates_one_current_key_stored_privately(ring, tmp_path):
    key = ring.current()
    assert key.state == "current" and len(key.kid) == 8
    assert key.kid == jwk_thumbprint(key.public)[:8]  # derived from the key (RFC 7638), not a counter
    pem = tmp_path / "signing" / f"{key.kid}.pem"
    assert pem.exists() and oct(pem.stat().st_mode & 0o777) == "0o600"
    assert ring.get(key.kid) is key or ring.get(key.kid).kid == key.kid


def test_jwks_publishes_public_keys_only_and_they_verify(ring):
    kid, signature = ring.sign(b"hello")
    jwks = ring.jwks()
    assert [jwk["kid"] for jwk in jwks["keys"]] == [kid]
    jwk = jwks["keys"][0]
    key = ring.current()
    # No "alg" (one key signs as EdDSA and as Ed25519); its window as nbf/exp.
    assert jwk == {"kty": "OKP", "crv": "Ed25519", "x": jwk["x"], "kid": kid, "use": "sig",
                   "nbf": int(key.not_before), "exp": int(key.not_after)}
    assert all("d" not in each for each in jwks["keys"])  # no private member
    _public_from_jwk(jwk).verify(signature, b"hello")  # raises if wrong


def test_rotation_signs_with_the_new_key_and_keeps_the_old_one_for_its_window(ring, clock):
    old = ring.current()
    new = ring.rotate(keep_previous_for=120)
    assert new.kid != old.kid and ring.current().kid == new.kid
    assert ring.sign(b"x")[0] == new.kid
    assert {jwk["kid"] for jwk in ring.jwks()["keys"]} == {old.kid, new.kid}
    assert ring.get(old.kid).state == "previous"
    with pytest.raises(RuntimeError):
        ring.get(old.kid).sign(b"x")  # a previous key never signs again
    clock.now += 121
    assert ring.get(old.kid) is None
    assert [jwk["kid"] for jwk in ring.jwks()["keys"]] == [new.kid]


def test_spent_keys_are_deleted_at_the_next_rotation(ring, clock, tmp_path):
    first = ring.current().kid
    ring.rotate(keep_previous_for=10)
    clock.now += 11
    ring.rotate(keep_previous_for=10)
    assert not (tmp_path / "signing" / f"{first}.pem").exists()
    assert len(ring.keys()) == 2


def test_prepare_next_publishes_ahead_and_rotate_promotes_it(ring):
    current = ring.current()
    upcoming = ring.prepare_next()
    assert ring.prepare_next().kid == upcoming.kid  # idempotent
    assert ring.current().kid == current.kid
    assert [jwk["kid"] for jwk in ring.jwks()["keys"]] == [current.kid, upcoming.kid]
    with pytest.raises(RuntimeError):
        upcoming.sign(b"x")
    assert ring.rotate(keep_previous_for=60).kid == upcoming.kid


def test_another_process_sees_a_rotation_at_once_when_it_meets_the_new_kid(tmp_path, clock):
    worker_a = KeyRing(tmp_path / "signing", clock=clock)
    worker_b = KeyRing(tmp_path / "signing", clock=clock)
    assert worker_a.current().kid == worker_b.current().kid  # the second worker did not make its own key
    new = worker_a.rotate(keep_previous_for=60)
    kid, signature = worker_a.sign(b"payload")
    assert kid == new.kid
    assert worker_b.verify(kid, b"payload", signature)  # unknown kid -> re-read the manifest


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")  # RFC 9864 prefers "Ed25519"; SPEC §3 names EdDSA
def test_joserfc_verifies_a_compact_jws_signed_by_the_ring(ring):
    """The partner-city attestations will be JWS EdDSA: a standard JOSE library must accept our keys."""
    from joserfc import jws
    from joserfc.jwk import KeySet

    from app.security.signing import b64url

    key = ring.current()
    header = {"alg": "EdDSA", "kid": key.kid}
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(b'{"iss":"330600"}')
    token = signing_input + "." + b64url(key.sign(signing_input.encode()))
    verified = jws.deserialize_compact(token, KeySet.import_key_set(ring.jwks()), algorithms=["EdDSA"])
    assert verified.payload == b'{"iss":"330600"}'
