"""Our citizens' attestations for partner cities: verified by an independent JOSE library against our published
JWKS, pairwise pseudonyms, the raw score only with consent, the refusals, and revocation."""

from __future__ import annotations

import warnings

import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from sqlalchemy import select

from app.citizens import service as citizens
from app.extensions import db
from app.partners import attestations
from app.partners import service as registry
from app.partners.models import Attestation
from app.scoring import service as scoring
from tests.benefits.helpers import make_citizen, mp_headers, report, zlb_headers

# joserfc warns that RFC 9864 prefers the fully-specified "Ed25519" name; "EdDSA" is what we are asked to use.
pytestmark = pytest.mark.filterwarnings("ignore::joserfc.errors.SecurityWarning")


def _citizen(app, level=3, partner_sharing=True, raw_score=False, name="李清照"):
    with app.app_context():
        citizen = make_citizen(name, level=level)
        if partner_sharing:
            citizens.grant_consent(citizen, "partner_sharing", channel="test")
        if raw_score:
            citizens.grant_consent(citizen, "raw_score_sharing", channel="test")
        db.session.commit()
        return {"id": citizen.id, "ref": citizen.ref, "headers": mp_headers(citizen)}


def _attest(client, person, partner="330100", status=201):
    response = client.post("/mp/v1/me/attestations", json={"partner": partner}, headers=person["headers"])
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _decode(client, token):
    keys = KeySet.import_key_set(client.get("/.well-known/jwks.json").get_json())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jwt.decode(token, keys, algorithms=["EdDSA"])


def test_an_independent_jose_library_verifies_the_attestation_with_our_jwks(app, client, hangzhou):
    person = _citizen(app)
    issued = _attest(client, person)
    token = _decode(client, issued["attestation"])
    assert token.header["alg"] == "EdDSA" and token.header["typ"] == "JWT"
    assert token.header["kid"] in {k["kid"] for k in client.get("/partner/v1/jwks.json").get_json()["keys"]}
    claims = token.claims
    assert (claims["iss"], claims["aud"], claims["lvl"], claims["lvl_name"]) == ("330600", "330100", 3, "良好")
    assert claims["exp"] - claims["iat"] == app.config["PARTNER_ATTESTATION_TTL_SECONDS"] == 7 * 24 * 3600
    assert claims["jti"] == issued["jti"] and len(claims["sub"]) == 43
    assert "score" not in claims and not issued["score_included"]
    # Nothing that identifies the person.
    assert set(claims) == {"iss", "aud", "sub", "lvl", "lvl_name", "iat", "exp", "jti"}
    assert issued["qr_png"] and issued["partner"]["city_name"] == "杭州"
    # A claim changed after signing fails the same library.
    head, body, signature = issued["attestation"].split(".")
    with pytest.raises(BadSignatureError):
        _decode(client, ".".join([head, body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1], signature]))


def test_raw_score_only_with_its_consent(app, client, hangzhou):
    person = _citizen(app, level=4, raw_score=True)
    issued = _attest(client, person)
    claims = _decode(client, issued["attestation"]).claims
    assert issued["score_included"] is True
    assert (claims["score"], claims["score_name"], claims["scale"]) == (775, "绍兴信用分", [0, 1000])


def test_pseudonyms_are_stable_per_partner_and_differ_between_partners(app, client, hangzhou, ningbo):
    person = _citizen(app)
    first = _decode(client, _attest(client, person)["attestation"]).claims
    again = _decode(client, _attest(client, person)["attestation"]).claims
    other = _decode(client, _attest(client, person, "330200")["attestation"]).claims
    assert first["sub"] == again["sub"] and first["jti"] != again["jti"]
    assert other["sub"] != first["sub"] and other["aud"] == "330200"
    someone_else = _decode(client, _attest(client, _citizen(app, name="苏东坡"))["attestation"]).claims
    assert someone_else["sub"] != first["sub"]
    with app.app_context():  # the pseudonym key is stored encrypted, never in clear
        partner = registry.find_partner("330100")
        key = registry.pseudonym_key(partner)
        assert len(key) == 32 and key not in partner.pseudonym_key_cipher


def test_refusals_each_with_its_own_code(app, client, hangzhou):
    no_consent = _citizen(app, partner_sharing=False)
    body = _attest(client, no_consent, status=403)
    assert body["code"] == "partner_sharing_required" and "城市互认共享授权" in body["message"]
    person = _citizen(app, name="辛弃疾")
    assert _attest(client, person, "440300", status=404)["code"] == "partner_unknown"
    with app.app_context():
        registry.seed_known_partners()  # 苏州 桂花分: a placeholder, suspended
        db.session.commit()
    assert _attest(client, person, "320500", status=409)["code"] == "partner_suspended"
    restricted = _citizen(app, level=0, name="秦桧")
    assert _attest(client, restricted, status=403)["code"] == "restricted"
    response = client.post("/mp/v1/me/attestations", json={"partner": "hangzhou"}, headers=person["headers"])
    assert response.status_code == 422
    assert client.post("/mp/v1/me/attestations", json={"partner": "330100"}).status_code == 401


def test_without_a_score_or_scoring_consent_it_is_refused(app, client, hangzhou):
    person = _citizen(app)
    with app.app_context():
        from app.scoring.models import Score

        db.session.execute(Score.__table__.delete().where(Score.citizen_id == person["id"]))
        db.session.commit()
    assert _attest(client, person, status=409)["code"] == "score_not_ready"
    with app.app_context():
        citizen = citizens.get_by_ref(person["ref"])
        citizens.withdraw_consent(citizen, "scoring")
        scoring.drop_score(citizen)
        db.session.commit()
    assert _attest(client, person, status=409)["code"] == "no_scoring_consent"


