"""What staff read: four dimensions with caps, each record's contribution and until when, hints, history."""

from datetime import date, timedelta

from tests.factories import bearer, gen_citizen, gen_department, new_id_number, staff_headers


def test_score_file_explains_every_record(client, ctx):
    number = new_id_number(date(1988, 2, 2))
    citizen = gen_citizen("沈括", number)
    _, key = gen_department("SX_CIVILITY", ["CM_KEPT_ENV", "LA_PENALTY_GENERAL"])
    day = (date.today() - timedelta(days=40)).isoformat()
    rows = [
        {"external_id": "C-1", "id_number": number, "type_code": "CM_KEPT_ENV", "occurred_at": day},
        {"external_id": "C-2", "id_number": number, "type_code": "LA_PENALTY_GENERAL", "occurred_at": day},
    ]
    assert client.post("/api/v1/records/batch", json={"records": rows}, headers=bearer(key)).status_code == 200
    response = client.get(f"/api/v1/citizens/{citizen.ref}/score?reason=异议核查", headers=staff_headers(client))
    assert response.status_code == 200
    body = response.get_json()
    dimensions = {d["key"]: d for d in body["dimensions"]}
    assert {k: (d["points"], d["cap"]) for k, d in dimensions.items()} == {
        "public": (280, 400), "law": (270, 300), "commitment": (90, 150), "honour": (0, 150)}
    assert dimensions["law"]["name"] == "遵纪守法"
    assert body["total"] == sum(d["points"] for d in body["dimensions"]) == 640
    assert (body["level"], body["level_name"], body["rules_version"]) == (3, "良好", "v1")
    contributions = {c["type_code"]: c for c in body["contributions"]}
    assert contributions["LA_PENALTY_GENERAL"]["points"] == -30
    assert contributions["CM_KEPT_ENV"]["points"] == 15
    assert contributions["LA_PENALTY_GENERAL"]["counts_until"] > date.today().isoformat()
    assert any(h["message"] for h in body["hints"])
    assert [point["total"] for point in body["history"]] == [655, 640]
