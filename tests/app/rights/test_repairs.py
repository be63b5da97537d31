"""信用修复 over HTTP: apply with proof and a signed commitment, staff approve (score rises) or reject."""

from tests.app.rights.conftest import image_bytes


def test_repair_approved_end_to_end(rights):
    client = rights.client
    record = rights.report(type_code="LA_PENALTY_GENERAL", days_ago=120, summary="占道经营")
    before = rights.score()

    preview = client.get(f"/mp/v1/me/repairs/preview?record={record}", headers=rights.citizen).get_json()
    assert preview["can_apply"] is True and preview["commitment_version"]
    assert "信用修复承诺书" in preview["commitment_text"] and "虚假承诺" in preview["commitment_text"]

    response = rights.repair(record)
    assert response.status_code == 201, response.get_json()
    case = response.get_json()
    assert (case["kind"], case["state"], case["working_days_left"]) == ("repair", "applied", 3)
    assert case["commitment_version"] == preview["commitment_version"]
    assert case["commitment_text"] == preview["commitment_text"]
    assert rights.score() == before  # an application changes nothing yet

    queue = client.get("/api/v1/rights/cases?kind=repair&state=open", headers=rights.staff).get_json()
    assert [item["ref"] for item in queue["items"]] == [case["ref"]]
    detail = client.get(f"/api/v1/rights/cases/{case['ref']}", headers=rights.staff).get_json()
    proof = client.get(detail["evidence"][0]["url"], headers=rights.staff)
    assert proof.status_code == 200 and proof.mimetype == "image/jpeg"

    decided = rights.decide_repair(case["ref"], "approved")
    assert decided.status_code == 200, decided.get_json()
    assert decided.get_json()["record"]["status"] == "repaired"
    assert rights.score() == before + 30
    assert rights.record(record)["status"] == "repaired"
    message = rights.messages()[0]
    assert message["kind"] == "repair_decided" and "已通过" in message["title"]
    again = rights.decide_repair(case["ref"], "rejected")
    assert again.status_code == 409 and again.get_json()["code"] == "case_already_decided"



def test_repair_rejected_keeps_the_record_counting_and_a_new_application_is_possible(rights):
    record = rights.report(type_code="LA_TAX_ARREARS", days_ago=10, key=rights.key)
    before = rights.score()
    case = rights.repair(record).get_json()
    response = rights.decide_repair(case["ref"], "rejected", "缴款凭证与欠税金额不符")
    assert response.status_code == 200 and response.get_json()["state"] == "rejected"
    assert rights.score() == before and rights.record(record)["status"] == "active"
    assert "缴款凭证与欠税金额不符" in rights.messages()[0]["body"]
    assert rights.repair(record).status_code == 201


def test_repair_refusals(rights):
    def refused(response, status, code):
        assert response.status_code == status, response.get_json()
        assert response.get_json()["code"] == code and response.get_json()["message"]
        return response.get_json()

    too_early = rights.report(type_code="LA_PENALTY_GENERAL", days_ago=30)
    body = refused(rights.repair(too_early, version="repair-2026.1"), 422, "repair_not_yet")
    preview = rights.client.get(f"/mp/v1/me/repairs/preview?record={too_early}", headers=rights.citizen).get_json()
    assert preview["can_apply"] is False and preview["repairable_from"] in body["message"]

    criminal = rights.report(type_code="LA_CRIMINAL", days_ago=400)
    refused(rights.repair(criminal, version="repair-2026.1"), 422, "record_not_repairable")
    kept = rights.report(type_code="CM_KEPT_ENV", days_ago=10)
    refused(rights.repair(kept, version="repair-2026.1"), 422, "record_not_repairable")
    theirs = rights.report(person="chen", days_ago=120)
    refused(rights.repair(theirs, version="repair-2026.1"), 404, "record_not_found")

    record = rights.report(days_ago=120)
    refused(rights.repair(record, accepted=False), 422, "commitment_required")
    refused(rights.repair(record, version="repair-2020.1"), 422, "commitment_version_stale")
    refused(rights.repair(record, files=()), 422, "proof_required")
    refused(rights.repair(record, files=(("x.pdf", b"%PDF-1.4 ..."),)), 415, "unsupported_file_type")
    assert rights.client.get("/mp/v1/me/cases", headers=rights.citizen).get_json()["total"] == 0

    case = rights.repair(record).get_json()
    refused(rights.repair(record), 409, "repair_already_open")

    disputed = rights.report(days_ago=120)
    rights.object(disputed)
    refused(rights.repair(disputed), 409, "record_disputed")

    # An objection filed while a repair is open: the repair can no longer be approved, and nothing changes.
    rights.object(record)
    refused(rights.decide_repair(case["ref"], "approved"), 409, "record_state_changed")
    assert rights.client.get(f"/mp/v1/me/cases/{case['ref']}", headers=rights.citizen).get_json()["state"] == "applied"

    repaired = rights.report(days_ago=120)
    done = rights.repair(repaired, files=(("p.png", image_bytes("PNG")),)).get_json()
    assert rights.decide_repair(done["ref"], "approved").status_code == 200
    refused(rights.repair(repaired), 409, "record_already_repaired")
    refused(rights.object(repaired), 409, "record_not_contestable")
