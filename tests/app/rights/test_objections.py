"""信用异议 over HTTP: the citizen files, the record stops counting at once, the department answers, staff
decide; every refusal is a 4xx with a stable code and changes nothing."""

from datetime import date

import time_machine

from tests.app.rights.conftest import image_bytes
from tests.factories import bearer


def _case(rights, ref, headers=None):
    return rights.client.get(f"/mp/v1/me/cases/{ref}", headers=headers or rights.citizen).get_json()


def test_objection_upheld_end_to_end(rights):
    client = rights.client
    record = rights.report(type_code="LA_PENALTY_GENERAL", summary="占道经营")
    before = rights.score()
    response = rights.object(record, files=[("decision.jpg", image_bytes())])
    assert response.status_code == 201, response.get_json()
    case = response.get_json()
    assert (case["kind"], case["state"], case["record"]["status"]) == ("objection", "received", "disputed")
    assert case["deadline"] == "2026-12-09" or case["working_days_left"] == 5
    assert case["working_days_left"] == 5 and case["deadline_provisional"] is False
    assert [e["action"] for e in case["timeline"]] == ["received"]
    assert len(case["evidence"]) == 1

    # The record stops counting at once: the penalty's 30 points come back.
    assert rights.score() == before + 30
    assert rights.record(record)["status"] == "disputed" and rights.record(record)["counted"] is False

    # The citizen sees their evidence; the owning department sees the case and the evidence.
    evidence_url = case["evidence"][0]["url"]
    shown = client.get(evidence_url, headers=rights.citizen)
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    queue = client.get("/api/v1/departments/me/objections?state=open", headers=bearer(rights.key)).get_json()
    assert [item["ref"] for item in queue["items"]] == [case["ref"]]
    detail = client.get(f"/api/v1/departments/me/objections/{case['ref']}", headers=bearer(rights.key)).get_json()
    department_file = client.get(detail["evidence"][0]["url"], headers=bearer(rights.key))
    assert department_file.status_code == 200 and department_file.data == shown.data

    answer = client.post(f"/api/v1/departments/me/objections/{case['ref']}/answer", headers=bearer(rights.key),
                         json={"finding": "经核查，该处罚决定已于11月被复议撤销。"})
    assert answer.status_code == 200 and answer.get_json()["state"] == "answered"

    decided = rights.decide_objection(case["ref"], "upheld")
    assert decided.status_code == 200, decided.get_json()
    assert decided.get_json()["state"] == "upheld" and decided.get_json()["record"]["status"] == "revoked"
    assert rights.score() == before + 30
    assert rights.record(record)["status"] == "revoked"

    mine = _case(rights, case["ref"])
    assert mine["state_name"] == "异议成立" and mine["decision_reason"] == "经核查，该处罚已被复议机关撤销"
    assert [(e["action"], e["actor_type"]) for e in mine["timeline"]] == [
        ("received", "citizen"), ("answered", "department"), ("upheld", "staff")]
    assert mine["timeline"][1]["actor"] == "绍兴市市场监督管理局"

    kinds = [m["kind"] for m in rights.messages()]
    assert kinds[:2] == ["objection_decided", "objection_received"]
    decided_message = rights.messages()[0]
    assert "异议成立" in decided_message["body"] and decided_message["related_ref"] == case["ref"]

    # Audit: the citizen's "who looked at my credit" shows the department's and staff's steps.
    trail = client.get("/mp/v1/me/audit?per_page=100", headers=rights.citizen).get_json()["items"]
    actions = {item.get("action") for item in trail}
    assert {"rights.objection.file", "rights.objection.answer", "rights.objection.decide",
            "rights.evidence.view", "rights.case.view"} <= actions


