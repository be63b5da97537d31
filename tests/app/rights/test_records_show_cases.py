"""/me/records shows the case open on a record (issue 22, defect 11b): the citizen sees from the list that their
objection or repair is being handled, and which one; the mark goes when the case closes."""

from __future__ import annotations


def test_a_record_shows_its_open_case_until_it_closes(rights):
    record, other = rights.report(), rights.report()
    case = rights.object(record).get_json()
    shown = rights.record(record)
    assert shown["open_case"]["ref"] == case["ref"]
    assert shown["open_case"]["kind"] == "objection" and shown["open_case"]["kind_name"] == "信用异议"
    assert shown["open_case"]["state_name"] and shown["open_case"]["deadline"] == case["deadline"]
    assert rights.record(other)["open_case"] is None
    withdrawn = rights.client.post(f"/mp/v1/me/objections/{case['ref']}/withdraw", headers=rights.citizen)
    assert withdrawn.status_code == 200
    assert rights.record(record)["open_case"] is None
