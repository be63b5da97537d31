"""Credit commitments as a citizen, a department and staff see them: made, tracked to kept / broken / false, and
scored through the same catalog and engine."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.extensions import db
from app.rights.commitment_models import Commitment
from app.timeutil import city_today
from tests.factories import bearer, gen_department


@pytest.fixture
def tourism(app, rights):
    with app.app_context():
        _, key = gen_department("SX_CULTURE", ("LA_UNCIVIL_TOURISM", "LA_TRAFFIC_VIOLATION"), "绍兴市文化广电旅游局")
    return key


def types(rights, headers=None):
    response = rights.client.get("/mp/v1/me/commitment-types", headers=headers or rights.citizen)
    assert response.status_code == 200
    return {t["code"]: t for t in response.get_json()}


def make(rights, code="CIVIL_TOURISM", headers=None, version=None, accepted=True):
    version = version or types(rights, headers)[code]["text_version"]
    return rights.client.post("/mp/v1/me/commitments", headers=headers or rights.citizen,
                              json={"type": code, "text_version": version, "accepted": accepted})


def mine(rights, headers=None):
    return rights.client.get("/mp/v1/me/commitments", headers=headers or rights.citizen).get_json()["items"]


def what_if(rights, *changes, headers=None):
    return rights.client.post("/mp/v1/me/what-if", headers=headers or rights.citizen, json={"changes": list(changes)})


def set_dates(app, ref, starts_on: date):
    """Move a commitment's period back in time (a citizen who made it a year ago)."""
    with app.app_context():
        commitment = db.session.scalar(db.select(Commitment).where(Commitment.ref == ref))
        commitment.starts_on = starts_on
        commitment.ends_on = starts_on + timedelta(days=365)
        db.session.commit()


def test_the_citizen_sees_the_five_civility_commitments_with_text_and_points(rights):
    offered = types(rights)
    assert set(offered) == {"CIVIL_ENV", "CIVIL_TRAFFIC", "CIVIL_PET", "CIVIL_TOURISM", "CIVIL_VILLAGE"}
    tourism = offered["CIVIL_TOURISM"]
    assert tourism["name"] == "文明旅游承诺" and tourism["period_days"] == 365
    assert (tourism["points_kept"], tourism["points_broken"], tourism["points_false"]) == (15, -30, -50)
    assert "虚假承诺约束" in tourism["text"] and tourism["held"] is False
    everything = {t["code"] for t in rights.client.get("/api/v1/commitment-types").get_json()}
    assert {"REPAIR", "NOTIFY"} <= everything


def test_what_if_then_make_then_broken_by_a_matching_violation(rights, tourism):
    before = rights.score()
    answer = what_if(rights, {"kind": "make_commitment", "type": "CIVIL_TOURISM"})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["before"]["total"] == before
    assert body["delta"] == 15 and body["after"]["total"] == before + 15
    assert body["dimension_deltas"]["commitment"] == 15
    assert body["after"]["level_name"]
    assert body["effective_on"] == (city_today() + timedelta(days=365)).isoformat()
    assert rights.score() == before  # nothing stored

    made = make(rights)
    assert made.status_code == 201, made.get_json()
    commitment = made.get_json()
    assert (commitment["status"], commitment["status_name"], commitment["days_left"]) == ("active", "履约中", 365)
    assert [c["ref"] for c in mine(rights)] == [commitment["ref"]]
    assert types(rights)["CIVIL_TOURISM"]["held"] is True

    # 文旅局 reports an uncivil act in a scenic area: the commitment turns broken at once, with a message.
    rights.report("wang", "LA_UNCIVIL_TOURISM", days_ago=0, key=tourism, summary="在景区文物上刻画")
    after = mine(rights)[0]
    assert after["status"] == "broken" and after["days_left"] is None
    assert "旅游不文明行为记录" in after["closed_reason"]
    assert rights.score() == before - 20 - 30  # the violation (遵纪守法) and the broken commitment (履约践诺)
    message = next(m for m in rights.messages() if m["kind"] == "commitment_broken")
    assert "文明旅游承诺" in message["title"] and "在景区文物上刻画" in message["body"]
    records = rights.client.get("/mp/v1/me/records?per_page=100", headers=rights.citizen).get_json()["items"]
    assert any(r["type_code"] == "CM_BROKEN" and r["counted"] for r in records)
    # A new one of the same type can be made again now.
    assert make(rights).status_code == 201