def _states(app, person):
    with app.app_context():
        return [(a.revoked_at is not None, a.revoke_reason) for a in db.session.scalars(
            select(Attestation).where(Attestation.citizen_id == person["id"]).order_by(Attestation.id))]


def test_falling_to_l0_revokes_outstanding_attestations(app, client, hangzhou, ningbo):
    person = _citizen(app)
    _attest(client, person)
    _attest(client, person, "330200")
    with app.app_context():
        citizen = citizens.get_by_ref(person["ref"])
        report(citizen_id_number(citizen), [{"type_code": "LA_JUDGMENT_DEBTOR"}])
    assert _states(app, person) == [(True, "restricted"), (True, "restricted")]
    views = client.get("/mp/v1/me/attestations", headers=person["headers"]).get_json()
    assert [v["state"] for v in views] == ["revoked", "revoked"] and views[0]["revoke_reason"]


def test_withdrawing_partner_sharing_revokes_them(app, client, hangzhou):
    person = _citizen(app, raw_score=True)
    _attest(client, person)
    response = client.delete("/mp/v1/me/consents/partner_sharing", headers=person["headers"])
    assert response.status_code == 200, response.get_json()
    assert _states(app, person) == [(True, "consent_withdrawn")]


def test_withdrawing_raw_score_sharing_revokes_only_those_with_the_score(app, client, hangzhou):
    person = _citizen(app, raw_score=True)
    _attest(client, person)
    client.delete("/mp/v1/me/consents/raw_score_sharing", headers=person["headers"])
    _attest(client, person)
    assert _states(app, person) == [(True, "raw_score_withdrawn"), (False, None)]


def test_the_revocation_feed_pages_with_an_opaque_cursor_per_partner(app, client, hangzhou, ningbo):
    people = [_citizen(app, name=f"王羲之{i}") for i in range(3)]
    jtis = [_attest(client, person)["jti"] for person in people]
    other = _attest(client, people[0], "330200")["jti"]
    for person in people:
        client.delete("/mp/v1/me/consents/partner_sharing", headers=person["headers"])
    first = client.get("/partner/v1/revocations?limit=2", headers=hangzhou.headers()).get_json()
    assert [item["jti"] for item in first["items"]] == jtis[:2] and first["has_more"] is True
    assert all(item["reason"] == "consent_withdrawn" and len(item["sub"]) == 43 for item in first["items"])
    rest = client.get("/partner/v1/revocations", query_string={"since": first["cursor"]},
                      headers=hangzhou.headers()).get_json()
    assert [item["jti"] for item in rest["items"]] == jtis[2:] and rest["has_more"] is False
    empty = client.get("/partner/v1/revocations", query_string={"since": rest["cursor"]},
                       headers=hangzhou.headers()).get_json()
    assert (empty["items"], empty["cursor"]) == ([], rest["cursor"])
    # 宁波 sees only its own.
    ningbo_feed = client.get("/partner/v1/revocations", headers=ningbo.headers()).get_json()
    assert [item["jti"] for item in ningbo_feed["items"]] == [other]
    bad = client.get("/partner/v1/revocations?since=bm9wZQ", headers=hangzhou.headers())
    assert (bad.status_code, bad.get_json()["code"]) == (422, "bad_cursor")


def test_the_nightly_sweep_catches_what_a_listener_missed(app, client, hangzhou):
    person = _citizen(app)
    _attest(client, person)
    with app.app_context():
        # As if the consent had been withdrawn by a path that sent no notice.
        from app.citizens.models import Consent

        db.session.execute(Consent.__table__.update().where(Consent.citizen_id == person["id"],
                                                            Consent.kind == "partner_sharing")
                           .values(withdrawn_at=db.func.now()))
        db.session.commit()
        assert attestations.sweep() == 1
    assert _states(app, person) == [(True, "consent_withdrawn")]


def citizen_id_number(citizen) -> str:
    from app.security.pii import vault

    return vault().decrypt(citizen.id_cipher, citizens.ID_PURPOSE)


def test_the_citizen_revokes_one_attestation_in_either_channel(app, client, hangzhou):
    person = _citizen(app)
    first = _attest(client, person)["jti"]
    second = _attest(client, person)["jti"]
    revoked = client.post(f"/mp/v1/me/attestations/{first}/revoke", headers=person["headers"])
    assert revoked.status_code == 200, revoked.get_json()
    assert (revoked.get_json()["state"], revoked.get_json()["revoke_reason"]) == ("revoked", "本人撤销")
    again = client.post(f"/mp/v1/me/attestations/{first}/revoke", headers=person["headers"])
    assert (again.status_code, again.get_json()["code"]) == (409, "attestation_already_revoked")
    stranger = _citizen(app, name="陌生人")
    assert client.post(f"/mp/v1/me/attestations/{second}/revoke", headers=stranger["headers"]).status_code == 404
    feed = client.get("/partner/v1/revocations", headers=hangzhou.headers()).get_json()
    assert [(item["jti"], item["reason"]) for item in feed["items"]] == [(first, "citizen_revoked")]

    with app.app_context():
        zlb = zlb_headers(citizens.get_by_ref(person["ref"]))
    through_zlb = client.post("/zlb/v1/me/attestations/revoke", json={"jti": second}, headers=zlb)
    assert through_zlb.status_code == 200 and through_zlb.get_json()["state"] == "revoked"
    assert _states(app, person) == [(True, "citizen_revoked"), (True, "citizen_revoked")]
