"""The partner API: who may call it (a short-lived JWT signed with the partner's own key), and what it answers."""

from __future__ import annotations

import time
import warnings

import pytest
from joserfc import jwt
from joserfc.jwk import OKPKey
from sqlalchemy import select

from app.citizens import service as citizens
from app.extensions import db
from app.partners import service as registry
from app.partners.models import Receipt
from app.timeutil import city_today
from tests.app.partners.conftest import PartnerCity
from tests.benefits.helpers import Shop, make_citizen, mp_headers

pytestmark = pytest.mark.filterwarnings("ignore::joserfc.errors.SecurityWarning")


def _refusal(client, headers, path="/partner/v1/settlements?date=2026-11-01"):
    response = client.get(path, headers=headers)
    body = response.get_json()
    return response.status_code, body["code"]


def test_a_valid_token_is_accepted_once(client, hangzhou):
    token = hangzhou.auth_token()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/partner/v1/settlements?date=2026-11-01", headers=headers).status_code == 200
    assert _refusal(client, headers) == (401, "replayed")


def test_a_token_from_an_independent_jose_library_is_accepted(app, client):
    key = OKPKey.generate_key("Ed25519", parameters={"kid": "qjf-2026"})
    with app.app_context():
        registry.create_partner({"city_code": "330100", "city_name": "杭州", "score_name": "钱江分", "status": "active",
                                 "jwks": {"keys": [key.as_dict(private=False)]}})
        db.session.commit()
    now = int(time.time())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        token = jwt.encode({"alg": "EdDSA", "kid": "qjf-2026"},
                           {"iss": "330100", "aud": "330600", "iat": now, "exp": now + 60, "jti": "hz-req-000001"},
                           key, algorithms=["EdDSA"])
    response = client.get("/partner/v1/revocations", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("alg", ["EdDSA", "Ed25519"])
def test_both_names_of_the_algorithm_are_accepted_and_the_jti_is_single_use(app, client, alg):
    key = OKPKey.generate_key("Ed25519", parameters={"kid": "qjf-2026", "alg": alg, "use": "sig"})
    with app.app_context():
        registry.create_partner({"city_code": "330100", "city_name": "杭州", "score_name": "钱江分", "status": "active",
                                 "jwks": {"keys": [key.as_dict(private=False)]}})
        db.session.commit()
    now = int(time.time())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        token = jwt.encode({"alg": alg, "kid": "qjf-2026"},
                           {"iss": "330100", "aud": "330600", "iat": now, "exp": now + 60, "jti": "hz-req-000002"},
                           key, algorithms=[alg])
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/partner/v1/revocations", headers=headers).status_code == 200
    assert _refusal(client, headers) == (401, "replayed")


def test_another_algorithm_or_an_embedded_key_is_malformed(app, client, hangzhou):
    from joserfc.jwk import OctKey

    now = int(time.time())
    claims = {"iss": "330100", "aud": "330600", "iat": now, "exp": now + 60, "jti": "hz-req-000003"}
    hmac_token = jwt.encode({"alg": "HS256", "kid": "k1"}, claims, OctKey.generate_key(256), algorithms=["HS256"])
    assert _refusal(client, {"Authorization": f"Bearer {hmac_token}"}) == (401, "malformed_token")
    key = OKPKey.generate_key("Ed25519")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        embedded = jwt.encode({"alg": "EdDSA", "kid": "k1", "jwk": key.as_dict(private=False)}, claims, key,
                              algorithms=["EdDSA"])
    assert _refusal(client, {"Authorization": f"Bearer {embedded}"}) == (401, "malformed_token")


def test_every_refusal_has_its_own_code(app, client, hangzhou, tmp_path):
    now = int(time.time())
    assert _refusal(client, {}) == (401, "unauthorized")
    assert _refusal(client, {"Authorization": "Bearer not-a-jwt"}) == (401, "malformed_token")
    assert _refusal(client, hangzhou.headers(iss="440300")) == (401, "unknown_partner")
    assert _refusal(client, PartnerCity(tmp_path / "impostor").headers()) == (401, "unknown_key")
    head, body, _ = hangzhou.auth_token().split(".")
    _, _, other_signature = hangzhou.auth_token().split(".")
    assert _refusal(client, {"Authorization": f"Bearer {head}.{body}.{other_signature}"}) == (401, "bad_signature")
    assert _refusal(client, hangzhou.headers(aud="330200")) == (401, "wrong_audience")
    assert _refusal(client, hangzhou.headers(issued_at=now - 600, ttl=120)) == (401, "expired")
    assert _refusal(client, hangzhou.headers(issued_at=now + 600)) == (401, "expired")
    assert _refusal(client, hangzhou.headers(ttl=3600)) == (401, "bad_lifetime")
    with app.app_context():
        registry.set_status("330100", "suspended")
        db.session.commit()
    assert _refusal(client, hangzhou.headers()) == (403, "partner_suspended")
    response = client.get("/partner/v1/revocations")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "message" in response.get_json() and "令牌" in response.get_json()["message"]


def test_an_unknown_kid_refetches_the_partners_jwks(app, client, tmp_path, monkeypatch):
    from app.partners import client as partner_client
    from app.security.signing import KeyRing

    city = PartnerCity(tmp_path / "hz")
    with app.app_context():
        city.register(jwks_url="http://hz.example/.well-known/jwks.json")
    rotated = city.ring.rotate(keep_previous_for=60)
    served = {"jwks": city.ring.jwks(), "fetches": 0}

    def fetch(url, timeout=None):
        served["fetches"] += 1
        return served["jwks"]

    monkeypatch.setattr(partner_client, "fetch_jwks", fetch)
    assert client.get("/partner/v1/revocations", headers=city.headers(key=rotated)).status_code == 200
    assert served["fetches"] == 1
    # Throttled: another unknown kid within the minute is not fetched again (a forger cannot make us hammer them).
    newer = KeyRing(tmp_path / "hz").rotate(keep_previous_for=60)
    served["jwks"] = KeyRing(tmp_path / "hz").jwks()
    assert _refusal(client, city.headers(key=newer), "/partner/v1/revocations") == (401, "unknown_key")
    assert served["fetches"] == 1


def test_info_and_jwks_are_public(client):
    info = client.get("/partner/v1/info").get_json()
    assert (info["city_code"], info["score_name"], info["scale"]) == ("330600", "绍兴信用分", {"min": 0, "max": 1000})
    assert [(c["level"], c["min"], c["max"]) for c in info["cutoffs"]] == [
        (1, 0, 559), (2, 560, 639), (3, 640, 719), (4, 720, 799), (5, 800, 1000)]
    assert info["jwks_url"].endswith("/.well-known/jwks.json") and info["api_base_url"].endswith("/partner/v1")
    assert client.get("/partner/v1/jwks.json").get_json() == client.get("/.well-known/jwks.json").get_json()


def test_settlement_counts_are_the_callers_citizens_here_by_scene_net_of_cancellations(app, client, hangzhou,
                                                                                      ningbo):
    with app.app_context():
        shop = Shop(client, partner_allowed=True, partner_min_level=1)
        zhang = mp_headers(make_citizen("张三丰", level=3))
    answers = [shop.verify(hangzhou.attestation()) for _ in range(3)]
    shop.verify(ningbo.attestation())
    own = client.post("/mp/v1/me/credit-code", headers=zhang).get_json()["code"]
    shop.verify(own)
    client.post(f"/merchant/v1/redemptions/{answers[0]['redemption_id']}/cancel", headers=shop.headers)
    today = city_today().isoformat()
    body = client.get(f"/partner/v1/settlements?date={today}", headers=hangzhou.headers()).get_json()
    assert (body["city_code"], body["partner"], body["total"]) == ("330600", "330100", 2)
    assert body["scenes"] == [{"scene": "you", "scene_name": "信易游", "count": 2}]
    assert client.get("/partner/v1/settlements?date=2020-01-01", headers=hangzhou.headers()).get_json()["total"] == 0
    assert client.get("/partner/v1/settlements", headers=hangzhou.headers()).status_code == 422


def _receipt(**fields):
    return {"id": "hz-redemption-1", "kind": "attestation", "jti": "x" * 22, "sub": "s" * 43, "scene": "you",
            "scene_name": "信易游", "merchant_name": "西湖游船", "offer_title": "游船8折", "day": "2026-11-20",
            "redeemed_at": "2026-11-20T10:00:00+08:00", "status": "redeemed", **fields}


def test_receipts_for_our_citizens_are_kept_idempotently_and_others_rejected(app, client, hangzhou):
    with app.app_context():
        citizen = make_citizen("李清照", level=3)
        citizens.grant_consent(citizen, "partner_sharing", channel="test")
        db.session.commit()
        person = {"id": citizen.id, "headers": mp_headers(citizen)}
    issued = client.post("/mp/v1/me/attestations", json={"partner": "330100"}, headers=person["headers"]).get_json()
    from app.partners.jws import peek

    sub = peek(issued["attestation"])[1]["sub"]
    good = _receipt(jti=issued["jti"], sub=sub)
    answer = client.post("/partner/v1/receipts", json={"receipts": [good, _receipt(id="hz-2", jti="y" * 22),
                                                                  _receipt(id="hz-3", jti=issued["jti"])]},
                         headers=hangzhou.headers()).get_json()
    assert answer == {"accepted": 1, "rejected": [{"id": "hz-2", "code": "unknown_attestation"},
                                                  {"id": "hz-3", "code": "subject_mismatch"}]}
    again = client.post("/partner/v1/receipts", json={"receipts": [{**good, "status": "cancelled"}]},
                        headers=hangzhou.headers()).get_json()
    assert again == {"accepted": 1, "rejected": []}
    with app.app_context():
        rows = db.session.scalars(select(Receipt)).all()
        assert [(r.receipt_id, r.status, r.citizen_id) for r in rows] == [
            ("hz-redemption-1", "cancelled", person["id"])]
    # The citizen sees that 杭州 told us about it.
    trail = client.get("/mp/v1/me/audit", headers=person["headers"]).get_json()
    assert any(entry.get("action") == "partners.receipt" for entry in trail.get("items", [])), trail
    bad = client.post("/partner/v1/receipts", json={"receipts": [_receipt(status="lost")]}, headers=hangzhou.headers())
    assert bad.status_code == 422
