"""Our citizens' attestations as SD-JWT VC for partners registered with ``credential_format: sd-jwt-vc``: the
standard shape, each disclosure the citizen chooses and only those, verified by our verifier and by the npm
@sd-jwt libraries; a tampered disclosure refused; the Token Status List bit flipped by a revocation and seen by a
fresh verifier; indices never reused."""

from __future__ import annotations

import base64
import json
import threading
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.citizens import service as citizens
from app.extensions import db
from app.partners import sdjwt, status_list
from app.partners import service as registry
from app.partners.models import Attestation
from app.security.signing import keyring
from tests.benefits.helpers import make_citizen, mp_headers
from tests.npm_sd_jwt import npm_verify


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture
def modern(app, hangzhou):
    """杭州 has moved to SD-JWT VC."""
    with app.app_context():
        registry.update_partner("330100", {"credential_format": "sd-jwt-vc"})
        db.session.commit()
    return hangzhou


def _citizen(app, name="李清照", raw_score=True, level=3):
    with app.app_context():
        citizen = make_citizen(name, level=level)
        citizens.grant_consent(citizen, "partner_sharing", channel="test")
        if raw_score:
            citizens.grant_consent(citizen, "raw_score_sharing", channel="test")
        db.session.commit()
        return {"id": citizen.id, "headers": mp_headers(citizen)}


def _attest(client, person, disclose=None, status=201):
    body = {"partner": "330100"} | ({"disclose": disclose} if disclose is not None else {})
    response = client.post("/mp/v1/me/attestations", json=body, headers=person["headers"])
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _parts(token: str) -> tuple[dict, dict, list[list]]:
    issuer_jwt, *disclosures = token.split("~")
    header, payload = (json.loads(_unb64(part)) for part in issuer_jwt.split(".")[:2])
    return header, payload, [json.loads(_unb64(d)) for d in disclosures if d]


def _status_lists(client, token: str) -> dict:
    _, payload, _ = _parts(token)
    uri = payload["status"]["status_list"]["uri"]
    response = client.get(urlsplit(uri).path)
    assert response.status_code == 200 and response.mimetype == "application/statuslist+jwt"
    return {uri: response.get_data(as_text=True)}


def test_the_attestation_has_the_sd_jwt_vc_shape(app, client, modern):
    person = _citizen(app)
    issued = _attest(client, person)
    assert issued["credential_format"] == "sd-jwt-vc" and issued["attestation"].endswith("~")
    header, payload, disclosures = _parts(issued["attestation"])
    assert (header["typ"], header["alg"]) == ("dc+sd-jwt", "Ed25519")
    assert header["kid"] in {k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]}
    assert payload["vct"] == sdjwt.VCT and payload["_sd_alg"] == "sha-256"
    assert (payload["iss"], payload["aud"], payload["level"], payload["level_name"]) == ("330600", "330100", 3, "良好")
    assert payload["nbf"] == payload["iat"] and payload["exp"] - payload["iat"] == 7 * 24 * 3600
    assert len(payload["sub"]) == 43 and payload["jti"] == issued["jti"]
    reference = payload["status"]["status_list"]
    assert isinstance(reference["idx"], int) and "/partner/v1/status-lists/" in reference["uri"]
    # Level only: nothing else disclosed, and the two decoy digests make that invisible.
    assert disclosures == [] and len(payload["_sd"]) == 2
    assert "score" not in payload and "name" not in payload and "李清照" not in issued["attestation"]


@pytest.mark.parametrize("disclose", [[], ["score"], ["name"], ["score", "name"]])
def test_each_disclosure_only_when_chosen_and_both_verifiers_agree(app, client, modern, disclose):
    person = _citizen(app)
    issued = _attest(client, person, disclose)
    assert (issued["score_included"], issued["name_included"]) == ("score" in disclose, "name" in disclose)
    with app.app_context():
        header, claims, names = sdjwt.verify(issued["attestation"], keyring().current().jose_public())
        score = db.session.scalar(select(Attestation.level).where(Attestation.jti == issued["jti"]))
    assert sorted(names) == sorted(disclose)
    assert ("name" in claims) == ("name" in disclose) and ("score" in claims) == ("score" in disclose)
    if "name" in disclose:
        assert claims["name"] == "李清照"
    if "score" in disclose:
        assert isinstance(claims["score"], int) and 0 <= claims["score"] <= 1000
    assert score == claims["level"] == 3

    jwks = client.get("/.well-known/jwks.json").get_json()
    outside = npm_verify(issued["attestation"], jwks, _status_lists(client, issued["attestation"]))
    assert outside["ok"], outside
    assert outside["status"] == 0 and outside["header"]["typ"] == "dc+sd-jwt"
    assert {k for k in ("score", "name") if k in outside["payload"]} == set(disclose)
    assert outside["payload"]["level"] == 3 and outside["payload"].get("name") == claims.get("name")


def test_the_score_needs_raw_score_consent(app, client, modern):
    person = _citizen(app, raw_score=False)
    refused = _attest(client, person, ["score"], status=403)
    assert refused["code"] == "raw_score_sharing_required" and "分值共享授权" in refused["message"]
    assert _attest(client, person, ["name"])["name_included"] is True
    bad = client.post("/mp/v1/me/attestations", json={"partner": "330100", "disclose": ["id_number"]},
                      headers=person["headers"])
    assert bad.status_code == 422 and "disclose" in bad.get_json()["errors"]


