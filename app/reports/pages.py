"""The public verification page of a credit report, /verify/report/<number>: what the QR on the report opens.

No login, a phone's screen, Chinese. It says whether the report is valid, expired, revoked or unknown, its as-of
time, purpose and what it shows (never more than the report); a verifier may state their organisation (the citizen
sees it in their trail) and upload the PDF to check it is the one issued, byte for byte.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from app.errors import ApiError
from app.reports import service
from app.timeutil import CITY_TZ

blp = Blueprint("report_pages", __name__, url_prefix="/verify", template_folder="templates",
                static_folder="static", static_url_path="/static/reports")

# Only our own stylesheet; no script at all.
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
                           "base-uri 'none'; frame-ancestors 'none'")
MAX_UPLOAD_BYTES = 4 * 1024 * 1024


@blp.after_request
def _headers(response):
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.app_template_filter("report_time")
def report_time(moment) -> str:
    return moment.astimezone(CITY_TZ).strftime("%Y-%m-%d %H:%M") if moment else ""


def _page(number: str, organisation: str | None, pdf: bytes | None, via: str, status: int = 200):
    try:
        checked = service.verify(number, organisation, pdf, via=via)
    except ApiError as refused:
        return render_template("reports/verify.html", refused=refused.message, number=number[:40],
                               organisation=organisation or ""), refused.status
    code = status if checked.status != "unknown" else 404
    return render_template("reports/verify.html", result=checked.view, file_matches=checked.file_matches,
                           uploaded=pdf is not None, number=checked.view["number"],
                           organisation=organisation or ""), code


@blp.route("/report/<string:number>")
def report(number):
    return _page(number, request.args.get("organisation"), None, "page")


@blp.route("/report/<string:number>", methods=["POST"])
def report_upload(number):
    upload = request.files.get("pdf")
    organisation = request.form.get("organisation")
    if upload is None or not upload.filename:
        return render_template("reports/verify.html", refused="请选择要核对的 PDF 文件。", number=number[:40],
                               organisation=organisation or ""), 422
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return render_template("reports/verify.html", refused="文件过大，信用报告 PDF 不超过 4 MB。",
                               number=number[:40], organisation=organisation or ""), 413
    return _page(number, organisation, data, "upload")


@blp.route("/report-ca.pem")
def ca_certificate():
    pem = service.ca_certificate_pem()
    if pem is None:
        return Response("未配置根证书。", status=404, mimetype="text/plain")
    return Response(pem, mimetype="application/x-pem-file",
                    headers={"Content-Disposition": 'attachment; filename="report-ca.pem"'})
