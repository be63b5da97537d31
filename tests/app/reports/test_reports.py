"""个人信用报告 as the citizen, a verifier and staff see it: what each option's PDF says (read back by poppler's
pdftotext), validity and expiry, revocation, a tampered file refused, verifications in the citizen's trail and
rate-limited, the staff look-up and the dashboard's count by purpose."""

from __future__ import annotations

import re
import subprocess
import threading
from datetime import timedelta

import pytest
import time_machine
import zxingcpp
from PIL import Image

from app.citizens import service as citizens
from app.errors import ApiError
from app.extensions import db
from app.reports import service as report_service
from app.rights import commitments
from app.rights.commitments import STATUS_NAMES as COMMITMENT_STATUS
from app.scoring import service as scoring
from app.timeutil import city_today, utcnow
from tests.app.console.helpers import page_token, staff_client
from tests.app.reports.conftest import fetch_pdf, needs_poppler, pdf_text, request_report, tampered

pytestmark = needs_poppler
COMMITMENT_ACTIVE = COMMITMENT_STATUS["active"]


def _me(client, headers) -> dict:
    return client.get("/mp/v1/me", headers=headers).get_json()


def _score(client, headers) -> dict:
    return client.get("/mp/v1/me/score", headers=headers).get_json()


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_level_only_report_shows_the_level_and_nothing_more(rights, client, tmp_path):
    rights.report(type_code="LA_PENALTY_GENERAL", days_ago=40)
    score = _score(client, rights.citizen)
    report = request_report(client, rights.citizen, scope="level", purpose="job")
    assert report["status"] == "valid" and report["scope"] == "level" and report["total"] is None
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4}){3}", report["number"])
    issued = report["issued_at"]
    text = pdf_text(fetch_pdf(client, rights.citizen, report), tmp_path)
    flat = _flat(text)
    assert "绍兴市个人信用报告" in flat and report["number"] in flat
    assert "报告用途求职" in flat and "仅信用等级" in flat
    assert _me(client, rights.citizen)["masked_id_number"] in flat
    assert f"信用等级：{score['level_name']}（L{score['level']}）" in flat
    assert f"{issued[:10]}{issued[11:16]}（北京时间）" in flat  # the as-of time in Asia/Shanghai
    assert "绍兴信用分：" not in flat and "/1000分" not in flat
    assert "四个维度" not in flat and "一般程序行政处罚" not in flat


def test_level_and_score_report_adds_the_score(rights, client, tmp_path):
    score = _score(client, rights.citizen)
    report = request_report(client, rights.citizen, scope="level_score", purpose="rental")
    assert report["total"] == score["total"]
    flat = _flat(pdf_text(fetch_pdf(client, rights.citizen, report), tmp_path))
    assert f"绍兴信用分：{score['total']}/1000分" in flat and "报告用途租房" in flat
    assert "四个维度" not in flat


def test_full_report_lists_dimensions_counted_records_commitments_and_open_objections(app, rights, client, tmp_path):
    counted = rights.report(type_code="LA_PENALTY_GENERAL", days_ago=40)
    disputed = rights.report(type_code="LA_PENALTY_SERIOUS", days_ago=60)
    assert rights.object(disputed).status_code == 201
    with app.app_context():
        citizen = citizens.get_by_ref(rights.people["wang"][0])
        ctype = commitments.commitment_type("CIVIL_ENV")
        commitments.make(citizen.id, "CIVIL_ENV", ctype.current_text.version, True)
        db.session.commit()
        contributions = {c.ref: c for c in scoring.explain(citizen).contributions}
        commitment_name = ctype.name
    record = rights.record(counted)
    score = _score(client, rights.citizen)
    report = request_report(client, rights.citizen, scope="full", purpose="other", purpose_text="办理人才公寓入住")
    flat = _flat(pdf_text(fetch_pdf(client, rights.citizen, report), tmp_path))
    assert "报告用途其他：办理人才公寓入住" in flat and "完整信用档案" in flat
    for dimension in score["dimensions"]:
        assert f"{dimension['name']}{dimension['points']}{dimension['cap']}" in flat
    counts_through = (contributions[counted].counts_until - timedelta(days=1)).isoformat()
    assert (f"{record['name']}遵纪守法{record['department']}{record['occurred_at']}{counts_through}"
            f"{record['points']:+d}") in flat
    assert "计分的信用记录（1条）" in flat  # the disputed record does not count while its objection is open
    starts = city_today().isoformat()
    assert f"信用承诺（1项）承诺状态开始结束{commitment_name}{COMMITMENT_ACTIVE}{starts}" in flat
    disputed_record = rights.record(disputed)
    assert (f"异议处理中的记录（1条）记录发生日期提出异议状态{disputed_record['name']}{disputed_record['occurred_at']}"
            f"{city_today().isoformat()}异议处理中，暂不计分") in flat


