"""How to improve: every hint says what it is worth (by what-if) and points at the endpoint that acts on it."""

from __future__ import annotations


def hints(rights):
    response = rights.client.get("/mp/v1/me/hints", headers=rights.citizen)
    assert response.status_code == 200
    return response.get_json()["hints"]


def test_commitment_hints_carry_points_and_a_working_action(rights):
    offered = [h for h in hints(rights) if h["kind"] == "make_commitment"]
    assert {h["type"] for h in offered} == {"CIVIL_ENV", "CIVIL_TRAFFIC", "CIVIL_PET", "CIVIL_TOURISM", "CIVIL_VILLAGE"}
    tourism = next(h for h in offered if h["type"] == "CIVIL_TOURISM")
    assert tourism["points"] == 15 and "预计 +15 分" in tourism["message"]
    action = tourism["action"]
    assert (action["method"], action["path"]) == ("POST", "/mp/v1/me/commitments")
    made = rights.client.post(action["path"], headers=rights.citizen, json=action["body"])
    assert made.status_code == 201, made.get_json()
    assert "CIVIL_TOURISM" not in {h["type"] for h in hints(rights) if h["kind"] == "make_commitment"}


def test_repair_and_expiry_hints_say_what_they_are_worth(rights):
    ref = rights.report("wang", "LA_PENALTY_SERIOUS", days_ago=400)
    mine = [h for h in hints(rights) if h["ref"] == ref]
    repair = next(h for h in mine if h["kind"] == "repair_open")
    expiring = next(h for h in mine if h["kind"] == "expiring")
    assert repair["points"] == 80 and expiring["points"] == 80
    assert repair["action"] == {"method": "POST", "path": "/mp/v1/me/repairs", "body": {"record": ref}}
    preview = rights.client.get("/mp/v1/me/repairs/preview", query_string={"record": ref}, headers=rights.citizen)
    assert preview.status_code == 200
