"""Evidence images of objections and repairs: validated (JPEG/PNG by their bytes, size, count), stored as files
under EVIDENCE_DIR (never in the database row), served only to the citizen, the owning department and staff,
and every view audited."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select

from app.audit import service as audit
from app.errors import ApiError
from app.extensions import db
from app.rights.models import EvidenceFile, RightsCase

# Magic bytes first (cheap, and what the issue asks for); Pillow then checks the image really decodes.
_SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg", "JPEG"), (b"\x89PNG\r\n\x1a\n", "image/png", "PNG"))
CONTENT_TYPES = tuple(mime for _, mime, _ in _SIGNATURES)


@dataclass(frozen=True)
class Upload:
    data: bytes
    content_type: str
    sha256: str


def evidence_dir() -> Path:
    configured = current_app.config.get("EVIDENCE_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "evidence"


def validate(files) -> list[Upload]:
    """``files``: werkzeug FileStorage objects (or anything with ``read()``). Raises ApiError 4xx on bad input."""
    files = [f for f in files if f is not None and getattr(f, "filename", "x") != ""]
    limit, max_bytes = current_app.config["EVIDENCE_MAX_FILES"], current_app.config["EVIDENCE_MAX_BYTES"]
    if len(files) > limit:
        raise ApiError(422, "too_many_files", f"证明材料最多上传 {limit} 张图片。",
                       {"evidence": [f"最多 {limit} 张。"]})
    uploads = []
    for index, storage in enumerate(files):
        if not callable(getattr(storage, "read", None)):  # a text field where a file belongs
            raise ApiError(422, "not_a_file", "请以文件形式上传图片（JPG 或 PNG）。",
                           {"evidence": {str(index): ["不是文件。"]}})
        data = storage.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise ApiError(413, "file_too_large", f"单张图片不能超过 {max_bytes // 1024} KB。",
                           {"evidence": {str(index): [f"超过 {max_bytes // 1024} KB。"]}})
        if not data:
            raise ApiError(422, "empty_file", "上传的图片是空文件。", {"evidence": {str(index): ["空文件。"]}})
        kind = next(((mime, fmt) for magic, mime, fmt in _SIGNATURES if data.startswith(magic)), None)
        if kind is None:
            raise ApiError(415, "unsupported_file_type", "证明材料只接受 JPG 或 PNG 图片。",
                           {"evidence": {str(index): ["不是 JPG 或 PNG 图片。"]}})
        try:
            with Image.open(io.BytesIO(data)) as image:
                if image.format != kind[1]:
                    raise UnidentifiedImageError
                image.verify()
        except Exception:  # noqa: BLE001 - any decoder complaint means the file is not a usable image
            raise ApiError(415, "unsupported_file_type", "图片已损坏或不是 JPG / PNG 格式。",
                           {"evidence": {str(index): ["图片无法识别。"]}}) from None
        uploads.append(Upload(data, kind[0], hashlib.sha256(data).hexdigest()))
    return uploads


def store(case: RightsCase, uploads: list[Upload]) -> list[EvidenceFile]:
    """Write the files (named by a random token, not by anything the citizen sent) and their rows."""
    folder = evidence_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    rows = []
    for upload in uploads:
        name = secrets.token_hex(16) + (".jpg" if upload.content_type == "image/jpeg" else ".png")
        path = folder / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(upload.data)
        row = EvidenceFile(case_id=case.id, citizen_id=case.citizen_id, content_type=upload.content_type,
                           size=len(upload.data), sha256=upload.sha256, stored_name=name)
        db.session.add(row)
        rows.append(row)
    return rows


def discard(rows: list[EvidenceFile]) -> None:
    """Remove files written for a transaction that rolled back."""
    for row in rows:
        (evidence_dir() / row.stored_name).unlink(missing_ok=True)


def known_hashes(record_id: int) -> set[str]:
    return set(db.session.scalars(
        select(EvidenceFile.sha256).join(RightsCase, RightsCase.id == EvidenceFile.case_id)
        .where(RightsCase.record_id == record_id)))


def files_of(case: RightsCase) -> list[EvidenceFile]:
    return list(db.session.scalars(select(EvidenceFile).where(EvidenceFile.case_id == case.id)
                                   .order_by(EvidenceFile.id)))


def open_for(ref: str, *, citizen_id: int | None = None, department_id: int | None = None,
             staff: bool = False) -> tuple[EvidenceFile, bytes]:
    """The file's row and bytes, for its citizen, the owning department or staff; 404 for anyone else."""
    row = db.session.scalar(select(EvidenceFile).where(EvidenceFile.ref == ref))
    case = db.session.get(RightsCase, row.case_id) if row else None
    allowed = case is not None and (
        staff or (citizen_id is not None and case.citizen_id == citizen_id)
        or (department_id is not None and case.department_id == department_id))
    if not allowed:
        raise ApiError(404, "evidence_not_found", "未找到该证明材料。")
    path = evidence_dir() / row.stored_name
    if not path.is_file():
        raise ApiError(404, "evidence_not_found", "该证明材料的文件已不存在。")
    audit.log(case.citizen_id, "rights.evidence.view", "查看异议/修复证明材料",
              {"evidence": row.ref, "case": case.ref})
    db.session.commit()
    return row, path.read_bytes()