def _tampered(token: str) -> str:
    issuer_jwt, *disclosures = token.split("~")
    salt, name, value = json.loads(_unb64(disclosures[0]))
    forged = base64.urlsafe_b64encode(json.dumps([salt, name, value + 100]).encode()).rstrip(b"=").decode()
    return "~".join([issuer_jwt, forged, *disclosures[1:]])


def test_a_tampered_disclosure_is_refused_by_both_verifiers(app, client, modern):
    person = _citizen(app)
    issued = _attest(client, person, ["score"])
    forged = _tampered(issued["attestation"])
    with app.app_context(), pytest.raises(sdjwt.SdJwtError) as refused:
        sdjwt.verify(forged, keyring().current().jose_public())
    assert refused.value.reason == "bad_disclosure"
    jwks = client.get("/.well-known/jwks.json").get_json()
    outside = npm_verify(forged, jwks, _status_lists(client, issued["attestation"]))
    # @sd-jwt 0.19 drops a disclosure no digest references instead of refusing the whole SD-JWT (RFC 9901 §7.1
    # says refuse; ours does): either way the forged score never reaches the verifier's claims.
    assert outside["ok"] is False or "score" not in outside["payload"], outside
    # A disclosure added twice is no better.
    disclosure = issued["attestation"].split("~")[1]
    with app.app_context(), pytest.raises(sdjwt.SdJwtError):
        sdjwt.verify(issued["attestation"] + disclosure + "~", keyring().current().jose_public())


def test_the_status_list_encoding_reproduces_the_drafts_vector():
    # draft-ietf-oauth-status-list §4: statuses at these indices set in a 16-entry 1-bit list
    raw = status_list.pack(dict.fromkeys([0, 3, 4, 5, 7, 8, 9, 13, 15], 1), 16)
    assert bytes(raw) == bytes([0xB9, 0xA3])
    assert status_list.encode_lst(raw) == "eNrbuRgAAhcBXQ"
    assert status_list.decode_lst("eNrbuRgAAhcBXQ") == bytes([0xB9, 0xA3])
    assert [status_list.status_at(raw, i) for i in range(16)] == [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]


def test_a_revocation_flips_the_bit_a_fresh_verifier_sees(app, client, modern):
    person = _citizen(app)
    issued = _attest(client, person, ["name"])
    jwks = client.get("/.well-known/jwks.json").get_json()
    before = _status_lists(client, issued["attestation"])
    (uri, list_jwt), = before.items()
    header, claims, _ = _parts(list_jwt + "~")
    assert header["typ"] == "statuslist+jwt" and claims["sub"] == uri
    assert claims["ttl"] == 300 and claims["exp"] > claims["iat"] and claims["status_list"]["bits"] == 1
    outside = npm_verify(issued["attestation"], jwks, before)
    assert outside["ok"] and outside["status"] == outside["list_status"] == 0, outside

    # The citizen withdraws partner sharing: the attestation is revoked, in the feed and in the list.
    assert client.delete("/mp/v1/me/consents/partner_sharing", headers=person["headers"]).status_code in (200, 204)
    after = _status_lists(client, issued["attestation"])
    outside = npm_verify(issued["attestation"], jwks, after)
    assert outside["ok"] is False and outside["status"] == 1, outside
    assert npm_verify(issued["attestation"], jwks, before)["ok"]  # the old list said valid: the bit is the difference
    history = client.get("/mp/v1/me/attestations", headers=person["headers"]).get_json()
    assert next(a for a in history if a["jti"] == issued["jti"])["state"] == "revoked"
    with app.app_context():
        index = db.session.scalar(select(Attestation.status_idx).where(Attestation.jti == issued["jti"]))
    raw = status_list.decode_lst(json.loads(_unb64(after[uri].split(".")[1]))["status_list"]["lst"])
    assert status_list.status_at(raw, index) == 1 and sum(bin(b).count("1") for b in raw) == 1


def test_unknown_status_list_is_a_404_in_chinese(client):
    response = client.get("/partner/v1/status-lists/999")
    assert response.status_code == 404 and response.get_json()["code"] == "status_list_unknown"


def test_indices_are_never_reused_and_a_full_list_is_followed_by_a_new_one(app, monkeypatch):
    monkeypatch.setitem(app.config, "STATUS_LIST_SIZE", 3)
    with app.app_context():
        taken = []
        for _ in range(7):
            taken.append(status_list.allocate())
            db.session.commit()
    assert taken == [(1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (2, 2), (3, 0)]


def test_concurrent_allocations_never_share_an_index(app, monkeypatch):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite has a single writer: concurrent allocation is a PostgreSQL question")
    monkeypatch.setitem(app.config, "STATUS_LIST_SIZE", 5)
    taken, errors = [], []

    def work():
        try:
            with app.app_context():
                for _ in range(4):
                    taken.append(status_list.allocate())
                    db.session.commit()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(taken) == 24 and len(set(taken)) == 24