def test_bad_requests_are_refused_in_chinese(rights, client, app):
    cases = [({"purpose": "other", "scope": "level"}, 422, "purpose_text_required"),
             ({"purpose": "mortgage", "scope": "level"}, 422, None),
             ({"purpose": "job", "scope": "everything"}, 422, None),
             ({"purpose": "job", "scope": "level", "valid_days": 200}, 422, "invalid_validity")]
    for body, status, code in cases:
        response = client.post("/mp/v1/me/reports", headers=rights.citizen, json=body)
        assert response.status_code == status, (body, response.get_json())
        if code:
            assert response.get_json()["code"] == code
        assert re.search(r"[\u4e00-\u9fff]", response.get_json()["message"])
    assert client.delete("/mp/v1/me/consents/scoring", headers=rights.citizen).status_code == 200
    refused = client.post("/mp/v1/me/reports", headers=rights.citizen, json={"purpose": "job", "scope": "level"})
    assert refused.status_code == 409 and refused.get_json()["code"] == "no_scoring_consent"
    assert client.get("/mp/v1/me/reports", headers=rights.citizen).get_json() == []


def test_qr_code_leads_to_the_verification_page(rights, client, tmp_path):
    report = request_report(client, rights.citizen)
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(fetch_pdf(client, rights.citizen, report))
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True)
    decoded = [code.text for code in zxingcpp.read_barcodes(Image.open(next(tmp_path.glob("page*.png"))))]
    assert decoded == [report["verify_url"]]
    assert decoded[0] == f"http://localhost/verify/report/{report['number']}"
    page = client.get(decoded[0].removeprefix("http://localhost"))
    assert page.status_code == 200 and 'data-status="valid"' in page.get_data(as_text=True)


def test_verification_shows_what_the_report_shows_until_it_expires(rights, client):
    level_only = request_report(client, rights.citizen, scope="level")
    with_score = request_report(client, rights.citizen, scope="level_score", valid_days=10)
    first = client.get(f"/api/v1/reports/{level_only['number']}/verification").get_json()
    assert first["status"] == "valid" and first["purpose_name"] == "信易贷" and first["scope"] == "level"
    assert first["shows"] == {"masked_name": "王*", "masked_id_number": _me(client, rights.citizen)["masked_id_number"],
                              "level": level_only["level"], "level_name": level_only["level_name"]}
    second = client.get(f"/api/v1/reports/{with_score['number'].lower()}/verification").get_json()
    assert second["shows"]["total"] == with_score["total"]

    with time_machine.travel(utcnow() + timedelta(days=11)):
        expired = client.get(f"/api/v1/reports/{with_score['number']}/verification").get_json()
        still = client.get(f"/api/v1/reports/{level_only['number']}/verification").get_json()
        page = client.get(f"/verify/report/{with_score['number']}").get_data(as_text=True)
    assert expired["status"] == "expired" and "shows" not in expired
    assert still["status"] == "valid"
    assert 'data-status="expired"' in page and "报告已过期" in page and "王*" not in page
    with time_machine.travel(utcnow() + timedelta(days=31)):
        assert client.get(f"/api/v1/reports/{level_only['number']}/verification").get_json()["status"] == "expired"


def test_unknown_numbers_are_unknown(rights, client):
    assert client.get("/api/v1/reports/AAAA-BBBB-CCCC-DDDD/verification").get_json() == {
        "number": "AAAA-BBBB-CCCC-DDDD", "status": "unknown", "status_name": "未找到该报告"}
    page = client.get("/verify/report/not-a-number")
    assert page.status_code == 404 and "未找到该报告" in page.get_data(as_text=True)


