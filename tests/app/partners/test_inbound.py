"""A partner city's citizen at one of our merchants: every answer a cashier can see for a partner's token."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from app.extensions import db
from app.partners import service as registry
from app.partners.models import PulledRevocation, ReceiptOutbox
from app.security.signing import b64url, b64url_decode
from benefits import catalog
from benefits.models import Attempt, Redemption
from tests.benefits.helpers import Shop, code_for, make_citizen, mp_headers


@pytest.fixture
def shop(app, client):
    """A merchant whose offer (L3, 良好) is open to partner citizens from L3."""
    with app.app_context():
        return Shop(client, partner_allowed=True, partner_min_level=3)


def test_partner_attestation_redeems_once_and_says_where_the_customer_is_from(app, client, shop, hangzhou):
    token = hangzhou.attestation(lvl=3)
    answer = shop.verify(token)
    assert (answer["eligible"], answer["reason"], answer["level_name"]) == (True, "ok", "良好")
    assert answer["partner_city"] == "杭州" and "钱江分" in answer["message"]
    assert answer["masked_name"] is None and answer["redemption_id"]
    assert shop.verify(token)["reason"] == "already_used"
    with app.app_context():
        redemption = db.session.scalar(select(Redemption))
        assert redemption.citizen_id is None and redemption.partner_subject
        assert redemption.code_id.startswith("330100:")
        outbox = db.session.scalar(select(ReceiptOutbox))
        assert (outbox.redemption_id, outbox.token_kind, outbox.delivered_at) == (redemption.id, "attestation", None)


def test_partner_credit_code_is_accepted_like_at_home(app, client, shop, hangzhou):
    code = hangzhou.credit_code(level=4)
    answer = shop.verify(code)
    assert (answer["reason"], answer["level_name"], answer["partner_city"]) == ("ok", "优秀", "杭州")
    assert shop.verify(code)["reason"] == "already_used"


def test_used_partner_token_is_refused_even_when_the_key_value_store_forgot_it(app, client, shop, hangzhou):
    token = hangzhou.attestation()
    assert shop.verify(token)["reason"] == "ok"
    app.extensions["kv_client"].flushdb()
    assert shop.verify(token)["reason"] == "already_used"


def test_native_score_maps_through_the_registry_cutoffs_not_the_stated_level(client, shop, hangzhou):
    # 钱江分 620 is 良好 (600–699) in our registry, whatever level the token states.
    assert shop.verify(hangzhou.attestation(lvl=1, score=620))["level_name"] == "良好"
    answer = shop.verify(hangzhou.attestation(lvl=5, score=560))
    assert (answer["reason"], answer["level_name"]) == ("level_too_low", "一般")


def test_restricted_at_home_is_restricted_here_whatever_the_score(client, shop, hangzhou):
    assert shop.verify(hangzhou.attestation(lvl=0, score=900))["reason"] == "restricted"
    assert shop.verify(hangzhou.credit_code(level=0))["reason"] == "restricted"


def test_partner_minimum_level_is_the_offers_partner_level(app, client, hangzhou):
    with app.app_context():
        shop = Shop(client, min_level=2, partner_allowed=True, partner_min_level=4)
    assert shop.verify(hangzhou.attestation(lvl=3))["reason"] == "level_too_low"
    assert shop.verify(hangzhou.attestation(lvl=4))["reason"] == "ok"


def test_offer_not_open_to_partner_citizens(app, client, hangzhou):
    with app.app_context():
        shop = Shop(client)  # partner_allowed defaults to False
    answer = shop.verify(hangzhou.attestation(lvl=5))
    assert (answer["eligible"], answer["reason"]) == (False, "partner_not_accepted")
    assert "互认" in answer["message"]


def test_limits_are_kept_per_issuer_and_pseudonym(app, client, hangzhou, ningbo):
    with app.app_context():
        shop = Shop(client, partner_allowed=True, partner_min_level=3, limit_per_day=1)
    assert shop.verify(hangzhou.attestation(sub="same-person-0001"))["reason"] == "ok"
    second = shop.verify(hangzhou.attestation(sub="same-person-0001"))
    assert (second["reason"], second["message"]) == ("limit_reached", "顾客今天已使用过该权益，请明天再来。")
    # Another person of that city, and the same pseudonym from another city, are other people.
    assert shop.verify(hangzhou.attestation(sub="other-person-0002"))["reason"] == "ok"
    assert shop.verify(ningbo.attestation(sub="same-person-0001"))["reason"] == "ok"


def test_quota_counts_partner_and_own_citizens_together(app, client, hangzhou):
    with app.app_context():
        shop = Shop(client, partner_allowed=True, partner_min_level=3, quota=1)
        zhang = mp_headers(make_citizen("张三丰", level=3))
    assert shop.verify(hangzhou.attestation())["reason"] == "ok"
    assert shop.verify(code_for(client, zhang))["reason"] == "quota_exhausted"


# -- every refusal of a partner's token ---------------------------------------------------------------------

def test_unknown_issuer(client, shop, hangzhou):
    assert shop.verify(hangzhou.attestation(iss="440300"))["reason"] == "partner_unknown"
    # A credit code from a city we have no mutual recognition with: the same answer.
    other = hangzhou.credit_code()
    payload = bytearray(b64url_decode(other.split(".")[2]))
    payload[26:30] = (440300).to_bytes(4, "big")
    forged = ".".join([*other.split(".")[:2], b64url(bytes(payload)), other.split(".")[3]])
    assert shop.verify(forged)["reason"] == "partner_unknown"


def test_suspended_partner(app, client, shop, hangzhou):
    token, code = hangzhou.attestation(), hangzhou.credit_code()
    with app.app_context():
        registry.set_status("330100", "suspended")
        db.session.commit()
    assert shop.verify(token)["reason"] == "partner_suspended"
    assert shop.verify(code)["reason"] == "partner_suspended"


def test_unknown_key(client, shop, hangzhou, tmp_path):
    from tests.app.partners.conftest import PartnerCity

    impostor = PartnerCity(tmp_path / "impostor")  # the same city code, keys we have never seen
    assert shop.verify(impostor.attestation())["reason"] == "unknown_key"
    assert shop.verify(impostor.credit_code())["reason"] == "unknown_key"


def test_bad_signature(client, shop, hangzhou):
    foreign = Ed25519PrivateKey.generate()
    assert shop.verify(hangzhou.credit_code(sign=foreign.sign))["reason"] == "bad_signature"
    head, body, signature = hangzhou.attestation(lvl=2).split(".")
    claims = b64url_decode(body).replace(b'"lvl":2', b'"lvl":5')
    assert shop.verify(".".join([head, b64url(claims), signature]))["reason"] == "bad_signature"


def test_wrong_audience(app, client, shop, hangzhou, zhang_headers):
    assert shop.verify(hangzhou.attestation(aud="320500"))["reason"] == "wrong_audience"
    # One of our own attestations, made for 杭州, shown at home.
    response = client.post("/mp/v1/me/attestations", json={"partner": "330100"}, headers=zhang_headers)
    assert response.status_code == 201, response.get_json()
    assert shop.verify(response.get_json()["attestation"])["reason"] == "wrong_audience"


def test_expired(client, shop, hangzhou):
    past = int(time.time()) - 7200
    assert shop.verify(hangzhou.attestation(issued_at=past, ttl=3600))["reason"] == "expired"
    assert shop.verify(hangzhou.credit_code(issued_at=past))["reason"] == "expired"


def test_revoked_attestation_pulled_from_the_partner(app, client, shop, hangzhou):
    token = hangzhou.attestation()
    jti = b64url_decode(token.split(".")[1]).decode().split('"jti":"')[1].split('"')[0]
    with app.app_context():
        partner = registry.find_partner("330100")
        db.session.add(PulledRevocation(partner_id=partner.id, jti=jti, subject="x" * 43, reason="restricted"))
        db.session.commit()
    answer = shop.verify(token)
    assert (answer["eligible"], answer["reason"]) == (False, "attestation_revoked")
    assert "撤销" in answer["message"]


@pytest.mark.parametrize("mangle", [
    lambda t: t + "x",
    lambda t: t.replace(".", "..", 1),
    lambda t: "eyJhbGciOiJub25lIn0." + t.split(".")[1] + ".",
])
def test_malformed_partner_tokens(client, shop, hangzhou, mangle):
    assert shop.verify(mangle(hangzhou.attestation()))["reason"] in ("malformed", "bad_signature")


def test_alg_none_and_embedded_keys_are_malformed(client, shop, hangzhou):
    token = hangzhou.attestation()
    _, body, signature = token.split(".")
    for header in (b'{"alg":"none","kid":"x"}', b'{"alg":"HS256","kid":"x"}',
                   b'{"alg":"EdDSA","kid":"x","jwk":{"kty":"OKP"}}'):
        assert shop.verify(".".join([b64url(header), body, signature]))["reason"] == "malformed"


def test_score_outside_the_partners_scale_is_malformed(client, shop, hangzhou):
    assert shop.verify(hangzhou.attestation(score=1200))["reason"] == "malformed"


def test_every_refusal_is_in_the_attempt_ledger_with_the_partner(app, client, shop, hangzhou):
    shop.verify(hangzhou.attestation(aud="320500"))
    with app.app_context():
        attempt = db.session.scalar(select(Attempt).order_by(Attempt.id.desc()))
        partner = registry.find_partner("330100")
        assert (attempt.reason, attempt.citizen_id, attempt.partner_id) == ("wrong_audience", None, None)
        shop.verify(hangzhou.attestation(lvl=1))
        attempt = db.session.scalar(select(Attempt).order_by(Attempt.id.desc()))
        assert (attempt.reason, attempt.partner_id) == ("level_too_low", partner.id)


def test_cancel_sends_the_receipt_again(app, client, shop, hangzhou):
    answer = shop.verify(hangzhou.attestation())
    with app.app_context():
        db.session.execute(ReceiptOutbox.__table__.update().values(delivered_at=db.func.now()))
        db.session.commit()
    response = client.post(f"/merchant/v1/redemptions/{answer['redemption_id']}/cancel", headers=shop.headers)
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        assert db.session.scalar(select(ReceiptOutbox.delivered_at)) is None


def test_own_citizens_still_get_every_existing_answer(app, client, shop, hangzhou, zhang_headers):
    code = code_for(client, zhang_headers)
    assert shop.verify(code)["reason"] == "ok"
    assert shop.verify(code)["reason"] == "already_used"
    with app.app_context():
        catalog.update_offer(shop.offer_ref, {"min_level": 4, "partner_min_level": 3})
        db.session.commit()
    assert shop.verify(code_for(client, zhang_headers))["reason"] == "level_too_low"
    assert shop.verify(hangzhou.attestation(lvl=3))["reason"] == "ok"  # the partner level is the offer's own


@pytest.fixture
def zhang_headers(app):
    with app.app_context():
        citizen = make_citizen("张三丰", level=3)
        from app.citizens import service as citizens

        citizens.grant_consent(citizen, "partner_sharing", channel="test")
        db.session.commit()
        return mp_headers(citizen)
