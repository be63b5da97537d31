"""Every /zlb/v1 operation the H5 uses, without path parameters (ids in the query or the body), on the same services
and with the same refusals as /mp/v1: a tour through all of them that the served /openapi.json is checked against."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest

from app.extensions import db
from app.rights import calendar
from tests.app.rights.conftest import image_bytes
from tests.factories import bearer, gen_department

TYPES = ("LA_PENALTY_GENERAL", "LA_PENALTY_SERIOUS", "CM_KEPT_ENV")


def _zlb_operations(client) -> set[tuple[str, str]]:
    paths = client.get("/openapi.json").get_json()["paths"]
    return {(method.upper(), path) for path, item in paths.items() if path.startswith("/zlb/v1")
            for method in item if method in ("get", "post", "put", "delete", "patch")}


def test_no_zlb_path_has_a_path_parameter(client):
    document = client.get("/openapi.json").get_json()
    zlb_paths = [path for path in document["paths"] if path.startswith("/zlb/")]
    assert len(zlb_paths) >= 30
    assert [path for path in zlb_paths if "{" in path] == []
    for path in zlb_paths:
        for method, operation in document["paths"][path].items():
            assert not [p for p in operation.get("parameters", []) if p.get("in") == "path"], (method, path)
            if path not in ("/zlb/v1/session", "/zlb/v1/client-settings"):
                assert operation.get("security") == [{"zlbToken": []}], (method, path)
    assert document["components"]["securitySchemes"]["zlbToken"]["scheme"] == "bearer"
    body = document["paths"]["/zlb/v1/me/objections"]["post"]["requestBody"]["content"]
    assert set(body) == {"multipart/form-data", "application/json"}


class Tour:
    def __init__(self, client) -> None:
        self.client = client
        self.called: set[tuple[str, str]] = set()

    def __call__(self, method: str, path: str, headers: dict, expect: int = 200, **kwargs):
        response = self.client.open(path, method=method, headers=headers, **kwargs)
        self.called.add((method, path))
        assert response.status_code == expect, (method, path, response.get_json())
        if response.status_code == 204:
            return None
        return response.get_json() if response.is_json else response


@pytest.fixture
def city(app, client, zlb):
    with app.app_context():
        calendar.seed()
        _, key = gen_department("SX_AMR", TYPES, "绍兴市市场监督管理局")
        db.session.remove()

    def report(type_code="LA_PENALTY_GENERAL", days_ago=120, person="wang"):
        row = {"external_id": f"{person}-{type_code}-{days_ago}", "id_number": zlb.people[person]["id_number"],
               "type_code": type_code, "occurred_at": (date.today() - timedelta(days=days_ago)).isoformat()}
        response = client.post("/api/v1/records", json=row, headers=bearer(key))
        assert response.status_code == 200, response.get_json()
        return response.get_json()["ref"]

    return report


def test_every_h5_operation_works_without_path_parameters(client, zlb, city):
    go = Tour(client)
    session = go("POST", "/zlb/v1/session", {}, json={"ticketId": zlb.ticket("wang")})
    me = bearer(session["access_token"])
    settings = go("GET", "/zlb/v1/client-settings", {})
    assert settings["consents"][0]["kind"] == "scoring"
    assert go("GET", "/zlb/v1/me", me)["masked_name"] == "王*"
    assert go("GET", "/zlb/v1/me/consents", me)["consents"][0]["granted"] is False
    go("PUT", "/zlb/v1/me/consents", me, json={"kind": "scoring"})
    go("PUT", "/zlb/v1/me/consents", me, json={"kind": "partner_sharing"})
    penalty = city("LA_PENALTY_GENERAL", days_ago=120)
    old = city("LA_PENALTY_GENERAL", days_ago=400)
    before = go("GET", "/zlb/v1/me/score", me)["total"]
    assert before < 655
    assert go("GET", "/zlb/v1/me/score/history", me)["points"]
    go("GET", "/zlb/v1/me/hints", me)
    assert go("GET", "/zlb/v1/me/records", me, query_string={"status": "active"})["total"] == 2
    assert go("GET", "/zlb/v1/me/record", me, query_string={"ref": penalty})["points"] == -30

    photo = go("POST", "/zlb/v1/me/evidence", me, 201, data={"file": (io.BytesIO(image_bytes()), "a.jpg")},
               content_type="multipart/form-data")
    case = go("POST", "/zlb/v1/me/objections", me, 201, json={
        "record": penalty, "reason_code": "wrong_facts", "reason_text": "已撤销",
        "evidence_ids": [photo["evidence_id"]]})
    assert case["record"]["status"] == "disputed" and "citizen_ref" not in case
    shown = go("GET", "/zlb/v1/me/evidence-file", me, query_string={"ref": case["evidence"][0]["ref"]})
    assert shown.data == image_bytes() and case["evidence"][0]["url"].startswith("/zlb/v1/me/evidence-file?ref=")
    assert go("GET", "/zlb/v1/me/score", me)["total"] == before + 30
    assert go("GET", "/zlb/v1/me/case", me, query_string={"ref": case["ref"]})["timeline"]
    assert go("GET", "/zlb/v1/me/cases", me)["total"] == 1
    assert go("POST", "/zlb/v1/me/objections/withdraw", me, json={"ref": case["ref"]})["state"] == "withdrawn"

    preview = go("GET", "/zlb/v1/me/repairs/preview", me, query_string={"record": old})
    assert preview["can_apply"] is True
    proof = go("POST", "/zlb/v1/me/evidence", me, 201, data={"file": (io.BytesIO(image_bytes("PNG")), "p.png")},
               content_type="multipart/form-data")
    repair = go("POST", "/zlb/v1/me/repairs", me, 201, json={
        "record": old, "statement": "已缴清", "commitment_version": preview["commitment_version"],
        "commitment_accepted": True, "evidence_ids": [proof["evidence_id"]]})
    assert repair["state"] == "applied"

    inbox = go("GET", "/zlb/v1/me/messages", me)
    assert inbox["unread"] >= 2
    first = inbox["items"][0]["ref"]
    assert go("GET", "/zlb/v1/me/message", me, query_string={"ref": first})["ref"] == first
    assert go("GET", "/zlb/v1/me/messages/unread-count", me)["unread"] == inbox["unread"]
    assert go("POST", "/zlb/v1/me/messages/read", me, json={"refs": [first]})["unread"] == inbox["unread"] - 1

    types = go("GET", "/zlb/v1/me/commitment-types", me)
    kind = types[0]
    what_if = go("POST", "/zlb/v1/me/what-if", me, json={"changes": [{"kind": "make_commitment",
                                                                       "type": kind["code"]}]})
    assert what_if["after"]["total"] >= what_if["before"]["total"]
    made = go("POST", "/zlb/v1/me/commitments", me, 201, json={"type": kind["code"],
                                                               "text_version": kind["text_version"], "accepted": True})
    assert go("GET", "/zlb/v1/me/commitment", me, query_string={"ref": made["ref"]})["ref"] == made["ref"]
    assert [c["ref"] for c in go("GET", "/zlb/v1/me/commitments", me)["items"]] == [made["ref"]]
    voluntary_types = go("GET", "/zlb/v1/me/voluntary-reports/types", me)
    certificate = go("POST", "/zlb/v1/me/evidence", me, 201, data={"file": (io.BytesIO(image_bytes()), "c.jpg")},
                     content_type="multipart/form-data")
    report = go("POST", "/zlb/v1/me/voluntary-reports", me, 201, json={
        "type": voluntary_types["types"][0]["code"], "occurred_at": (date.today() - timedelta(days=5)).isoformat(),
        "issuer": "绍兴市中心血站", "commitment_version": voluntary_types["commitment_version"],
        "commitment_accepted": True, "evidence_ids": [certificate["evidence_id"]]})
    assert go("GET", "/zlb/v1/me/voluntary-reports", me)["items"][0]["ref"] == report["ref"]

    go("GET", "/zlb/v1/me/offers", me)
    go("GET", "/zlb/v1/me/offers", me, query_string={"lat": 30.0, "lng": 120.58})
    assert go("POST", "/zlb/v1/me/credit-code", me)["code"]
    go("GET", "/zlb/v1/me/redemptions", me)
    refused = go("POST", "/zlb/v1/me/attestations", me, 404, json={"partner": "990100"})
    assert refused["message"]
    assert go("GET", "/zlb/v1/me/attestations", me) == []
    unknown = go("POST", "/zlb/v1/me/attestations/revoke", me, 404, json={"jti": "0" * 32})
    assert unknown["code"] == "attestation_not_found"  # revoking one for real: tests/app/partners
    assert go("GET", "/zlb/v1/me/audit", me)["total"] >= 1
    go("DELETE", "/zlb/v1/me/consents", me, json={"kind": "partner_sharing"})
    go("DELETE", "/zlb/v1/binding", me, 204)

    assert _zlb_operations(client) == go.called


def test_refusals_are_the_same_in_both_channels(client, zlb, city, wechat):
    from tests.miniprogram_api.conftest import auth, login

    zlb_headers = zlb.login("wang")
    mp = auth(login(client, "chen-phone"))
    who = zlb.people["chen"]
    client.post("/mp/v1/binding", headers=mp, json={"name": who["name"], "id_number": who["id_number"],
                                                    "phone": "13712345678"})
    somebody_elses = city(person="chen")
    pairs = [
        (client.post("/zlb/v1/me/objections", headers=zlb_headers,
                     json={"record": somebody_elses, "reason_code": "wrong_facts"}),
         client.post("/mp/v1/me/objections", headers=mp, json={"record": "0" * 32, "reason_code": "wrong_facts"})),
        (client.get("/zlb/v1/me/case", headers=zlb_headers, query_string={"ref": "0" * 32}),
         client.get(f"/mp/v1/me/cases/{'0' * 32}", headers=mp)),
        (client.post("/zlb/v1/me/objections", headers=zlb_headers,
                     json={"record": "x", "reason_code": "nonsense"}),
         client.post("/mp/v1/me/objections", headers=mp, json={"record": "x", "reason_code": "nonsense"})),
    ]
    for ours, theirs in pairs:
        assert ours.status_code == theirs.status_code
        assert (ours.get_json()["code"], ours.get_json()["message"]) == \
            (theirs.get_json()["code"], theirs.get_json()["message"])
    missing_ref = client.get("/zlb/v1/me/case", headers=zlb_headers)
    assert missing_ref.status_code == 422 and "ref" in str(missing_ref.get_json()["errors"])
