"""浙里办 sign-on: ticket → the province's SSO (through a real stand-in that checks the gateway signature) → the
citizen bound at first login; refusals for unknown ID numbers, province errors and timeouts; one file for a person
with a WeChat and a 浙里办 account."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import requests

from app.audit import service as audit
from app.citizens import service as citizens
from zlb_api import signing
from zlb_api.standin import ACCESS_TOKEN_PATH


def _post_to_standin(sso, headers: dict, body: dict):
    return requests.post(sso.url + ACCESS_TOKEN_PATH, data=json.dumps(body), timeout=5,
                         headers={**headers, "Content-Type": "application/json"})


def test_standin_checks_the_gateway_signature_and_clock(app, zlb_sso):
    ak, sk, app_id = app.config["ZLB_ACCESS_KEY"], app.config["ZLB_SECRET_KEY"], app.config["ZLB_APP_ID"]
    ticket = zlb_sso.issue_ticket({"userId": "u1", "userName": "王丽", "idType": "111", "idNo": "x", "phone": ""})
    body = {"ticketId": ticket, "appId": app_id}

    wrong_secret = _post_to_standin(zlb_sso, signing.sign_headers(ak, "not-the-secret", "POST", ACCESS_TOKEN_PATH),
                                    body)
    assert (wrong_secret.status_code, wrong_secret.text) == (401, "Invalid signature")
    unknown_key = _post_to_standin(zlb_sso, signing.sign_headers("someone", sk, "POST", ACCESS_TOKEN_PATH), body)
    assert (unknown_key.status_code, unknown_key.text) == (401, "Invalid signature")
    other_path = _post_to_standin(zlb_sso, signing.sign_headers(ak, sk, "POST", "/restapi/other"), body)
    assert (other_path.status_code, other_path.text) == (401, "Invalid signature")
    unsigned = _post_to_standin(zlb_sso, {}, body)
    assert (unsigned.status_code, unsigned.text) == (401, "Invalid signature")
    for skew in (timedelta(seconds=-120), timedelta(seconds=120)):
        late = _post_to_standin(zlb_sso, signing.sign_headers(ak, sk, "POST", ACCESS_TOKEN_PATH,
                                                              now=datetime.now(UTC) + skew), body)
        assert (late.status_code, late.text) == (401, "Clock skew exceeded")
    assert zlb_sso.calls["access_token"] == 0  # none of them reached the SSO

    within = _post_to_standin(zlb_sso, signing.sign_headers(ak, sk, "POST", ACCESS_TOKEN_PATH,
                                                            now=datetime.now(UTC) - timedelta(seconds=60)), body)
    assert within.status_code == 200 and within.json()["success"] is True
    assert within.json()["data"]["accessToken"]
    again = _post_to_standin(zlb_sso, signing.sign_headers(ak, sk, "POST", ACCESS_TOKEN_PATH), body)
    assert again.json() == {"success": False, "code": "14001", "message": "ticketId无效或已过期", "data": None}


def test_signature_matches_the_documented_string_to_sign():
    date = "Sun, 06 Dec 2026 16:00:00 GMT"
    assert signing.string_to_sign("post", "/a/b", "z=1&a=2", "AK", date) == "POST\n/a/b\na=2&z=1\nAK\n" + date + "\n"
    import base64
    import hashlib
    import hmac

    expected = base64.b64encode(hmac.new(b"SK", f"POST\n/a/b\na=2&z=1\nAK\n{date}\n".encode(),
                                         hashlib.sha256).digest()).decode()
    assert signing.signature("SK", "POST", "/a/b", "z=1&a=2", "AK", date) == expected


def test_first_login_binds_the_citizen_and_scoring_waits_for_consent(app, client, zlb):
    response = zlb.session(zlb.ticket("wang"))
    assert response.status_code == 200, response.get_json()
    session = response.get_json()
    assert session["bound"] is True and session["token_type"] == "Bearer" and session["expires_in"] > 0
    headers = {"Authorization": f"Bearer {session['access_token']}"}
    assert zlb.sso.calls["access_token"] == 1 and zlb.sso.calls["getUserInfo"] == 1

    me = client.get("/zlb/v1/me", headers=headers).get_json()
    assert me["masked_name"] == "王*" and zlb.people["wang"]["id_number"] not in json.dumps(me)
    no_consent = client.get("/zlb/v1/me/score", headers=headers)
    assert no_consent.status_code == 409 and no_consent.get_json()["code"] == "no_scoring_consent"
    zlb.consent(headers)
    score = client.get("/zlb/v1/me/score", headers=headers)
    assert score.status_code == 200 and score.get_json()["total"] == 655

    # The trail names the channel: the binding and the consent both say 浙里办.
    with app.app_context():
        citizen = citizens.get_by_ref(zlb.people["wang"]["ref"])
        entries, _ = audit.entries_for_subject(citizen.id, 1, 20)
        reasons = {entry.action: entry.reason for entry in entries}
    assert "浙里办" in reasons["zlb.bind"] and "浙里办" in reasons["consent.grant"]
    trail = client.get("/zlb/v1/me/audit", headers=headers).get_json()["items"]
    assert any(item["action_name"] == "浙里办实名登录并关联" and item["who"] == "本人" for item in trail)

    # A second login (a new ticket) is the same account: no second binding.
    again = zlb.login("wang")
    assert client.get("/zlb/v1/me/score", headers=again).get_json()["total"] == 655
    with app.app_context():
        entries, _ = audit.entries_for_subject(citizen.id, 1, 50)
    assert [entry.action for entry in entries].count("zlb.bind") == 1


def test_unknown_id_number_is_told_how_to_register(zlb):
    response = zlb.session(zlb.ticket("stranger"))
    assert response.status_code == 403
    body = response.get_json()
    assert body["code"] == "citizen_not_registered" and "信用中心窗口登记" in body["message"]
    not_an_id = zlb.session(zlb.ticket("wang", idNo="E12345678", idType="414"))
    assert not_an_id.status_code == 403 and not_an_id.get_json()["code"] == "id_type_unsupported"


def test_province_errors_and_timeouts(app, zlb):
    error = zlb.session("error")
    assert error.status_code == 502 and error.get_json()["code"] == "zlb_sso_error"
    assert "浙里办" in error.get_json()["message"]
    refused = zlb.session("refused")
    assert refused.status_code == 401 and refused.get_json()["code"] == "zlb_ticket_invalid"
    assert "重新打开" in refused.get_json()["message"]
    used_twice = zlb.ticket("wang")
    assert zlb.session(used_twice).status_code == 200
    assert zlb.session(used_twice).get_json()["code"] == "zlb_ticket_invalid"
    slow = zlb.session("slow")
    assert slow.status_code == 503 and slow.get_json()["code"] == "zlb_sso_timeout"
    assert "超时" in slow.get_json()["message"]

    # Our client signs with the configured keys: a wrong secret is the gateway's 401, a province error for us.
    app.config["ZLB_SECRET_KEY"], previous = "rotated-elsewhere", app.config["ZLB_SECRET_KEY"]
    try:
        wrong_key = zlb.session(zlb.ticket("wang"))
    finally:
        app.config["ZLB_SECRET_KEY"] = previous
    assert wrong_key.status_code == 502 and zlb.sso.refusals[-1] == "Invalid signature"


def test_one_person_two_channels_one_file(app, client, zlb, wechat):
    from tests.miniprogram_api.conftest import auth, login

    mp_session = login(client, "wang-phone")
    mp = auth(mp_session)
    who = zlb.people["wang"]
    bound = client.post("/mp/v1/binding", headers=mp,
                        json={"name": who["name"], "id_number": who["id_number"], "phone": "13712345678"})
    assert bound.status_code == 201
    zlb_headers = zlb.login("wang")
    # Consent given in WeChat holds in 浙里办: one citizen, one file.
    assert client.get("/zlb/v1/me/score", headers=zlb_headers).get_json() == \
        client.get("/mp/v1/me/score", headers=mp).get_json()
    withdrawn = client.delete("/zlb/v1/me/consents", json={"kind": "scoring"}, headers=zlb_headers)
    assert withdrawn.status_code == 200
    assert client.get("/mp/v1/me/score", headers=mp).get_json()["code"] == "no_scoring_consent"

    # Each token works in its own channel only.
    assert client.get("/mp/v1/me", headers=zlb_headers).status_code == 401
    assert client.get("/mp/v1/me/score", headers=zlb_headers).status_code == 401
    assert client.get("/zlb/v1/me", headers=mp).status_code == 401

    # Unbinding 浙里办 ends its sessions and leaves WeChat's.
    assert client.delete("/zlb/v1/binding", headers=zlb_headers).status_code == 204
    assert client.get("/zlb/v1/me", headers=zlb_headers).status_code == 401
    assert client.get("/mp/v1/me", headers=mp).status_code == 200
    assert client.get("/zlb/v1/me", headers=zlb.login("wang")).status_code == 200  # bound again at next login


def test_demo_container_routes_list_citizens_and_issue_tickets(client, zlb):
    listed = client.get("/zlb/demo/citizens")
    assert listed.status_code == 200
    people = listed.get_json()["citizens"]
    assert {p["handle"] for p in people} >= {zlb.people["wang"]["ref"], zlb.people["chen"]["ref"]}
    assert all(zlb.people[w]["id_number"] not in listed.get_data(as_text=True) for w in ("wang", "chen"))
    assert {p["masked_name"] for p in people} >= {"王*", "陈*"}
    ticket = client.post("/zlb/demo/ticket", json={"handle": zlb.people["chen"]["ref"]})
    assert ticket.status_code == 200
    session = zlb.session(ticket.get_json()["ticketId"])
    assert session.status_code == 200 and session.get_json()["bound"] is True
    unknown = client.post("/zlb/demo/ticket", json={"handle": "nobody"})
    assert unknown.status_code == 404 and unknown.get_json()["code"] == "demo_citizen_not_found"


def test_demo_routes_are_absent_in_production(tmp_path):
    from app.config import Config
    from app.factory import create_app

    production = create_app(Config, INSTANCE_PATH=tmp_path, KEYS_DIR=tmp_path / "keys",
                            SQLALCHEMY_DATABASE_URI="sqlite://")
    assert "zlb_demo" not in production.blueprints
    assert production.test_client().get("/zlb/demo/citizens").status_code == 404
