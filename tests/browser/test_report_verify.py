"""A credit report as a verifier meets it: the PDF's first page rendered by poppler (saved as a screenshot), its
QR decoded from that image, and the page the QR leads to opened on a phone: the status and what the report shows,
the organisation stated, and an uploaded PDF with one byte changed refused. Screenshots: report-*.png."""

from __future__ import annotations

import shutil
import subprocess

import zxingcpp
from PIL import Image

from tests.app.reports.conftest import fetch_pdf, needs_poppler, request_report, tampered
from tests.app.rights.conftest import rights, seeded_calendar  # noqa: F401  (fixtures)
from tests.browser.conftest import SCREENSHOTS_DIR

PHONE = {"viewport": {"width": 412, "height": 915}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}

pytestmark = needs_poppler


def test_the_qr_of_a_report_opens_its_verification_page_on_a_phone(app, rights, client, live_server,  # noqa: F811
                                                                    new_context, screenshot, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", live_server.url)
    report = request_report(client, rights.citizen, scope="level_score", purpose="credit_loan")
    pdf = fetch_pdf(client, rights.citizen, report)
    (tmp_path / "report.pdf").write_bytes(pdf)
    (tmp_path / "changed.pdf").write_bytes(tampered(pdf))
    subprocess.run(["pdftoppm", "-r", "110", "-png", "-singlefile", "-f", "1", "-l", "1",
                    str(tmp_path / "report.pdf"), str(tmp_path / "page")], check=True)
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tmp_path / "page.png", SCREENSHOTS_DIR / "report-pdf-page1.png")
    decoded = [code.text for code in zxingcpp.read_barcodes(Image.open(tmp_path / "page.png"))]
    assert decoded == [f"{live_server.url}/verify/report/{report['number']}"]

    page = new_context(**PHONE).new_page()
    page.goto(decoded[0])
    banner = page.locator(".banner[data-status]")
    assert banner.inner_text().strip() == "✔ 报告有效"
    facts = page.locator("dl.facts").inner_text()
    assert report["number"] in facts and "信易贷" in facts and "信用等级和信用分" in facts
    assert f"{report['total']} 分" in facts and report["level_name"] in facts
    assert page.evaluate("document.documentElement.scrollWidth") <= 412  # no sideways scrolling on a phone
    screenshot(page, "report-verify-phone")

    page.fill("#org", "绍兴银行越城支行")
    page.click("text=登记并核验")
    page.wait_for_url("**organisation=*")
    page.set_input_files("#pdf", str(tmp_path / "changed.pdf"))
    page.click("text=上传核对")
    refused = page.locator("[data-file]")
    assert refused.get_attribute("data-file") == "mismatch"
    assert "不一致" in refused.inner_text()
    screenshot(page, "report-verify-phone-tampered")
    page.set_input_files("#pdf", str(tmp_path / "report.pdf"))
    page.click("text=上传核对")
    assert page.locator("[data-file]").get_attribute("data-file") == "match"

    trail = client.get("/mp/v1/me/audit?per_page=50", headers=rights.citizen).get_json()["items"]
    who = [item["who"] for item in trail if item["action"] == "report.verify"]
    assert who.count("绍兴银行越城支行（核验方自述）") == 3 and len(who) == 4
