"""Evidence one image at a time (what wx.uploadFile sends): upload, then file by id in a JSON body; ids are the
uploader's own, usable once, short-lived; unused uploads are purged by the scheduler's job."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.rights.evidence import evidence_dir
from app.rights.models import EvidenceUpload
from app.scheduler.jobs import JOBS
from tests.app.rights.conftest import image_bytes
from tests.miniprogram_api.conftest import auth, login


def _upload(rights, content: bytes, headers=None, name="photo.jpg"):
    return rights.client.post("/mp/v1/me/evidence", headers=headers or rights.citizen,
                              data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def _stored_files(app) -> set[str]:
    with app.app_context():
        folder = evidence_dir()
        return {path.name for path in folder.iterdir()} if folder.exists() else set()


def test_upload_then_object_by_id_turns_the_record_disputed(rights):
    record = rights.report(summary="占道经营")
    before = rights.score()
    uploaded = _upload(rights, image_bytes("PNG"), name="decision.png")
    assert uploaded.status_code == 201, uploaded.get_json()
    body = uploaded.get_json()
    assert body["content_type"] == "image/png" and body["size"] == len(image_bytes("PNG"))
    assert len(body["evidence_id"]) >= 16 and body["expires_at"]

    response = rights.client.post("/mp/v1/me/objections", headers=rights.citizen, json={
        "record": record, "reason_code": "wrong_facts", "reason_text": "已被复议撤销",
        "evidence_ids": [body["evidence_id"]]})
    assert response.status_code == 201, response.get_json()
    case = response.get_json()
    assert case["record"]["status"] == "disputed" and len(case["evidence"]) == 1
    assert rights.record(record)["status"] == "disputed"
    assert rights.score() == before + 30
    # The case holds its own copy; the citizen sees the very bytes they uploaded.
    shown = rights.client.get(case["evidence"][0]["url"], headers=rights.citizen)
    assert shown.status_code == 200 and shown.data == image_bytes("PNG")

    # Used once: citing it again is refused, with the field it is about.
    other = rights.report(summary="另一条")
    again = rights.client.post("/mp/v1/me/objections", headers=rights.citizen, json={
        "record": other, "reason_code": "other", "evidence_ids": [body["evidence_id"]]})
    assert again.status_code == 409 and again.get_json()["code"] == "evidence_already_used"
    assert "evidence_ids" in again.get_json()["errors"]
    assert rights.record(other)["status"] == "active"


def test_someone_elses_or_unknown_id_is_refused_and_changes_nothing(rights):
    record = rights.report()
    chen = rights.bind("chen")
    theirs = _upload(rights, image_bytes(), headers=chen).get_json()["evidence_id"]
    for evidence_id in (theirs, "0" * 32):
        response = rights.client.post("/mp/v1/me/objections", headers=rights.citizen, json={
            "record": record, "reason_code": "wrong_facts", "evidence_ids": [evidence_id]})
        assert response.status_code == 404, response.get_json()
        assert response.get_json()["code"] == "evidence_not_found"
        assert "上传" in response.get_json()["message"]
    assert rights.record(record)["status"] == "active"
    # Still usable by its owner.
    chen_record = rights.report("chen")
    mine = rights.client.post("/mp/v1/me/objections", headers=chen, json={
        "record": chen_record, "reason_code": "wrong_facts", "evidence_ids": [theirs]})
    assert mine.status_code == 201, mine.get_json()


def test_upload_refuses_what_the_multipart_evidence_refuses(rights, app):
    not_image = _upload(rights, b"%PDF-1.4 not an image", name="x.jpg")
    assert not_image.status_code == 415 and not_image.get_json()["code"] == "unsupported_file_type"
    assert "file" in not_image.get_json()["errors"]
    app.config["EVIDENCE_MAX_BYTES"], previous = 100, app.config["EVIDENCE_MAX_BYTES"]
    try:
        big = _upload(rights, image_bytes(size=(64, 64)))
        assert big.status_code == 413 and big.get_json()["code"] == "file_too_large"
    finally:
        app.config["EVIDENCE_MAX_BYTES"] = previous
    missing = rights.client.post("/mp/v1/me/evidence", headers=rights.citizen, data={},
                                 content_type="multipart/form-data")
    assert missing.status_code == 422 and missing.get_json()["code"] == "file_required"
    assert _upload(rights, image_bytes(), headers={"Authorization": "Bearer nope"}).status_code == 401


def test_too_many_ids_in_one_filing(rights, app):
    record = rights.report()
    limit = app.config["EVIDENCE_MAX_FILES"]
    ids = [_upload(rights, image_bytes(color=(i, 0, 0))).get_json()["evidence_id"] for i in range(limit + 1)]
    response = rights.client.post("/mp/v1/me/objections", headers=rights.citizen, json={
        "record": record, "reason_code": "wrong_facts", "evidence_ids": ids})
    assert response.status_code == 422 and response.get_json()["code"] == "too_many_files"


def test_repair_and_voluntary_report_by_id(rights):
    record = rights.report(type_code="LA_PENALTY_GENERAL", days_ago=400)
    version = rights.client.get(f"/mp/v1/me/repairs/preview?record={record}",
                                headers=rights.citizen).get_json()["commitment_version"]
    proof = _upload(rights, image_bytes()).get_json()["evidence_id"]
    repair = rights.client.post("/mp/v1/me/repairs", headers=rights.citizen, json={
        "record": record, "statement": "罚款已缴清", "commitment_version": version, "commitment_accepted": True,
        "evidence_ids": [proof]})
    assert repair.status_code == 201, repair.get_json()
    assert repair.get_json()["state"] == "applied" and len(repair.get_json()["evidence"]) == 1

    without = rights.client.post("/mp/v1/me/repairs", headers=rights.citizen, json={
        "record": rights.report(days_ago=400), "commitment_version": version, "commitment_accepted": True})
    assert without.status_code == 422 and without.get_json()["code"] == "proof_required"

    types = rights.client.get("/mp/v1/me/voluntary-reports/types", headers=rights.citizen).get_json()
    certificate = _upload(rights, image_bytes("PNG")).get_json()["evidence_id"]
    report = rights.client.post("/mp/v1/me/voluntary-reports", headers=rights.citizen, json={
        "type": types["types"][0]["code"], "occurred_at": (date.today() - timedelta(days=10)).isoformat(),
        "issuer": "绍兴市中心血站", "commitment_version": types["commitment_version"], "commitment_accepted": True,
        "evidence_ids": [certificate]})
    assert report.status_code == 201, report.get_json()
    assert [item["evidence_id"] for item in report.get_json()["evidence"]] == [certificate]


def test_unused_uploads_are_purged_after_a_day(rights, app):
    record = rights.report()
    unused = _upload(rights, image_bytes(color=(1, 2, 3))).get_json()["evidence_id"]
    used = _upload(rights, image_bytes(color=(4, 5, 6))).get_json()["evidence_id"]
    assert rights.client.post("/mp/v1/me/objections", headers=rights.citizen, json={
        "record": record, "reason_code": "wrong_facts", "evidence_ids": [used]}).status_code == 201
    with app.app_context():
        names = dict(db.session.execute(select(EvidenceUpload.ref, EvidenceUpload.stored_name)).all())
    files = _stored_files(app)
    assert names[unused] in files and names[used] not in files  # the used one was copied into the case
    case_copies = files - {names[unused]}

    purge, trigger = JOBS["evidence-uploads-purge"]
    assert trigger["trigger"] == "cron"
    with app.app_context():
        assert purge() == 0  # nothing expired yet
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=23)), app.app_context():
        assert purge() == 0
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=25)), app.app_context():
        assert purge() == 2
        assert db.session.scalar(select(func.count()).select_from(EvidenceUpload)) == 0
    assert _stored_files(app) == case_copies  # the unused upload's file went; the case's copy stays


def test_expired_id_is_refused(rights):
    record = rights.report()
    old = _upload(rights, image_bytes()).get_json()["evidence_id"]
    with time_machine.travel(datetime.now(UTC) + timedelta(days=1, minutes=1)):
        fresh = auth(login(rights.client, "wang-phone"))  # the access token of a day ago has lapsed too
        response = rights.client.post("/mp/v1/me/objections", headers=fresh, json={
            "record": record, "reason_code": "wrong_facts", "evidence_ids": [old]})
    assert response.status_code == 410 and response.get_json()["code"] == "evidence_expired"
    assert "重新上传" in response.get_json()["message"]


def test_a_text_field_where_the_image_belongs_is_refused_not_a_500(rights):
    """Seen in the fuzz run: ``file`` sent as a text field reached the image check as a string (500)."""
    upload = rights.client.post("/mp/v1/me/evidence", headers=rights.citizen, content_type="multipart/form-data",
                                data={"file": "not a file"})
    assert upload.status_code == 422, upload.get_json()
    assert upload.get_json()["code"] == "not_a_file" and "文件" in upload.get_json()["message"]