def test_a_violation_of_another_kind_or_before_the_period_does_not_break(rights, tourism):
    ref = make(rights).get_json()["ref"]
    rights.report("wang", "LA_TRAFFIC_VIOLATION", days_ago=0, key=tourism)
    rights.report("wang", "LA_UNCIVIL_TOURISM", days_ago=3, key=tourism)  # before the commitment was made
    assert mine(rights)[0]["status"] == "active"
    assert mine(rights)[0]["ref"] == ref


def test_kept_when_the_period_ends_and_the_daily_job_runs_for_that_date(app, rights, runner):
    chen = rights.bind("chen")
    ref = make(rights, "CIVIL_ENV", headers=chen).get_json()["ref"]
    set_dates(app, ref, city_today() - timedelta(days=365))
    before = rights.score(chen)
    day_before = (city_today() - timedelta(days=1)).isoformat()
    result = runner.invoke(args=["commitments", "settle", "--date", day_before])
    assert "0 kept" in result.output
    assert mine(rights, chen)[0]["status"] == "active"
    result = runner.invoke(args=["commitments", "settle", "--date", city_today().isoformat()])
    assert result.exit_code == 0 and "1 kept, 0 broken" in result.output
    kept = mine(rights, chen)[0]
    assert kept["status"] == "kept" and kept["status_name"] == "已履约"
    assert rights.score(chen) == before + 15
    assert any(m["kind"] == "commitment_kept" for m in rights.messages(chen))
    again = runner.invoke(args=["commitments", "settle", "--date", city_today().isoformat()])
    assert "0 kept, 0 broken" in again.output  # idempotent
    assert rights.score(chen) == before + 15


def test_the_daily_job_breaks_a_commitment_whose_breaking_record_was_missed(app, rights, tourism, runner):
    ref = make(rights).get_json()["ref"]
    rights.report("wang", "LA_UNCIVIL_TOURISM", days_ago=30, key=tourism)  # occurred before: does not break
    set_dates(app, ref, city_today() - timedelta(days=60))  # … but the period really started 60 days ago
    runner.invoke(args=["commitments", "settle"])
    assert mine(rights)[0]["status"] == "broken"


def test_refusals(rights):
    first = make(rights)
    assert first.status_code == 201
    second = make(rights)
    assert (second.status_code, second.get_json()["code"]) == (409, "commitment_already_active")
    assert "已有一份履约中的文明旅游承诺" in second.get_json()["message"]
    outdated = make(rights, "CIVIL_PET", version="2020.1")
    assert (outdated.status_code, outdated.get_json()["code"]) == (409, "commitment_text_outdated")
    repair = make(rights, "REPAIR", version="2025.1")
    assert (repair.status_code, repair.get_json()["code"]) == (403, "commitment_not_self_service")
    unknown = make(rights, "CIVIL_DANCE", version="2025.1")
    assert (unknown.status_code, unknown.get_json()["code"]) == (404, "commitment_type_unknown")
    not_accepted = make(rights, "CIVIL_PET", accepted=False)
    assert (not_accepted.status_code, not_accepted.get_json()["code"]) == (422, "commitment_not_accepted")
    malformed = rights.client.post("/mp/v1/me/commitments", headers=rights.citizen, json={"type": 5})
    assert malformed.status_code == 422 and malformed.get_json()["code"] == "validation_error"
    for response in (second, outdated, repair, unknown, not_accepted):
        assert response.get_json()["status"] == response.status_code
    assert rights.client.get("/mp/v1/me/commitments").status_code == 401


def test_what_if_refusals(rights, tourism):
    make(rights)
    held = what_if(rights, {"kind": "make_commitment", "type": "CIVIL_TOURISM"})
    assert (held.status_code, held.get_json()["code"]) == (409, "commitment_already_active")
    chen = rights.bind("chen")
    theirs = rights.report("chen", "LA_PENALTY_GENERAL", days_ago=200)
    foreign = what_if(rights, {"kind": "repair", "record": theirs})
    assert (foreign.status_code, foreign.get_json()["code"]) == (404, "record_not_found")
    own = what_if(rights, {"kind": "repair", "record": theirs}, headers=chen)
    assert own.status_code == 200 and own.get_json()["delta"] == 30
    not_self = what_if(rights, {"kind": "make_commitment", "type": "NOTIFY"})
    assert (not_self.status_code, not_self.get_json()["code"]) == (403, "commitment_not_self_service")
    bad_kind = what_if(rights, {"kind": "win_lottery"})
    assert bad_kind.status_code == 422


