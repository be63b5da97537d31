"""自愿注册 as a citizen and the credit centre see it: report with a signed truth commitment, verified by staff within
3 working days, an accepted report becomes a record of the credit centre and counts."""

from __future__ import annotations

from datetime import timedelta

from app.rights import calendar
from app.timeutil import city_today


def types(rights):
    return rights.client.get("/mp/v1/me/voluntary-reports/types", headers=rights.citizen).get_json()


def submit(rights, headers=None, **overrides):
    body = {"type": "HN_BLOOD_DONATION", "occurred_at": (city_today() - timedelta(days=20)).isoformat(),
            "issuer": "绍兴市中心血站", "certificate_no": "330600-2026-0815",
            "commitment_version": types(rights)["commitment_version"], "commitment_accepted": True, **overrides}
    return rights.client.post("/mp/v1/me/voluntary-reports", headers=headers or rights.citizen, json=body)


def test_report_verify_and_count(app, rights):
    offered = types(rights)
    assert {t["code"] for t in offered["types"]} >= {"HN_BLOOD_DONATION", "HN_VOLUNTEER", "HN_HONOUR_CITY"}
    assert "虚假承诺约束" in offered["commitment_text"]
    before = rights.score()
    response = submit(rights)
    assert response.status_code == 201, response.get_json()
    report = response.get_json()
    with app.app_context():
        expected = calendar.add_working_days(city_today(), 3).date  # the city's day (UTC is a day behind at night)
    assert (report["state"], report["state_name"], report["deadline"]) == ("submitted", "待核实", expected.isoformat())

    queue = rights.client.get("/api/v1/voluntary-reports", headers=rights.staff).get_json()["items"]
    assert [r["ref"] for r in queue] == [report["ref"]]
    decided = rights.client.post(f"/api/v1/voluntary-reports/{report['ref']}/decision", headers=rights.staff,
                                 json={"decision": "accepted", "reason": "已与血站核对献血证"})
    assert decided.status_code == 200 and decided.get_json()["state"] == "accepted"
    assert rights.score() == before + 10
    records = rights.client.get("/mp/v1/me/records?per_page=100", headers=rights.citizen).get_json()["items"]
    assert any(r["type_code"] == "HN_BLOOD_DONATION" and r["counted"] for r in records)
    assert any(m["kind"] == "voluntary_accepted" for m in rights.messages())
    again = rights.client.post(f"/api/v1/voluntary-reports/{report['ref']}/decision", headers=rights.staff,
                               json={"decision": "rejected", "reason": "重复处理"})
    assert (again.status_code, again.get_json()["code"]) == (409, "voluntary_report_decided")


def test_a_rejected_report_changes_nothing_but_says_why(rights):
    before = rights.score()
    ref = submit(rights, type="HN_VOLUNTEER", quantity=30, issuer="绍兴市志愿者协会").get_json()["ref"]
    rights.client.post(f"/api/v1/voluntary-reports/{ref}/decision", headers=rights.staff,
                       json={"decision": "rejected", "reason": "志愿汇平台查无此记录"})
    assert rights.score() == before
    mine = rights.client.get("/mp/v1/me/voluntary-reports", headers=rights.citizen).get_json()["items"]
    assert mine[0]["state"] == "rejected" and mine[0]["decision_reason"] == "志愿汇平台查无此记录"
    assert any("志愿汇平台查无此记录" in m["body"] for m in rights.messages())


def test_refusals(rights):
    cases = [
        (submit(rights, type="LA_PENALTY_GENERAL"), 403, "type_not_self_reportable"),
        (submit(rights, type="CM_KEPT_ENV"), 403, "type_not_self_reportable"),
        (submit(rights, type="XX_NOTHING"), 404, "record_type_unknown"),
        (submit(rights, commitment_version="2020.1"), 409, "commitment_text_outdated"),
        (submit(rights, commitment_accepted=False), 422, "commitment_not_accepted"),
        (submit(rights, occurred_at=(city_today() + timedelta(days=2)).isoformat()), 422, "impossible_date"),
        (submit(rights, occurred_at=(city_today() - timedelta(days=2000)).isoformat()), 422, "record_too_old"),
        (submit(rights, type="HN_HONOUR_CITY", quantity=3), 422, "quantity_not_applicable"),
        (submit(rights, issuer=""), 422, "validation_error"),
    ]
    for response, status, code in cases:
        body = response.get_json()
        assert (response.status_code, body["code"]) == (status, code), body
        assert body["message"]
    assert rights.client.get("/api/v1/voluntary-reports").status_code == 401
    not_found = rights.client.post("/api/v1/voluntary-reports/nope/decision", headers=rights.staff,
                                   json={"decision": "accepted", "reason": "核实无误"})
    assert not_found.status_code == 404


def test_an_accepted_report_found_untrue_becomes_the_false_commitment_record(rights):
    """What the signed commitment text promises (issue 22, defect 11a): found untrue later, the positive record is
    revoked and a 虚假承诺 record of the credit centre is written, through app/records like any record."""
    before = rights.score()
    ref = submit(rights).get_json()["ref"]
    rights.client.post(f"/api/v1/voluntary-reports/{ref}/decision", headers=rights.staff,
                       json={"decision": "accepted", "reason": "已与血站核对献血证"})
    assert rights.score() == before + 10
    found = rights.client.post(f"/api/v1/voluntary-reports/{ref}/untrue", headers=rights.staff,
                               json={"reason": "血站复核：该献血证系伪造"})
    assert found.status_code == 200, found.get_json()
    assert (found.get_json()["state"], found.get_json()["state_name"]) == ("untrue", "经查不实")
    records = rights.client.get("/mp/v1/me/records?per_page=100", headers=rights.citizen).get_json()["items"]
    donation = next(r for r in records if r["type_code"] == "HN_BLOOD_DONATION")
    false = [r for r in records if r["type_code"] == "CM_FALSE"]
    assert donation["status"] == "revoked" and len(false) == 1 and false[0]["department"] == "信用中心"
    assert "血站复核：该献血证系伪造" in false[0]["summary"]
    assert rights.score() < before
    assert any(m["kind"] == "voluntary_untrue" for m in rights.messages())
    again = rights.client.post(f"/api/v1/voluntary-reports/{ref}/untrue", headers=rights.staff,
                               json={"reason": "重复认定"})
    assert (again.status_code, again.get_json()["code"]) == (409, "voluntary_report_not_accepted")
    records = rights.client.get("/mp/v1/me/records?per_page=100", headers=rights.citizen).get_json()["items"]
    assert len([r for r in records if r["type_code"] == "CM_FALSE"]) == 1
