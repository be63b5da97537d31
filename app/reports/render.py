"""The report as a PDF: a Jinja template rendered to HTML, laid out by WeasyPrint with the Noto CJK fonts embedded
(subset), and the QR code to the verification page as a PNG inside it."""

from __future__ import annotations

import base64
import io
import logging

import qrcode
from jinja2 import Environment, PackageLoader, select_autoescape
from qrcode.constants import ERROR_CORRECT_M

# WeasyPrint logs each of its seven layout steps at INFO: seven lines per report in the app's log.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

_templates = Environment(loader=PackageLoader("app.reports", "templates"), autoescape=select_autoescape(["html"]))


def qr_data_uri(text: str) -> str:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image().save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def report_html(context: dict) -> str:
    return _templates.get_template("reports/report.html").render(
        **context, qr_data_uri=qr_data_uri(context["verify_url"]))


def render_pdf(context: dict) -> bytes:
    # Imported here: WeasyPrint loads pango and its font machinery (half a second), which only issuing needs.
    import weasyprint

    return weasyprint.HTML(string=report_html(context)).write_pdf()
