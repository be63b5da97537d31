"""Key validity windows: the JWKS carries each key's window, the next key is published before it signs and takes
over by itself, the old one verifies until what it signed has expired, a signature outside a key's window is
refused, and `flask keys rotate` does it — with codes and attestations issued before, during and after a
rotation all verifying, here and in the npm verifier."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest

from app.citizens import service as citizens
from app.extensions import db
from app.partners import attestations, sdjwt
from app.partners import service as registry
from app.security import key_windows
from app.security.signing import KeyRing, keyring
from benefits import codes, credit_code
from tests.benefits.helpers import Shop, code_for, make_citizen, mp_headers
from tests.npm_sd_jwt import npm_verify


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
    return KeyRing(tmp_path / "signing", clock=clock, lifetime=1000, overlap=100, publish_ahead=50)


def test_every_key_publishes_its_window(ring, clock):
    ring.current()
    (jwk,) = ring.jwks()["keys"]
    assert (jwk["nbf"], jwk["exp"]) == (int(clock.now), int(clock.now) + 1000 + 100)
    assert "alg" not in jwk and "d" not in jwk


def test_the_scheduled_step_publishes_ahead_and_the_switch_happens_by_itself(ring, clock):
    first = ring.current()
    assert key_windows.rotate(ring).action == "nothing"  # far from the end of its signing period
    clock.now += 1000 - 50  # the current key signs for 50 s more: time to publish its successor
    step = key_windows.rotate(ring)
    assert step.action == "published" and step.next.not_before == first.not_after - 100
    assert [k["kid"] for k in ring.jwks()["keys"]] == [first.kid, step.next.kid]  # in the JWKS before it signs
    assert ring.current().kid == first.kid and key_windows.rotate(ring).action == "nothing"
    clock.now = step.next.not_before  # no command needed: the next key takes over at its not-before
    assert ring.sign(b"x")[0] == step.next.kid
    old = ring.get(first.kid)
    assert old.state == "previous" and old.not_after == clock.now + 100
    clock.now += 100
    assert ring.verifying_key(first.kid, clock.now - 100) is not None  # still verifies what it signed
    clock.now += 1
    assert ring.get(first.kid) is None and first.kid not in {k["kid"] for k in ring.jwks()["keys"]}


def test_a_signature_outside_the_keys_window_is_refused(ring, clock):
    first = ring.current()
    upcoming = ring.prepare_next(not_before=clock.now + 50)
    # The next key is published, but a signature dated before its not-before is not its to make.
    assert ring.verifying_key(upcoming.kid, clock.now) is None
    clock.now += 60
    assert ring.current().kid == upcoming.kid
    retired_at = ring.get(first.kid).retired_at
    assert ring.verifying_key(first.kid, retired_at - 5) is not None
    # A retired key signs nothing: a signature dated after its retirement (a stolen old key) is refused.
    assert ring.verifying_key(first.kid, retired_at + 5) is None


def test_a_compromised_key_leaves_the_jwks_at_once(ring):
    first = ring.current()
    step = key_windows.rotate(ring, compromised=True)
    assert step.current.kid != first.kid and ring.get(first.kid) is None
    assert [k["kid"] for k in ring.jwks()["keys"]] == [step.current.kid]


def test_manifests_from_before_key_windows_still_load(tmp_path, clock):
    import json

    directory = tmp_path / "old"
    ring = KeyRing(directory, clock=clock)
    kid = ring.current().kid
    manifest = directory / "keys.json"
    manifest.write_text(json.dumps({"keys": [{"kid": kid, "state": "current", "created_at": clock.now - 10,
                                              "not_after": None}]}))
    reopened = KeyRing(directory, clock=clock)
    key = reopened.current()
    assert key.kid == kid and key.not_before == clock.now - 10 and key.not_after > clock.now
    assert reopened.jwks()["keys"][0]["nbf"] == int(clock.now - 10)


# -- the whole app: codes and attestations across a rotation ------------------------------------------------

@pytest.fixture
def short_lived(app, monkeypatch):
    """Lifetimes of seconds, so a rotation and its overlap fit in a test; the ring opens with these settings (the
    session's app and ring come back afterwards)."""
    for name, value in dict(CREDIT_CODE_TTL_SECONDS=60, PARTNER_ATTESTATION_TTL_SECONDS=120,
                            STATUS_LIST_EXP_SECONDS=120, PARTNER_AUTH_MAX_LIFETIME_SECONDS=120,
                            PARTNER_CLOCK_LEEWAY_SECONDS=30, SIGNING_KEY_PUBLISH_AHEAD_SECONDS=20).items():
        monkeypatch.setitem(app.config, name, value)
    monkeypatch.delitem(app.extensions, "signing_keyring", raising=False)
    return app


def _setting(app, client):
    from benefits.catalog import ensure_default_scenes
    from tests.app.partners.conftest import PartnerCity

    with app.app_context():
        ensure_default_scenes()
        shop = Shop(client)
        citizen = make_citizen("周树人")
        citizens.grant_consent(citizen, "partner_sharing", channel="test")
        PartnerCity(app.instance_path + "/hz-keys").register(credential_format="sd-jwt-vc")
        db.session.commit()
        return shop, mp_headers(citizen)


def test_codes_and_attestations_issued_before_during_and_after_a_rotation_all_verify(
        short_lived, client, runner, monkeypatch):
    app = short_lived
    shop, headers = _setting(app, client)
    start = time.time()
    clock = Clock(start)
    with app.app_context():
        ring = keyring()
        monkeypatch.setattr(ring, "clock", clock)
    monkeypatch.setattr(credit_code, "clock", clock)
    monkeypatch.setattr(attestations, "clock", clock)

    def issue():
        code = code_for(client, headers)
        response = client.post("/mp/v1/me/attestations", json={"partner": "330100", "disclose": ["name"]},
                               headers=headers)
        assert response.status_code == 201, response.get_json()
        return code, response.get_json()["attestation"]

    issued = {"before": issue()}
    result = runner.invoke(args=["keys", "rotate", "--start"])
    assert result.exit_code == 0 and "is published and takes over at" in result.output, result.output
    clock.now += 5
    issued["during"] = issue()  # the next key is in the JWKS but does not sign yet
    clock.now += 20
    issued["after"] = issue()  # past its not-before: the new key signs
    kids = {when: code.split(".")[1] for when, (code, _) in issued.items()}
    assert kids["before"] == kids["during"] != kids["after"]

    jwks = client.get("/.well-known/jwks.json").get_json()
    assert {k["kid"] for k in jwks["keys"]} == {kids["before"], kids["after"]}
    for when, (code, attestation) in issued.items():
        assert shop.verify(code)["reason"] == "ok", when
        header, _ = sdjwt.peek(attestation)
        with app.app_context():
            iat = sdjwt.peek(attestation)[1]["iat"]
            key = keyring().verifying_key(header["kid"], iat)
            assert key is not None, when
            sdjwt.verify(attestation, key.jose_public())
        uri = sdjwt.peek(attestation)[1]["status"]["status_list"]["uri"]
        lists = {uri: client.get(urlsplit(uri).path).get_data(as_text=True)}
        outside = npm_verify(attestation, jwks, lists, now=int(clock.now))
        assert outside["ok"] and outside["status"] == 0, (when, outside)


def test_a_code_signed_by_an_expired_or_retired_key_is_refused(short_lived, client, runner, monkeypatch):
    app = short_lived
    shop, headers = _setting(app, client)
    clock = Clock(time.time())
    with app.app_context():
        ring = keyring()
        monkeypatch.setattr(ring, "clock", clock)
        old = ring.current()
        city = app.config["CITY_CODE"]
    monkeypatch.setattr(credit_code, "clock", clock)
    result = runner.invoke(args=["keys", "rotate", "--now"])
    assert result.exit_code == 0 and "verifies what it signed until" in result.output, result.output

    def forged(issued_at: float) -> str:
        with app.app_context():
            subject = codes.new_code_id()  # unknown subject: the key check comes first anyway
        return codes.encode(kid=old.kid, sign=old._private.sign, code_id=codes.new_code_id(), subject=subject,
                            level=3, issuer=city, issued_at=int(issued_at), expires_at=int(issued_at) + 60)

    # Signed by the retired key after its retirement: outside its window.
    assert shop.verify(forged(clock.now + 5))["reason"] == "unknown_key"
    # After the overlap the old key has expired: gone from the JWKS, its signatures refused.
    overlap = key_windows.overlap_seconds(app.config)
    clock.now += overlap + 1
    assert old.kid not in {k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]}
    assert shop.verify(forged(clock.now - 10))["reason"] == "unknown_key"
    with app.app_context():
        assert registry.find_partner("330100").credential_format == "sd-jwt-vc"


def test_the_rotate_command_without_options_says_when_the_successor_comes(app, runner):
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "signs until" in result.output and "its successor is published at" in result.output
    assert "\tcurrent\tnbf " in result.output
