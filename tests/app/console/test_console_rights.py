"""异议 / 修复 in the console: the credit centre decides cases from its queue, a department answers objections
about its own records only, staff keep the working-day calendar, and the dashboard counts cases."""

from __future__ import annotations

from datetime import date, timedelta

from app.auth.service import create_department_user
from app.extensions import db
from tests.app.console.helpers import DESK_PASSWORD, login, page_token
from tests.app.rights.conftest import image_bytes, rights, seeded_calendar  # noqa: F401  (fixtures)
from tests.factories import STAFF_PASSWORD


def _signed_in(app, username: str, password: str):
    client = app.test_client()
    assert login(client, username, password).status_code == 302
    return client


def _objection(rights) -> str:  # noqa: F811
    record = rights.report()
    response = rights.object(record, files=[("proof.jpg", image_bytes())])
    assert response.status_code == 201, response.get_json()
    return response.get_json()["ref"]


def test_staff_decide_an_objection_from_the_queue(app, ctx, rights):  # noqa: F811
    case_ref = _objection(rights)
    staff = _signed_in(app, "staff01", STAFF_PASSWORD)
    queue = staff.get("/console/rights/objection").get_data(as_text=True)
    assert case_ref in queue and "剩 5 个工作日" in queue
    page = staff.get(f"/console/rights/cases/{case_ref}").get_data(as_text=True)
    assert "罚款已被复议撤销" in page and "/console/rights/evidence/" in page
    evidence_url = page.split('src="', 2)[1].split('"')[0] if 'class="evidence"' in page else None
    image = staff.get(evidence_url)
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    token = page_token(staff, f"/console/rights/cases/{case_ref}")
    missing = staff.post(f"/console/rights/cases/{case_ref}/decision", data={"csrf_token": token,
                                                                              "decision": "dismissed"})
    assert missing.status_code == 422 and 'data-field="reason"' in missing.get_data(as_text=True)
    no_correction = staff.post(f"/console/rights/cases/{case_ref}/decision", data={
        "csrf_token": token, "decision": "corrected", "reason": "部分事实有误"})
    assert no_correction.status_code == 422
    assert "更正记录时须写明更正后的字段" in no_correction.get_data(as_text=True)
    decided = staff.post(f"/console/rights/cases/{case_ref}/decision", data={
        "csrf_token": token, "decision": "dismissed", "reason": "经核查，处罚事实清楚"}, follow_redirects=True)
    html = decided.get_data(as_text=True)
    assert decided.status_code == 200 and "异议不成立" in html and "作出处理决定" not in html
    again = staff.post(f"/console/rights/cases/{case_ref}/decision", data={
        "csrf_token": token, "decision": "upheld", "reason": "再次处理"})
    assert again.status_code == 409 and "已有处理结果" in again.get_data(as_text=True)
    assert "异议不成立" in [m["title"] + m["body"] for m in rights.messages()][0]


def test_a_department_answers_objections_about_its_own_records_only(app, ctx, rights):  # noqa: F811
    case_ref = _objection(rights)
    create_department_user("SX_AMR", "amr.clerk", DESK_PASSWORD)
    create_department_user("SX_TAX", "tax.clerk", DESK_PASSWORD)
    db.session.commit()
    tax = _signed_in(app, "tax.clerk", DESK_PASSWORD)
    assert case_ref not in tax.get("/console/desk/objections").get_data(as_text=True)
    assert tax.get(f"/console/desk/objections/{case_ref}").status_code == 403
    amr = _signed_in(app, "amr.clerk", DESK_PASSWORD)
    assert case_ref in amr.get("/console/desk/objections").get_data(as_text=True)
    token = page_token(amr, f"/console/desk/objections/{case_ref}")
    refused = tax.post(f"/console/desk/objections/{case_ref}/answer",
                       data={"csrf_token": page_token(tax, "/console/desk/objections"), "finding": "伪造答复"})
    assert refused.status_code == 403
    empty = amr.post(f"/console/desk/objections/{case_ref}/answer", data={"csrf_token": token, "finding": ""})
    assert empty.status_code == 422 and 'data-field="finding"' in empty.get_data(as_text=True)
    answered = amr.post(f"/console/desk/objections/{case_ref}/answer", data={
        "csrf_token": token, "finding": "经核查，该处罚决定已被复议撤销。"}, follow_redirects=True)
    assert "部门已答复" in answered.get_data(as_text=True)
    staff = _signed_in(app, "staff01", STAFF_PASSWORD)
    assert "经核查，该处罚决定已被复议撤销。" in staff.get(f"/console/rights/cases/{case_ref}").get_data(as_text=True)


def test_staff_keep_the_working_day_calendar(app, ctx, rights):  # noqa: F811
    staff = _signed_in(app, "staff01", STAFF_PASSWORD)
    year = date.today().year + 2
    saturday = date(year, 3, 1)
    saturday += timedelta(days=(5 - saturday.weekday()) % 7)
    token = page_token(staff, f"/console/rights/calendar?year={year}")
    wrong = staff.post("/console/rights/calendar", data={"csrf_token": token, "action": "set", "year": year,
                                                         "day": (saturday - timedelta(days=1)).isoformat(),
                                                         "name": "调休", "is_workday": "on"})
    assert wrong.status_code == 422 and "调休上班日应为周六或周日" in wrong.get_data(as_text=True)
    saved = staff.post("/console/rights/calendar", data={"csrf_token": token, "action": "set", "year": year,
                                                         "day": saturday.isoformat(), "name": "调休",
                                                         "is_workday": "on"}, follow_redirects=True)
    assert saved.status_code == 200 and saturday.isoformat() in saved.get_data(as_text=True)
    confirmed = staff.post("/console/rights/calendar", data={"csrf_token": token, "action": "confirm",
                                                             "year": year}, follow_redirects=True)
    assert f"已确认 {year} 年" in confirmed.get_data(as_text=True)
    removed = staff.post("/console/rights/calendar", data={"csrf_token": token, "action": "remove", "year": year,
                                                           "day": saturday.isoformat()}, follow_redirects=True)
    assert "该年没有节假日或调休记录" in removed.get_data(as_text=True)


def test_the_dashboard_counts_cases_received_and_decided_on_time(app, ctx, rights):  # noqa: F811
    case_ref = _objection(rights)
    assert rights.decide_objection(case_ref, "dismissed").status_code == 200
    _objection(rights)
    staff = _signed_in(app, "staff01", STAFF_PASSWORD)
    assert 'data-chart="rights-cases"' in staff.get("/console/dashboard").get_data(as_text=True)
    body = staff.get("/console/api/charts/rights-cases").get_json()
    series = {(s["kind"], s["metric"]): s["counts"] for s in body["series"]}
    assert sum(series[("objection", "received")]) == 2
    assert sum(series[("objection", "decided_on_time")]) == 1
    assert sum(series[("objection", "decided_late")]) == 0
    assert body["months"][-1] == date.today().strftime("%Y-%m")
