"""异议 / 修复 in the console (registered only when app.rights is installed): the credit centre's queues by
deadline, the case page with its record, evidence, timeline and decision forms, the working-day calendar, and
the department desk's objections to answer. Each view calls app.rights' services, as its JSON API does."""

from __future__ import annotations

from datetime import date

from flask import Response, flash, g, redirect, render_template, request, url_for
from marshmallow import Schema, ValidationError, fields, validate

from app.audit import service as audit
from app.console import blp, security
from app.console.common import form_errors, load_form, page_number
from app.errors import ApiError
from app.extensions import db
from app.rights import calendar, cases, evidence, objections, queues, repairs
from app.rights.schemas import AnswerSchema, HolidayInSchema, ObjectionDecisionSchema, RepairDecisionSchema
from app.timeutil import city_today

PER_PAGE = 20
KINDS = {"objection": "信用异议", "repair": "信用修复"}
STATES = {"objection": ("received", "answered", "upheld", "corrected", "dismissed", "withdrawn"),
          "repair": ("applied", "approved", "rejected")}
CORRECTION_FIELDS = ("summary", "occurred_at", "expires_at", "grade", "quantity")


def urgency(case_view: dict) -> str:
    """overdue / due (today or within 2 working days) / ok, for the row's colour."""
    left = case_view.get("working_days_left")
    if left is None:
        return "closed"
    if left < 0 or case_view.get("deadline_flag") == "overdue":
        return "overdue"
    return "due" if left <= 2 else "ok"


@blp.app_template_filter("case_action")
def case_action(action: str) -> str:
    return {"filed": "提出申请", "received": "受理", "answered": "部门答复", "withdrawn": "撤回"}.get(
        action, cases.STATE_NAMES.get(action, action))


@blp.app_context_processor
def _rights_context():
    return {"rights_enabled": True}


# -- staff queues and cases ---------------------------------------------------------------------------------

@blp.route("/rights/<kind>")
@security.login_required("staff")
def rights_cases(kind):
    if kind not in KINDS:
        return render_template("console/error.html", status=404, title="未找到", message="没有这种案件。"), 404
    state = request.args.get("state", "open")
    if state not in ("open", "", *STATES[kind]):
        state = "open"
    page = page_number()
    rows, total = queues.staff_cases(kind, state or None, page, PER_PAGE)
    cases.log_listing(rows)
    items = [{**cases.describe(case, audience="staff"), "urgency": None} for case in rows]
    for item in items:
        item["urgency"] = urgency(item)
    return render_template("console/rights_cases.html", kind=kind, kind_name=KINDS[kind], items=items, total=total,
                           page=page, per_page=PER_PAGE, state=state, states=STATES[kind],
                           state_names=cases.STATE_NAMES, warning=calendar.missing_next_year_warning())


def _case_page(ref: str, errors=None, form=None, status=200):
    case = cases.any_case(ref)
    audit.log(case.citizen_id, "rights.case.view", "工作人员查看异议/修复案件", {"case": case.ref})
    db.session.commit()
    view = cases.describe(case, detail=True, audience="staff")
    view["urgency"] = urgency(view)
    return render_template("console/rights_case.html", case=view, errors=errors or {}, form=form or {},
                           kind_name=KINDS[view["kind"]]), status


@blp.route("/rights/cases/<ref>")
@security.login_required("staff")
def rights_case(ref):
    return _case_page(ref)


@blp.route("/rights/cases/<ref>/decision", methods=["POST"])
@security.login_required("staff")
def rights_decide(ref):
    case = cases.any_case(ref)
    try:
        if case.kind == "objection":
            posted = {name: request.form.get(name, "").strip() for name in ("decision", "reason")}
            posted = {name: value for name, value in posted.items() if value}
            if _correction_from_form():
                posted["correction"] = _correction_from_form()
            data = ObjectionDecisionSchema().load(posted)
            objections.decide(ref, data["decision"], data["reason"], data.get("correction"))
        else:
            data = load_form(RepairDecisionSchema())
            repairs.decide(ref, data["decision"], data["reason"])
    except (ValidationError, ApiError) as error:
        db.session.rollback()
        status = error.status if isinstance(error, ApiError) else 422
        return _case_page(ref, errors=form_errors(error), form=request.form, status=status)
    flash("处理决定已作出，居民将收到通知。", "success")
    return redirect(url_for("console.rights_case", ref=ref))


def _correction_from_form() -> dict | None:
    values = {name: request.form.get(f"correction_{name}", "").strip() for name in CORRECTION_FIELDS}
    values = {name: value for name, value in values.items() if value}
    return values or None


