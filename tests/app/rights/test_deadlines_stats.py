"""Deadlines watched (flags, alerts for staff, the overdue citizen told) and the staff figures."""

from datetime import date, timedelta

import time_machine

from app.rights import deadlines
from app.scheduler.jobs import JOBS
from tests.miniprogram_api.conftest import auth, login


def _watch(app, today):
    with app.app_context():
        return deadlines.watch(today)


def test_due_soon_then_overdue_alerts_once_each(rights):
    app, client = rights.app, rights.client
    case = rights.object(rights.report()).get_json()
    deadline = date.fromisoformat(case["deadline"])

    assert _watch(app, deadline - timedelta(days=5)) == 1  # only the calendar warning (2027 missing)
    listed = client.get("/api/v1/rights/cases?state=open", headers=rights.staff).get_json()
    assert listed["items"][0]["deadline_flag"] is None and "2027" in listed["calendar_warning"]

    assert _watch(app, deadline - timedelta(days=1)) == 1
    assert _watch(app, deadline - timedelta(days=1)) == 0  # run twice: one alert
    flagged = client.get(f"/api/v1/rights/cases/{case['ref']}", headers=rights.staff).get_json()
    assert flagged["deadline_flag"] == "due_soon"
    alerts = client.get("/api/v1/rights/alerts", headers=rights.staff).get_json()
    assert {a["kind"] for a in alerts} == {"due_soon", "calendar_missing"}
    due = next(a for a in alerts if a["kind"] == "due_soon")
    assert case["ref"] in due["message"] and case["deadline"] in due["message"]

    assert _watch(app, deadline + timedelta(days=1)) == 1
    assert client.get(f"/api/v1/rights/cases/{case['ref']}", headers=rights.staff).get_json()[
        "deadline_flag"] == "overdue"
    assert rights.messages()[0]["kind"] == "objection_overdue"

    # Deciding clears the flag; a decided case raises no more alerts.
    rights.decide_objection(case["ref"], "dismissed")
    assert client.get(f"/api/v1/rights/cases/{case['ref']}", headers=rights.staff).get_json()[
        "deadline_flag"] is None
    assert _watch(app, deadline + timedelta(days=3)) == 0


def test_the_job_is_scheduled_hourly_and_logs_the_missing_calendar(rights, caplog):
    assert JOBS["rights-deadlines"][1] == {"trigger": "cron", "minute": 5}
    with caplog.at_level("WARNING"):
        _watch(rights.app, date(2026, 12, 2))
    assert any("next year missing" in record.message for record in caplog.records)


def test_cases_list_by_state_and_deadline(rights):
    client = rights.client
    first = rights.object(rights.report()).get_json()
    second = rights.repair(rights.report(days_ago=120)).get_json()
    listed = client.get("/api/v1/rights/cases?state=open", headers=rights.staff).get_json()
    assert [item["ref"] for item in listed["items"]] == [second["ref"], first["ref"]]  # 3 days before 5 days
    assert listed["items"][0]["citizen_ref"] == rights.people["wang"][0]
    due = client.get(f"/api/v1/rights/cases?due_before={second['deadline']}", headers=rights.staff).get_json()
    assert [item["ref"] for item in due["items"]] == [second["ref"]]
    bad = client.get("/api/v1/rights/cases?state=lost", headers=rights.staff)
    assert bad.status_code == 422
    assert client.get("/api/v1/rights/cases").status_code == 401


def test_stats_per_kind_and_month(rights):
    client = rights.client
    for _ in range(3):
        rights.report()  # records count for the 有效异议加权值
    # September: an objection received on 29 September and upheld on 12 October (5 working days, on time).
    with time_machine.travel(date(2026, 9, 29), tick=True):
        headers = rights.bind("chen")
        case = rights.object(rights.report(person="chen", days_ago=30), headers=headers).get_json()
    with time_machine.travel(date(2026, 10, 12), tick=True):
        assert rights.decide_objection(case["ref"], "upheld").status_code == 200
    # October: one received 9 October (a Friday; Saturday 10 October is a make-up working day), deadline
    # 15 October, dismissed late on 20 October.
    with time_machine.travel(date(2026, 10, 9), tick=True):
        headers = auth(login(client, "chen-phone"))
        late = rights.object(rights.report(person="chen", days_ago=30), headers=headers).get_json()
        assert late["deadline"] == "2026-10-15"
    with time_machine.travel(date(2026, 10, 20), tick=True):
        assert rights.decide_objection(late["ref"], "dismissed").status_code == 200

    stats = client.get("/api/v1/rights/stats?from=2026-09-01&to=2026-10-31", headers=rights.staff).get_json()
    objections = next(kind for kind in stats["kinds"] if kind["kind"] == "objection")
    months = {m["month"]: m for m in objections["months"]}
    assert months["2026-09"]["received"] == 1 and months["2026-09"]["decided"] == 0
    october = months["2026-10"]
    assert (october["received"], october["decided"], october["decided_on_time"]) == (1, 2, 1)
    assert october["on_time_pct"] == 50.0 and october["upheld_rate_pct"] == 50.0
    # 5 working days (29 Sep -> 12 Oct) and 8 (9 Oct -> 20 Oct, counting Saturday 10 October).
    assert october["avg_working_days"] == 6.5
    total = objections["total"]
    assert total["upheld"] == 1 and stats["records_total"] == 5
    assert total["upheld_per_100k_records"] == 20000.0
    repairs = next(kind for kind in stats["kinds"] if kind["kind"] == "repair")
    assert repairs["months"] == [] and repairs["total"]["received"] == 0

    bad = client.get("/api/v1/rights/stats?from=2026-10-31&to=2026-09-01", headers=rights.staff)
    assert bad.status_code == 422 and bad.get_json()["code"] == "invalid_range"
    assert client.get("/api/v1/rights/stats?from=2026-09-01", headers=rights.staff).status_code == 422