def test_dismissed_counts_again_and_corrected_changes_the_record(rights):
    first = rights.report(type_code="LA_PENALTY_GENERAL", summary="占道经营")
    second = rights.report(type_code="LA_PENALTY_SERIOUS", summary="无证经营", days_ago=200)
    before = rights.score()
    one = rights.object(first).get_json()
    two = rights.object(second).get_json()
    assert rights.score() == before + 30 + 80

    assert rights.decide_objection(one["ref"], "dismissed", "经核查，处罚事实清楚").status_code == 200
    assert rights.record(first)["status"] == "active" and rights.score() == before + 80

    response = rights.decide_objection(two["ref"], "corrected", "处罚日期登记有误，予以更正",
                                       correction={"summary": "无证经营（已更正）", "occurred_at": "2026-03-01"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["correction"] == {"summary": ["无证经营", "无证经营（已更正）"],
                                                 "occurred_at": [response.get_json()["correction"]["occurred_at"][0],
                                                                 "2026-03-01"]}
    corrected = rights.record(second)
    assert (corrected["status"], corrected["summary"], corrected["occurred_at"]) == (
        "active", "无证经营（已更正）", "2026-03-01")
    assert rights.score() == before


def test_withdrawn_objection_counts_again(rights):
    record = rights.report()
    before = rights.score()
    case = rights.object(record).get_json()
    response = rights.client.post(f"/mp/v1/me/objections/{case['ref']}/withdraw", headers=rights.citizen)
    assert response.status_code == 200 and response.get_json()["state"] == "withdrawn"
    assert rights.score() == before and rights.record(record)["status"] == "active"
    again = rights.client.post(f"/mp/v1/me/objections/{case['ref']}/withdraw", headers=rights.citizen)
    assert again.status_code == 409 and again.get_json()["code"] == "case_already_decided"
    # Withdrawn is not a decision: a new objection needs no new evidence.
    assert rights.object(record).status_code == 201


def test_refusals_change_nothing(rights):
    client = rights.client
    mine = rights.report()
    theirs = rights.report(person="chen")
    revoked = rights.report(status="revoked")

    def refused(response, status, code):
        assert response.status_code == status, response.get_json()
        body = response.get_json()
        assert body["code"] == code and body["message"] and body["status"] == status
        return body

    refused(rights.object(theirs), 404, "record_not_found")
    refused(rights.object(revoked), 409, "record_not_contestable")
    old = rights.report(days_ago=400)  # past the catalog's 365 days: the expiry job marks it expired
    with rights.app.app_context():
        from app.scheduler.jobs import expire_records

        assert expire_records() == 1
    refused(rights.object(old), 409, "record_not_contestable")
    assert "reason_code" in str(refused(rights.object(mine, reason_code="because"), 422, "validation_error")["errors"])
    refused(rights.object(mine, files=[("a.gif", b"GIF89a" + b"\0" * 30)]), 415, "unsupported_file_type")
    refused(rights.object(mine, files=[("fake.jpg", b"\xff\xd8\xff" + b"not really a jpeg")]), 415,
            "unsupported_file_type")
    big = image_bytes("PNG", size=(10, 10)) + b"\0" * (rights.app.config["EVIDENCE_MAX_BYTES"])
    refused(rights.object(mine, files=[("big.png", big)]), 413, "file_too_large")
    many = [(f"{i}.png", image_bytes("PNG")) for i in range(rights.app.config["EVIDENCE_MAX_FILES"] + 1)]
    refused(rights.object(mine, files=many), 422, "too_many_files")
    assert client.get("/mp/v1/me/cases", headers=rights.citizen).get_json()["total"] == 0
    assert rights.record(mine)["status"] == "active"

    case = rights.object(mine).get_json()
    refused(rights.object(mine), 409, "record_already_disputed")

    # A department answering a case about a record it does not own.
    refused(client.post(f"/api/v1/departments/me/objections/{case['ref']}/answer",
                        headers=bearer(rights.other_key), json={"finding": "与本部门无关"}), 403, "case_not_owned")
    refused(client.get(f"/api/v1/departments/me/objections/{case['ref']}", headers=bearer(rights.other_key)),
            403, "case_not_owned")
    evidence_case = rights.object(rights.report(), files=[("p.png", image_bytes("PNG"))]).get_json()
    url = evidence_case["evidence"][0]["url"].replace("/mp/v1/me/evidence/", "/api/v1/departments/me/evidence/")
    refused(client.get(url, headers=bearer(rights.other_key)), 404, "evidence_not_found")
    chen = rights.bind("chen")
    refused(client.get(evidence_case["evidence"][0]["url"], headers=chen), 404, "evidence_not_found")
    refused(client.get(f"/mp/v1/me/cases/{case['ref']}", headers=chen), 404, "case_not_found")

    # A decision with a correction that is not a correction, then a decision on a decided case.
    refused(rights.decide_objection(case["ref"], "dismissed", correction={"summary": "x"}), 422,
            "correction_not_allowed")
    assert rights.decide_objection(case["ref"], "dismissed").status_code == 200
    refused(rights.decide_objection(case["ref"], "upheld"), 409, "case_already_decided")
    refused(client.post(f"/api/v1/departments/me/objections/{case['ref']}/answer", headers=bearer(rights.key),
                        json={"finding": "迟到的答复"}), 409, "case_already_decided")
    assert rights.record(mine)["status"] == "active"

    # After a decision, a new objection needs new evidence (the same picture again is not new).
    refused(rights.object(mine), 422, "new_evidence_required")
    photo = image_bytes("PNG", color=(1, 2, 3))
    first_again = rights.object(mine, files=[("new.png", photo)])
    assert first_again.status_code == 201
    assert rights.client.post(f"/mp/v1/me/objections/{first_again.get_json()['ref']}/withdraw",
                              headers=rights.citizen).status_code == 200


def test_objection_deadline_across_national_day(rights):
    with time_machine.travel(date(2026, 9, 29), tick=True):
        headers = rights.bind("chen")
        record = rights.report(person="chen", days_ago=30)
        case = rights.object(record, headers=headers).get_json()
        assert case["deadline"] == "2026-10-12" and case["deadline_provisional"] is False
        assert case["working_days_left"] == 5
        assert "2026-10-12 前" in rights.messages(headers)[0]["body"]


def test_objection_late_in_december_is_provisional_until_2027_is_entered(rights):
    with time_machine.travel(date(2026, 12, 28), tick=True):
        headers = rights.bind("chen")
        record = rights.report(person="chen", days_ago=30)
        case = rights.object(record, headers=headers).get_json()
        assert case["deadline"] == "2027-01-04" and case["deadline_provisional"] is True
        assert "（暂定）" in rights.messages(headers)[0]["body"]


def test_two_staff_deciding_at_once_exactly_one_wins(rights, twin_app):
    import threading

    record = rights.report()
    case = rights.object(record).get_json()
    results = []
    barrier = threading.Barrier(2)

    def decide(decision):
        local = rights.app.test_client()
        barrier.wait()
        response = local.post(f"/api/v1/rights/objections/{case['ref']}/decision", headers=rights.staff,
                              json={"decision": decision, "reason": "并发处理"})
        results.append((response.status_code, response.get_json()["code"] if response.status_code != 200
                        else response.get_json()["state"]))

    threads = [threading.Thread(target=decide, args=(d,)) for d in ("upheld", "dismissed")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409], results
    winner = next(state for status, state in results if status == 200)
    assert next(code for status, code in results if status == 409) == "case_already_decided"
    assert rights.record(record)["status"] == ("revoked" if winner == "upheld" else "active")
    timeline = _case(rights, case["ref"])["timeline"]
    assert [e["action"] for e in timeline] == ["received", winner]


def test_two_objections_filed_at_once_open_one_case(rights):
    import threading

    record = rights.report()
    barrier = threading.Barrier(2)
    results = []

    def file():
        barrier.wait()
        results.append(rights.object(record).status_code)

    threads = [threading.Thread(target=file) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [201, 409]
    assert rights.client.get("/mp/v1/me/cases", headers=rights.citizen).get_json()["total"] == 1
