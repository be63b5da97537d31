"""Reading the staff's case list shows whose cases were listed: each listed citizen's trail says so (issue 22,
defect 11d), through the API and the console's queue."""

from __future__ import annotations

from tests.app.console.helpers import login
from tests.factories import STAFF_PASSWORD


def _listings(rights) -> list[dict]:
    trail = rights.client.get("/mp/v1/me/audit?per_page=100", headers=rights.citizen).get_json()["items"]
    return [item for item in trail if item["action"] == "rights.cases.list"]


def test_the_staff_case_list_is_in_the_listed_citizens_trail(app, rights):
    rights.object(rights.report())
    assert _listings(rights) == []
    assert rights.client.get("/api/v1/rights/cases", headers=rights.staff).status_code == 200
    listed = _listings(rights)
    assert len(listed) == 1 and listed[0]["who_type"] == "staff" and listed[0]["action_name"] == "查看异议/修复案件列表"

    console = app.test_client()
    assert login(console, "staff01", STAFF_PASSWORD).status_code == 302
    assert console.get("/console/rights/objection").status_code == 200
    assert len(_listings(rights)) == 2
