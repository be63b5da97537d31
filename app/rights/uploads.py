"""Evidence images sent one at a time (WeChat's ``wx.uploadFile`` and 浙里办's bridge send one file per request):
each is checked as the multipart evidence is (type by its bytes, size; the count when a filing cites them), kept
under EVIDENCE_DIR, and answered with an opaque id that only its citizen can cite, once, before it expires.
Uploads nobody cited are deleted by the scheduler (``purge_expired``)."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from app.errors import ApiError
from app.extensions import db
from app.rights import evidence
from app.rights.models import EvidenceUpload
from app.timeutil import utcnow

# What took an upload and keeps its file: a voluntary report has no case of its own to copy the file into.
KEEPS_FILE = "voluntary:"


class ClaimedFile:
    """A claimed upload read like an uploaded file, so the filing's own checks (``evidence.validate``) run on it."""

    def __init__(self, row: EvidenceUpload) -> None:
        self.row = row
        self.filename = row.stored_name
        self.path = evidence.evidence_dir() / row.stored_name

    def read(self, size: int = -1) -> bytes:
        with open(self.path, "rb") as handle:
            return handle.read(size)


def _ttl() -> timedelta:
    return timedelta(seconds=current_app.config["EVIDENCE_UPLOAD_TTL_SECONDS"])


def limits() -> dict:
    """What a client needs to check a photo before sending it."""
    config = current_app.config
    return {"max_files": config["EVIDENCE_MAX_FILES"], "max_bytes": config["EVIDENCE_MAX_BYTES"],
            "content_types": list(evidence.CONTENT_TYPES), "types": list(evidence.CONTENT_TYPES),
            "upload_ttl_seconds": config["EVIDENCE_UPLOAD_TTL_SECONDS"]}


def upload(citizen_id: int, storage) -> EvidenceUpload:
    """Check and keep one image; answers 4xx (under the field ``file``) for anything but a JPG or PNG in size."""
    if storage is None:
        raise ApiError(422, "file_required", "请选择一张图片上传。", {"file": ["缺少图片。"]})
    pending_max = current_app.config["EVIDENCE_UPLOADS_PENDING_MAX"]
    now = utcnow()
    pending = db.session.scalar(select(func.count()).select_from(EvidenceUpload).where(
        EvidenceUpload.citizen_id == citizen_id, EvidenceUpload.used_at.is_(None), EvidenceUpload.expires_at > now))
    if pending >= pending_max:
        raise ApiError(429, "too_many_uploads",
                       f"已上传但尚未提交的图片已有 {pending_max} 张，请先提交申请，或 24 小时后再上传。")
    try:
        (checked,) = evidence.validate([storage])
    except ValueError:  # no file in the field
        raise ApiError(422, "file_required", "请选择一张图片上传。", {"file": ["缺少图片。"]}) from None
    except ApiError as error:
        raise ApiError(error.status, error.code, error.message, {"file": [error.message]}) from None
    folder = evidence.evidence_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = "u" + secrets.token_hex(16) + (".jpg" if checked.content_type == "image/jpeg" else ".png")
    fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(checked.data)
    row = EvidenceUpload(citizen_id=citizen_id, content_type=checked.content_type, size=len(checked.data),
                         sha256=checked.sha256, stored_name=name, created_at=now, expires_at=now + _ttl())
    db.session.add(row)
    try:
        db.session.commit()
    except Exception:
        (folder / name).unlink(missing_ok=True)
        raise
    return row


def describe(row: EvidenceUpload) -> dict:
    return {"evidence_id": row.ref, "expires_at": row.expires_at, "content_type": row.content_type,
            "size": row.size}


def _refused(index: int, status: int, code: str, message: str) -> ApiError:
    return ApiError(status, code, message, {"evidence_ids": {str(index): [message]}})


def claim(citizen_id: int, evidence_ids, used_for: str) -> list[ClaimedFile]:
    """Take the citizen's uploads for a filing, in the caller's transaction: another citizen's id (or one that
    never existed) is a 404, a used one 409, an expired one 410. A conditional UPDATE makes two filings citing the
    same upload at once end with one winner; the loser gets the 409. Rolled back with the filing."""
    ids = list(dict.fromkeys(evidence_ids or ()))
    if not ids:
        return []
    limit = current_app.config["EVIDENCE_MAX_FILES"]
    if len(ids) > limit:
        raise ApiError(422, "too_many_files", f"证明材料最多上传 {limit} 张图片。",
                       {"evidence_ids": [f"最多 {limit} 张。"]})
    rows = {row.ref: row for row in db.session.scalars(select(EvidenceUpload).where(EvidenceUpload.ref.in_(ids)))}
    now = utcnow()
    for index, ref in enumerate(ids):
        row = rows.get(ref)
        if row is None or row.citizen_id != citizen_id:
            raise _refused(index, 404, "evidence_not_found", "未找到该图片（或不是您上传的），请重新上传。")
        if row.used_at is not None:
            raise _refused(index, 409, "evidence_already_used", "这张图片已用于另一份申请，请重新上传。")
        if row.expires_at <= now or not (evidence.evidence_dir() / row.stored_name).is_file():
            raise _refused(index, 410, "evidence_expired", "图片上传已超过有效期，请重新上传。")
    won = db.session.execute(
        update(EvidenceUpload)
        .where(EvidenceUpload.ref.in_(ids), EvidenceUpload.citizen_id == citizen_id,
               EvidenceUpload.used_at.is_(None), EvidenceUpload.expires_at > now)
        .values(used_at=now, used_for=used_for)
        .execution_options(synchronize_session=False)).rowcount
    if won != len(ids):
        db.session.rollback()
        raise ApiError(409, "evidence_already_used", "图片刚刚已用于另一份申请，请重新上传。",
                       {"evidence_ids": ["已被使用。"]})
    return [ClaimedFile(rows[ref]) for ref in ids]


def attach(claimed: list[ClaimedFile], owner: str) -> None:
    """Name what keeps the files (``voluntary:<ref>``), in the caller's transaction."""
    if claimed:
        db.session.execute(update(EvidenceUpload).where(EvidenceUpload.id.in_([c.row.id for c in claimed]))
                           .values(used_for=owner).execution_options(synchronize_session=False))


def attached(owner: str) -> list[EvidenceUpload]:
    return list(db.session.scalars(select(EvidenceUpload).where(EvidenceUpload.used_for == owner)
                                   .order_by(EvidenceUpload.id)))


def copied(claimed: list[ClaimedFile]) -> None:
    """After the filing committed: the case holds its own copies, so the uploaded files go."""
    for item in claimed:
        item.path.unlink(missing_ok=True)


def purge_expired() -> int:
    """Delete expired uploads nobody cited (file and row) and the rows of used ones whose file a case copied;
    returns how many rows went. Files kept by a voluntary report stay."""
    now = utcnow()
    rows = db.session.execute(select(EvidenceUpload.id, EvidenceUpload.stored_name).where(
        EvidenceUpload.expires_at <= now,
        or_(EvidenceUpload.used_at.is_(None), ~EvidenceUpload.used_for.startswith(KEEPS_FILE)))).all()
    folder = evidence.evidence_dir()
    for start in range(0, len(rows), 500):
        chunk = rows[start:start + 500]
        db.session.execute(delete(EvidenceUpload).where(EvidenceUpload.id.in_([row.id for row in chunk])))
        db.session.commit()
        for row in chunk:
            (folder / row.stored_name).unlink(missing_ok=True)
    return len(rows)