def test_a_citizen_revokes_a_report_and_verifiers_see_it_revoked(rights, client):
    report = request_report(client, rights.citizen, scope="level_score")
    other = rights.bind("chen")
    assert client.post(f"/mp/v1/me/reports/{report['number']}/revoke", headers=other).status_code == 404
    assert client.get(report["pdf_url"], headers=other).status_code == 404
    revoked = client.post(f"/mp/v1/me/reports/{report['number']}/revoke", headers=rights.citizen)
    assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
    again = client.post(f"/mp/v1/me/reports/{report['number']}/revoke", headers=rights.citizen).get_json()
    assert again["revoked_at"] == revoked.get_json()["revoked_at"]
    answer = client.get(f"/api/v1/reports/{report['number']}/verification").get_json()
    assert answer["status"] == "revoked" and answer["revoked_at"] and "shows" not in answer
    page = client.get(f"/verify/report/{report['number']}").get_data(as_text=True)
    assert "报告已被本人撤销" in page and str(report["total"]) not in page


def test_an_uploaded_pdf_must_be_the_issued_one_byte_for_byte(rights, client):
    report = request_report(client, rights.citizen)
    pdf = fetch_pdf(client, rights.citizen, report)

    def upload(data: bytes):
        return client.post(f"/verify/report/{report['number']}", content_type="multipart/form-data",
                           data={"pdf": (__import__("io").BytesIO(data), "report.pdf"), "organisation": "某银行"})

    same = upload(pdf).get_data(as_text=True)
    assert 'data-file="match"' in same and "完全一致" in same
    changed = upload(tampered(pdf)).get_data(as_text=True)
    assert 'data-file="mismatch"' in changed and "不一致" in changed
    assert upload(pdf[:-1]).get_data(as_text=True).count('data-file="mismatch"') == 1
    empty = client.post(f"/verify/report/{report['number']}", content_type="multipart/form-data", data={})
    assert empty.status_code == 422 and "请选择要核对的 PDF 文件" in empty.get_data(as_text=True)


def test_every_verification_is_in_the_citizens_trail_with_the_stated_organisation(rights, client):
    report = request_report(client, rights.citizen, purpose="credit_loan")
    client.get(f"/verify/report/{report['number']}?organisation=绍兴银行越城支行")
    client.get(f"/api/v1/reports/{report['number']}/verification")
    client.get("/verify/report/AAAA-BBBB-CCCC-DDDD")  # about nobody: in nobody's trail
    trail = client.get("/mp/v1/me/audit?per_page=50", headers=rights.citizen).get_json()["items"]
    verifications = [item for item in trail if item["action"] == "report.verify"]
    assert [item["who"] for item in verifications] == ["信用报告核验方（未说明单位）", "绍兴银行越城支行（核验方自述）"]
    assert all(item["action_name"] == "核验个人信用报告" and "信易贷" in item["reason"] for item in verifications)
    assert [item["action"] for item in trail].count("report.issue") == 1
    listed = client.get("/mp/v1/me/reports", headers=rights.citizen).get_json()
    assert listed[0]["verifications"] == 2


def test_verifications_are_rate_limited_per_address(app, rights, client, monkeypatch):
    report = request_report(client, rights.citizen)
    monkeypatch.setitem(app.config, "REPORT_VERIFICATIONS_PER_ADDRESS", "3 per minute")
    for _ in range(3):
        assert client.get(f"/api/v1/reports/{report['number']}/verification").status_code == 200
    refused = client.get(f"/api/v1/reports/{report['number']}/verification")
    assert refused.status_code == 429 and refused.get_json()["code"] == "too_many_verifications"
    assert int(refused.headers["Retry-After"]) > 0
    page = client.get(f"/verify/report/{report['number']}")
    assert page.status_code == 429 and "核验过于频繁" in page.get_data(as_text=True)
    guessing = client.get("/api/v1/reports/AAAA-BBBB-CCCC-DDDD/verification")
    assert guessing.status_code == 429
    trail = client.get("/mp/v1/me/audit?per_page=50", headers=rights.citizen).get_json()["items"]
    assert [item["action"] for item in trail].count("report.verify") == 3


