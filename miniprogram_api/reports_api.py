"""个人信用报告 for the citizen in the mini-program (/mp/v1/me/reports): request, list, download, revoke."""

from __future__ import annotations

from flask import Response, g, url_for
from flask_smorest import Blueprint

from app.reports import service
from app.reports.schemas import CreditReportRequestSchema, CreditReportSchema
from miniprogram_api.auth import citizen_required

blp = Blueprint("mp_reports", __name__, url_prefix="/mp/v1/me", description="微信小程序：个人信用报告")

CITIZEN_AUTH = [{"citizenToken": []}]


def _shaped(report) -> dict:
    return {**service.view(report), "pdf_url": url_for("mp_reports.pdf", number=report.number)}


@blp.route("/reports", methods=["POST"])
@citizen_required()
@blp.arguments(CreditReportRequestSchema)
@blp.response(201, CreditReportSchema)
@blp.doc(summary="申请个人信用报告：选择用途和内容范围，生成带电子签章的 PDF（默认 30 天有效）", security=CITIZEN_AUTH)
def request_report(body):
    return _shaped(service.request_report(g.citizen, body["purpose"], body["scope"], body["purpose_text"],
                                          body["valid_days"]))


@blp.route("/reports")
@citizen_required()
@blp.response(200, CreditReportSchema(many=True))
@blp.doc(summary="我的信用报告及其状态（有效、已过期、已撤销）和被核验次数", security=CITIZEN_AUTH)
def list_reports():
    return [{**item, "pdf_url": url_for("mp_reports.pdf", number=item["number"])}
            for item in service.reports_of(g.citizen)]


@blp.route("/reports/<string:number>/pdf")
@citizen_required()
@blp.response(200, description="信用报告 PDF 文件（application/pdf）")
@blp.doc(summary="下载信用报告 PDF（含电子签章），内容类型 application/pdf", security=CITIZEN_AUTH)
def pdf(number):
    canonical, data = service.pdf_of(g.citizen, number)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="credit-report-{canonical}.pdf"',
        "Cache-Control": "no-store"})


@blp.route("/reports/<string:number>/revoke", methods=["POST"])
@citizen_required()
@blp.response(200, CreditReportSchema)
@blp.doc(summary="撤销信用报告：此后核验显示“已撤销”", security=CITIZEN_AUTH)
def revoke(number):
    return _shaped(service.revoke(g.citizen, number))
