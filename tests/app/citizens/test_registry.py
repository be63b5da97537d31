"""The registry keeps ID numbers encrypted; staff find a citizen only with the number in a request body."""

from datetime import date

from sqlalchemy import text

from app.extensions import db
from tests.factories import gen_citizen, new_id_number, staff_headers


def test_id_number_and_phone_are_not_stored_in_clear(app, ctx):
    number = new_id_number(date(1980, 1, 2))
    gen_citizen("周敏", number, phone="13912345678")
    row = db.session.execute(text("SELECT * FROM citizen")).mappings().one()
    stored = " ".join(str(value) for value in row.values())
    assert number not in stored and number[:14] not in stored
    assert "13912345678" not in stored
    assert row["id_masked"] == number[:4] + "**********" + number[-4:]


def test_staff_register_then_lookup_shows_masked_data_and_audits(client, ctx):
    headers = staff_headers(client)
    number = new_id_number(date(1975, 8, 9))
    created = client.post("/api/v1/citizens", json={"name": "鲁迅", "id_number": number, "phone": "13700001111",
                                                    "scoring_consent": True}, headers=headers)
    assert created.status_code == 201, created.get_json()
    found = client.post("/api/v1/citizens/lookup", json={"id_number": number.lower(), "reason": "窗口业务办理"},
                        headers=headers)
    assert found.status_code == 200
    body = found.get_json()
    assert body["ref"] == created.get_json()["ref"]
    assert body["masked_id_number"].startswith(number[:4]) and "*" in body["masked_id_number"]
    assert body["masked_phone"] == "137****1111"
    assert number not in found.get_data(as_text=True)
    scoring = next(c for c in body["consents"] if c["kind"] == "scoring")
    assert scoring["granted"] is True and scoring["granted_at"]

    from app.audit.models import AuditEntry
    from app.audit.service import chain_pending

    chain_pending()  # as the audit-chain job does within seconds
    actions = [(e.actor_id, e.action, e.reason) for e in db.session.scalars(db.select(AuditEntry))]
    assert ("staff01", "citizen.lookup", "窗口业务办理") in actions


def test_registration_refusals(client, ctx):
    headers = staff_headers(client)
    minor = new_id_number(date.today().replace(year=date.today().year - 17))
    cases = [
        ({"name": "李四", "id_number": "440308199901101513"}, 422, "id_number_checksum"),
        ({"name": "李四", "id_number": minor}, 422, "not_adult"),
        ({"name": "李四", "id_number": new_id_number(), "phone": "12345"}, 422, "invalid_phone"),
    ]
    for payload, status, code in cases:
        response = client.post("/api/v1/citizens", json=payload, headers=headers)
        assert (response.status_code, response.get_json()["code"]) == (status, code)
    number = new_id_number()
    first = client.post("/api/v1/citizens", json={"name": "李四", "id_number": number}, headers=headers)
    assert first.status_code == 201
    again = client.post("/api/v1/citizens", json={"name": "李四", "id_number": number}, headers=headers)
    assert (again.status_code, again.get_json()["code"]) == (409, "citizen_exists")


def test_lookup_of_an_unknown_number_and_without_login(client, ctx):
    payload = {"id_number": new_id_number(), "reason": "核查"}
    assert client.post("/api/v1/citizens/lookup", json=payload).status_code == 401
    response = client.post("/api/v1/citizens/lookup", json=payload, headers=staff_headers(client))
    assert (response.status_code, response.get_json()["code"]) == (404, "citizen_not_found")


def test_without_scoring_consent_no_score_is_computed_or_shown(client, ctx):
    headers = staff_headers(client)
    citizen = gen_citizen("金华", consent=False)
    response = client.get(f"/api/v1/citizens/{citizen.ref}/score", headers=headers)
    assert (response.status_code, response.get_json()["code"]) == (409, "no_scoring_consent")

    granted = client.put(f"/api/v1/citizens/{citizen.ref}/consents/scoring", headers=headers)
    assert granted.status_code == 200
    shown = client.get(f"/api/v1/citizens/{citizen.ref}/score", headers=headers)
    assert shown.status_code == 200 and shown.get_json()["total"] == 655

    withdrawn = client.delete(f"/api/v1/citizens/{citizen.ref}/consents/scoring", headers=headers)
    consent = next(c for c in withdrawn.get_json()["consents"] if c["kind"] == "scoring")
    assert consent["granted"] is False and consent["withdrawn_at"]
    assert client.get(f"/api/v1/citizens/{citizen.ref}/score", headers=headers).status_code == 409


def test_staff_login_refuses_wrong_password(client, ctx):
    staff_headers(client)
    response = client.post("/api/v1/auth/token", json={"username": "staff01", "password": "wrong-password"})
    assert (response.status_code, response.get_json()["code"]) == (401, "invalid_credentials")
    unknown = client.post("/api/v1/auth/token", json={"username": "nobody", "password": "wrong-password"})
    assert unknown.get_json()["code"] == "invalid_credentials"
    forged = client.get("/api/v1/citizens/abc/score", headers={"Authorization": "Bearer st_forged"})
    assert forged.status_code == 401
