"""Department and staff endpoints of citizen rights: the calendar, the case queues, decisions, alerts, figures."""

from __future__ import annotations

from datetime import date

from flask import Response, g
from flask_smorest import Blueprint

from app.audit import service as audit
from app.auth.guards import department_required, staff_required
from app.errors import ApiError
from app.extensions import db
from app.rights import calendar, cases, deadlines, evidence, messages, objections, repairs, stats
from app.rights.schemas import (
    AlertSchema,
    AnswerSchema,
    CalendarQuerySchema,
    CalendarSchema,
    CasePageSchema,
    CaseQuerySchema,
    CaseSchema,
    DeadlineQuerySchema,
    DeadlineSchema,
    DepartmentCaseQuerySchema,
    HolidayInSchema,
    HolidaySchema,
    ObjectionDecisionSchema,
    RepairDecisionSchema,
    StatsQuerySchema,
    StatsSchema,
)

blp = Blueprint("rights", __name__, url_prefix="/api/v1", description="信用中心与部门：信用异议、信用修复、工作日日历")

STAFF = [{"staffToken": []}]
DEPARTMENT = [{"departmentKey": []}]


def _parse_day(day: str) -> date:
    try:
        return date.fromisoformat(day)
    except ValueError:
        raise ApiError(422, "invalid_date", "日期应为 YYYY-MM-DD 格式。") from None


def evidence_response(row, data: bytes) -> Response:
    response = Response(data, mimetype=row.content_type)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response


# -- the working-day calendar (staff) -------------------------------------------------------------------------

@blp.route("/rights/calendar")
@staff_required()
@blp.arguments(CalendarQuerySchema, location="query")
@blp.response(200, CalendarSchema)
@blp.doc(summary="工作日日历：某年的节假日与调休上班日", security=STAFF)
def calendar_year(query):
    years = sorted(calendar.known_years())
    return {"year": query["year"], "known": query["year"] in years, "known_years": years,
            "warning": calendar.missing_next_year_warning(), "days": calendar.list_days(query["year"])}


@blp.route("/rights/calendar/<day:day>", methods=["PUT"])
@staff_required()
@blp.arguments(HolidayInSchema)
@blp.response(200, HolidaySchema)
@blp.doc(summary="设置一天为节假日（is_workday=false）或调休上班日（true）", security=STAFF)
def calendar_set(body, day):
    row = calendar.set_day(_parse_day(day), body["is_workday"], body["name"])
    audit.log(None, "rights.calendar.set", "工作人员修改工作日日历", {"day": day, "is_workday": body["is_workday"]})
    db.session.commit()
    return row


@blp.route("/rights/calendar/<day:day>", methods=["DELETE"])
@staff_required()
@blp.response(204)
@blp.doc(summary="删除某天的节假日或调休设置（恢复为普通周一至周五/周末）", security=STAFF)
def calendar_remove(day):
    calendar.remove_day(_parse_day(day))
    audit.log(None, "rights.calendar.remove", "工作人员修改工作日日历", {"day": day})
    db.session.commit()


@blp.route("/rights/calendar/years/<year>", methods=["PUT"])
@staff_required()
@blp.response(200, CalendarSchema)
@blp.doc(summary="确认某年节假日安排已完整录入（此后跨入该年的期限不再是暂定）", security=STAFF)
def calendar_confirm(year):
    # Parsed here, not by the route converter: a caller without credentials hears 401 whatever the year says.
    if not (year.isascii() and year.isdigit() and 2000 <= int(year) <= 2100):
        raise ApiError(422, "invalid_year", "年份应为 2000 到 2100 之间的四位数字。")
    year = int(year)
    calendar.mark_year_known(year)
    audit.log(None, "rights.calendar.confirm", "工作人员确认年度节假日安排", {"year": year})
    db.session.commit()
    return {"year": year, "known": True, "known_years": sorted(calendar.known_years()),
            "warning": calendar.missing_next_year_warning(), "days": calendar.list_days(year)}


@blp.route("/rights/calendar/deadline")
@staff_required()
@blp.arguments(DeadlineQuerySchema, location="query")
@blp.response(200, DeadlineSchema)
@blp.doc(summary="计算：某日之后第 N 个工作日", security=STAFF)
def calendar_deadline(query):
    result = calendar.add_working_days(query["start"], query["days"])
    return {"start": query["start"], "days": query["days"], "deadline": result.date,
            "provisional": result.provisional}


# -- the staff queue ------------------------------------------------------------------------------------------

