"""个人信用报告 in the console: staff look a report number up (with a stated reason, in the holder's trail)."""

from __future__ import annotations

from flask import render_template
from marshmallow import Schema, ValidationError, fields, validate

from app.console import blp, security
from app.console.common import form_errors, load_form
from app.reports import service as reports


class ReportLookupSchema(Schema):
    number = fields.String(required=True, validate=validate.Length(min=1, max=40))
    reason = fields.String(required=True, validate=validate.Length(min=2, max=200))


@blp.route("/reports")
@security.login_required("staff")
def report_lookup():
    return render_template("console/report_lookup.html", errors={}, form={}, report=None)


@blp.route("/reports", methods=["POST"])
@security.login_required("staff")
def report_lookup_post():
    try:
        data = load_form(ReportLookupSchema())
    except ValidationError as error:
        return render_template("console/report_lookup.html", errors=form_errors(error), form={}, report=None), 422
    found = reports.staff_lookup(data["number"], data["reason"])
    if found is None:
        errors = {"number": ["未找到该编号的信用报告（请核对编号）。"]}
        return render_template("console/report_lookup.html", errors=errors, form=data, report=None), 404
    return render_template("console/report_lookup.html", errors={}, form=data, report=found)