def test_requests_are_rate_limited_per_citizen(app, rights, client, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_REQUESTS_PER_CITIZEN", "1 per day")
    request_report(client, rights.citizen)
    refused = client.post("/mp/v1/me/reports", headers=rights.citizen, json={"purpose": "job", "scope": "level"})
    assert refused.status_code == 429 and refused.get_json()["code"] == "too_many_reports"


def test_no_report_is_signed_outside_the_certificates_validity(app, rights, client):
    request_report(client, rights.citizen)
    with app.app_context(), time_machine.travel(utcnow() + timedelta(days=900)):
        citizen = citizens.get_by_ref(rights.people["wang"][0])
        with pytest.raises(ApiError) as refused:
            report_service.request_report(citizen, "job", "level")
    assert refused.value.status == 503 and refused.value.code == "report_signing_unavailable"
    assert "签章证书不在有效期内" in refused.value.message


def test_staff_look_a_report_up_and_count_reports_by_purpose(app, rights, client):
    first = request_report(client, rights.citizen, purpose="credit_loan")
    request_report(client, rights.citizen, purpose="credit_loan", scope="level_score")
    request_report(client, rights.citizen, purpose="rental")
    with app.app_context():
        staff = staff_client(app, "reports-staff")
    token = page_token(staff, "/console/reports")
    found = staff.post("/console/reports", data={"number": first["number"].lower(), "reason": "银行来电核实",
                                                 "csrf_token": token})
    html = found.get_data(as_text=True)
    assert found.status_code == 200 and first["number"] in html and 'data-status="valid"' in html
    assert "信易贷" in html and "王*" in html
    missing = staff.post("/console/reports", data={"number": "AAAA-BBBB-CCCC-DDDD", "reason": "核实",
                                                   "csrf_token": token})
    assert missing.status_code == 404 and "未找到该编号的信用报告" in missing.get_data(as_text=True)
    trail = client.get("/mp/v1/me/audit?per_page=50", headers=rights.citizen).get_json()["items"]
    assert any(item["action"] == "report.lookup" and item["reason"] == "银行来电核实" for item in trail)

    today = city_today().isoformat()
    chart = staff.get(f"/console/api/charts/reports-by-purpose?from={today}&to={today}").get_json()
    assert {p["name"]: p["count"] for p in chart["purposes"]} == {"信易贷": 2, "求职": 0, "租房": 1, "其他": 0}
    assert chart["total"] == 3
    yesterday = (city_today() - timedelta(days=1)).isoformat()
    assert staff.get(f"/console/api/charts/reports-by-purpose?from={yesterday}&to={yesterday}").get_json()[
        "total"] == 0
    dashboard = staff.get("/console/dashboard").get_data(as_text=True)
    assert 'data-chart="reports-by-purpose"' in dashboard


def test_concurrent_revocations_and_verifications_never_fail(app, rights, client):
    """Five revocations and five verifications of one report at once: no 500, one revocation recorded, every
    verification counted."""
    report = request_report(client, rights.citizen)
    barrier = threading.Barrier(10)
    answers: list = [None] * 10

    def act(index: int) -> None:
        own = app.test_client()
        barrier.wait(timeout=30)
        if index < 5:
            answers[index] = own.post(f"/mp/v1/me/reports/{report['number']}/revoke", headers=rights.citizen)
        else:
            answers[index] = own.get(f"/api/v1/reports/{report['number']}/verification")

    threads = [threading.Thread(target=act, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {200, 503}, statuses  # 503: the embedded store was busy, retry
    revoked = {answer.get_json()["revoked_at"] for answer in answers[:5] if answer.status_code == 200}
    assert len(revoked) == 1, revoked
    trail = client.get("/mp/v1/me/audit?per_page=100", headers=rights.citizen).get_json()["items"]
    actions = [item["action"] for item in trail]
    assert actions.count("report.revoke") == 1
    listed = client.get("/mp/v1/me/reports", headers=rights.citizen).get_json()[0]
    assert listed["status"] == "revoked"
    assert listed["verifications"] == actions.count("report.verify") == statuses[5:].count(200)