@blp.route("/rights/cases")
@staff_required()
@blp.arguments(CaseQuerySchema, location="query")
@blp.response(200, CasePageSchema)
@blp.doc(summary="异议与修复案件：按状态、期限筛选，按期限排序", security=STAFF)
def case_list(query):
    page = cases.list_cases(query["page"], query["per_page"], kind=query["kind"], state=query["state"],
                            due_before=query["due_before"])
    cases.log_listing(page.items)
    return {**page.as_dict([cases.describe(c, audience="staff") for c in page.items]),
            "calendar_warning": calendar.missing_next_year_warning()}


@blp.route("/rights/cases/<ref:ref>")
@staff_required()
@blp.response(200, CaseSchema)
@blp.doc(summary="案件详情：时间线、证明材料（查看留痕）", security=STAFF)
def case_detail(ref):
    case = cases.any_case(ref)
    audit.log(case.citizen_id, "rights.case.view", "工作人员查看异议/修复案件", {"case": case.ref})
    db.session.commit()
    return cases.describe(case, detail=True, audience="staff")


@blp.route("/rights/objections/<ref:ref>/decision", methods=["POST"])
@staff_required()
@blp.arguments(ObjectionDecisionSchema)
@blp.response(200, CaseSchema)
@blp.doc(summary="作出异议处理决定：upheld 撤销记录 / corrected 更正记录 / dismissed 恢复计分", security=STAFF)
def objection_decide(body, ref):
    case = objections.decide(ref, body["decision"], body["reason"], body.get("correction") or None)
    messages.deliver_soon()
    return cases.describe(case, detail=True, audience="staff")


@blp.route("/rights/repairs/<ref:ref>/decision", methods=["POST"])
@staff_required()
@blp.arguments(RepairDecisionSchema)
@blp.response(200, CaseSchema)
@blp.doc(summary="作出信用修复决定：approved 准予修复（记录不再计分并开始修复承诺）/ rejected 不予修复", security=STAFF)
def repair_decide(body, ref):
    case = repairs.decide(ref, body["decision"], body["reason"])
    messages.deliver_soon()
    return cases.describe(case, detail=True, audience="staff")


@blp.route("/rights/evidence/<ref:ref>")
@staff_required()
@blp.response(200)
@blp.doc(summary="查看证明材料图片（留痕）", security=STAFF)
def staff_evidence(ref):
    return evidence_response(*evidence.open_for(ref, staff=True))


@blp.route("/rights/alerts")
@staff_required()
@blp.response(200, AlertSchema(many=True))
@blp.doc(summary="提醒：即将到期、已超期的案件，以及下一年度节假日未录入", security=STAFF)
def alerts():
    return deadlines.open_alerts()


@blp.route("/rights/stats")
@staff_required()
@blp.arguments(StatsQuerySchema, location="query")
@blp.response(200, StatsSchema)
@blp.doc(summary="按类型、月份统计：受理、办结、按期办结率、平均工作日、成立率、有效异议加权值（每十万条记录）",
         security=STAFF)
def rights_stats(query):
    return stats.rights_stats(query["from_"], query["to"])


# -- the department's desk ------------------------------------------------------------------------------------

@blp.route("/departments/me/objections")
@department_required
@blp.arguments(DepartmentCaseQuerySchema, location="query")
@blp.response(200, CasePageSchema)
@blp.doc(summary="本部门报送记录的信用异议（按期限排序）", security=DEPARTMENT)
def department_objections(query):
    rows, total = objections.department_cases(g.department, query["state"], query["page"], query["per_page"])
    per_page = query["per_page"]
    return {"items": [cases.describe(c, audience="department") for c in rows], "page": query["page"],
            "per_page": per_page, "total": total, "pages": (total + per_page - 1) // per_page}


@blp.route("/departments/me/objections/<ref:ref>")
@department_required
@blp.response(200, CaseSchema)
@blp.doc(summary="异议详情（时间线、证明材料）", security=DEPARTMENT)
def department_objection(ref):
    case = objections.department_case(g.department, ref)
    audit.log(case.citizen_id, "rights.case.view", "部门查看信用异议", {"case": case.ref})
    db.session.commit()
    return cases.describe(case, detail=True, audience="department")


@blp.route("/departments/me/objections/<ref:ref>/answer", methods=["POST"])
@department_required
@blp.arguments(AnswerSchema)
@blp.response(200, CaseSchema)
@blp.doc(summary="部门答复异议（核查意见），由信用中心作出决定", security=DEPARTMENT)
def department_answer(body, ref):
    case = objections.answer(g.department, ref, body["finding"])
    return cases.describe(case, detail=True, audience="department")


@blp.route("/departments/me/evidence/<ref:ref>")
@department_required
@blp.response(200)
@blp.doc(summary="查看异议证明材料图片（仅限本部门记录的案件，留痕）", security=DEPARTMENT)
def department_evidence(ref):
    return evidence_response(*evidence.open_for(ref, department_id=g.department.id))
