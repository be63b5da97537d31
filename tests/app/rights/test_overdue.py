"""A deadline that has passed is overdue whatever the weekday (issue 22, defect 4): on Sunday 2026-12-06 a case due
on Friday 2026-12-04 is 已逾期 in the API and in the console's queue and case page, not 「今天到期」, even when the
hourly deadline job last ran on the Friday."""

from __future__ import annotations

from datetime import date

import time_machine

from app.rights import deadlines
from tests.app.console.helpers import login
from tests.factories import STAFF_PASSWORD, bearer
from tests.miniprogram_api.conftest import auth
from tests.miniprogram_api.conftest import login as login_citizen


def test_a_friday_deadline_is_overdue_on_sunday(app, rights):
    with time_machine.travel(date(2026, 11, 27), tick=True):  # a Friday: five working days run to Friday 4 December
        headers = rights.bind("chen")
        case = rights.object(rights.report(person="chen"), headers=headers).get_json()
        assert case["deadline"] == "2026-12-04"
    with time_machine.travel(date(2026, 12, 4), tick=True), app.app_context():
        deadlines.watch()  # the job's last run, on the day it fell due
    with time_machine.travel(date(2026, 12, 6), tick=True):
        token = rights.client.post("/api/v1/auth/token", json={"username": "staff01", "password": STAFF_PASSWORD})
        staff = bearer(token.get_json()["access_token"])
        staff_view = rights.client.get(f"/api/v1/rights/cases/{case['ref']}", headers=staff).get_json()
        assert staff_view["deadline_flag"] == "overdue"
        headers = auth(login_citizen(rights.client, "chen-phone"))
        mine = rights.client.get(f"/mp/v1/me/cases/{case['ref']}", headers=headers).get_json()
        assert mine["deadline_flag"] == "overdue"
        listed = rights.client.get("/api/v1/rights/cases", headers=staff).get_json()["items"]
        assert [item["deadline_flag"] for item in listed] == ["overdue"]

        console = app.test_client()
        assert login(console, "staff01", STAFF_PASSWORD).status_code == 302
        for page in ("/console/rights/objection", f"/console/rights/cases/{case['ref']}"):
            html = console.get(page).get_data(as_text=True)
            assert "今天到期" not in html, page
            assert "已逾期" in html, page