def test_what_if_combines_a_repair_an_expiry_and_a_commitment(rights):
    serious = rights.report("wang", "LA_PENALTY_SERIOUS", days_ago=400)
    general = rights.report("wang", "LA_PENALTY_GENERAL", days_ago=300)
    body = what_if(rights, {"kind": "repair", "record": serious}, {"kind": "expire", "record": general},
                   {"kind": "make_commitment", "type": "CIVIL_ENV"}).get_json()
    assert [c["points"] for c in body["changes"]] == [80, 30, 15]
    assert body["delta"] == 125
    assert body["changes"][1]["effective_on"] == (city_today() + timedelta(days=65)).isoformat()


def test_department_registers_a_notify_commitment_and_reports_it_false(app, rights, client):
    with app.app_context():
        _, key = gen_department("SX_PSB", ("LA_PENALTY_GENERAL",), "绍兴市公安局")
    _, id_number, _ = rights.people["wang"]
    registered = client.post("/api/v1/commitments", headers=bearer(key),
                             json={"id_number": id_number, "type": "NOTIFY", "subject": "以告知承诺代替无犯罪记录证明"})
    assert registered.status_code == 201, registered.get_json()
    ref = registered.get_json()["ref"]
    assert mine(rights)[0]["source"] == "department"
    civility = client.post("/api/v1/commitments", headers=bearer(key),
                           json={"id_number": id_number, "type": "CIVIL_ENV", "subject": "代替居民作出"})
    assert (civility.status_code, civility.get_json()["code"]) == (422, "commitment_type_not_registrable")
    before = rights.score()
    other_department = client.post(f"/api/v1/commitments/{ref}/false", headers=bearer(rights.key),
                                   json={"reason": "核查发现有犯罪记录"})
    assert other_department.status_code == 404
    false = client.post(f"/api/v1/commitments/{ref}/false", headers=bearer(key), json={"reason": "核查发现有犯罪记录"})
    assert false.status_code == 200 and false.get_json()["status"] == "false"
    assert rights.score() == before - 50
    assert any(m["kind"] == "commitment_false" for m in rights.messages())
    twice = client.post(f"/api/v1/staff/commitments/{ref}/false", headers=rights.staff, json={"reason": "再次认定"})
    assert (twice.status_code, twice.get_json()["code"]) == (409, "commitment_closed")


def test_an_approved_repair_starts_a_repair_commitment(rights):
    record = rights.report("wang", "LA_PENALTY_GENERAL", days_ago=120)
    case = rights.repair(record)
    assert case.status_code == 201, case.get_json()
    decided = rights.decide_repair(case.get_json()["ref"], "approved")
    assert decided.status_code == 200, decided.get_json()
    repair = [c for c in mine(rights) if c["type"] == "REPAIR"]
    assert len(repair) == 1 and repair[0]["status"] == "active" and repair[0]["source"] == "repair"
    assert repair[0]["name"] == "信用修复承诺"


def _at_once(calls):
    import threading

    barrier = threading.Barrier(len(calls))
    results = []

    def run(call):
        barrier.wait()
        response = call()
        results.append((response.status_code, response.get_json().get("code")))

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(results, key=lambda r: r[0])


def test_the_same_commitment_made_twice_at_once_is_made_once(rights):
    version = types(rights)["CIVIL_PET"]["text_version"]

    def call():
        return rights.app.test_client().post("/mp/v1/me/commitments", headers=rights.citizen,
                                             json={"type": "CIVIL_PET", "text_version": version, "accepted": True})

    results = _at_once([call, call])
    assert results == [(201, None), (409, "commitment_already_active")], results
    assert len(mine(rights)) == 1


def test_false_reported_by_two_at_once_counts_once(app, rights, client):
    with app.app_context():
        _, key = gen_department("SX_PSB", ("LA_PENALTY_GENERAL",), "绍兴市公安局")
    _, id_number, _ = rights.people["wang"]
    ref = client.post("/api/v1/commitments", headers=bearer(key), json={
        "id_number": id_number, "type": "NOTIFY", "subject": "以告知承诺代替居住证明"}).get_json()["ref"]
    before = rights.score()

    def department():
        return rights.app.test_client().post(f"/api/v1/commitments/{ref}/false", headers=bearer(key),
                                             json={"reason": "核查发现未实际居住"})

    def staff():
        return rights.app.test_client().post(f"/api/v1/staff/commitments/{ref}/false", headers=rights.staff,
                                             json={"reason": "核查发现未实际居住"})

    results = _at_once([department, staff])
    assert [status for status, _ in results] == [200, 409], results
    assert rights.score() == before - 50