@blp.route("/rights/evidence/<ref>")
@security.login_required("staff")
def rights_evidence(ref):
    row, data = evidence.open_for(ref, staff=True)
    return _evidence_response(row, data)


def _evidence_response(row, data: bytes) -> Response:
    response = Response(data, mimetype=row.content_type)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Disposition"] = "inline"
    return response


# -- the working-day calendar --------------------------------------------------------------------------------

class DayFormSchema(HolidayInSchema):
    day = fields.Date(required=True)


class YearSchema(Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))


@blp.route("/rights/calendar", methods=["GET", "POST"])
@security.login_required("staff")
def rights_calendar():
    raw_year = request.values.get("year", "")
    year = int(raw_year) if raw_year.isdigit() and 2000 <= int(raw_year) <= 2100 else city_today().year
    errors, status = {}, 200
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "set":
                data = load_form(DayFormSchema(), checkboxes=("is_workday",), ignore=("action", "year"))
                calendar.set_day(data["day"], data["is_workday"], data["name"])
                audit.log(None, "rights.calendar.set", "工作人员修改工作日日历",
                          {"day": data["day"].isoformat(), "is_workday": data["is_workday"]})
                db.session.commit()
                flash(f"已保存 {data['day'].isoformat()}。", "success")
            elif action == "remove":
                day = date.fromisoformat(request.form.get("day", ""))
                calendar.remove_day(day)
                audit.log(None, "rights.calendar.remove", "工作人员修改工作日日历", {"day": day.isoformat()})
                db.session.commit()
                flash(f"已删除 {day.isoformat()} 的设置。", "success")
            elif action == "confirm":
                confirmed = load_form(YearSchema(), ignore=("action",))["year"]
                calendar.mark_year_known(confirmed)
                audit.log(None, "rights.calendar.confirm", "工作人员确认年度节假日安排", {"year": confirmed})
                db.session.commit()
                flash(f"已确认 {confirmed} 年的节假日安排完整。", "success")
            else:
                raise ApiError(422, "invalid_action", "无效的操作。")
        except ValueError:
            errors, status = {"day": ["日期格式应为 YYYY-MM-DD。"]}, 422
        except (ValidationError, ApiError) as error:
            db.session.rollback()
            errors, status = form_errors(error), 422
        if not errors:
            return redirect(url_for("console.rights_calendar", year=year))
    return render_template("console/rights_calendar.html", year=year, days=calendar.list_days(year),
                           known=year in calendar.known_years(), known_years=sorted(calendar.known_years()),
                           warning=calendar.missing_next_year_warning(), errors=errors,
                           form=request.form if errors else {}), status


# -- the department desk's objections --------------------------------------------------------------------------

def _department():
    return g.console_user.department


@blp.route("/desk/objections")
@security.login_required("department")
def desk_objections():
    state = request.args.get("state", "open")
    if state not in ("open", "", *STATES["objection"]):
        state = "open"
    page = page_number()
    rows, total = objections.department_cases(_department(), state or None, page, PER_PAGE)
    items = [cases.describe(case, audience="department") for case in rows]
    for item in items:
        item["urgency"] = urgency(item)
    return render_template("console/desk_objections.html", items=items, total=total, page=page, per_page=PER_PAGE,
                           state=state, states=STATES["objection"], state_names=cases.STATE_NAMES,
                           department_name=g.console_user.department_name)


def _desk_case_page(ref: str, errors=None, status=200):
    case = objections.department_case(_department(), ref)
    audit.log(case.citizen_id, "rights.case.view", "部门查看信用异议", {"case": case.ref})
    db.session.commit()
    view = cases.describe(case, detail=True, audience="department")
    view["urgency"] = urgency(view)
    return render_template("console/desk_objection.html", case=view, errors=errors or {},
                           department_name=g.console_user.department_name), status


@blp.route("/desk/objections/<ref>")
@security.login_required("department")
def desk_objection(ref):
    return _desk_case_page(ref)


@blp.route("/desk/objections/<ref>/answer", methods=["POST"])
@security.login_required("department")
def desk_objection_answer(ref):
    try:
        data = load_form(AnswerSchema())
        objections.answer(_department(), ref, data["finding"])
    except (ValidationError, ApiError) as error:
        db.session.rollback()
        if isinstance(error, ApiError) and error.status in (403, 404):
            raise
        return _desk_case_page(ref, errors=form_errors(error), status=error.status if isinstance(error, ApiError)
                               else 422)
    flash("核查意见已提交，信用中心将据此作出决定。", "success")
    return redirect(url_for("console.desk_objection", ref=ref))


@blp.route("/desk/evidence/<ref>")
@security.login_required("department")
def desk_evidence(ref):
    row, data = evidence.open_for(ref, department_id=_department().id)
    return _evidence_response(row, data)
