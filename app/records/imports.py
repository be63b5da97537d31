"""Deliveries of records and their summaries: a CSV file (``flask records import`` and the department desk's
upload run this same code) and the API's batches, each kept as an ImportBatch with its rejected rows.

A rejected row keeps its line (files) or index (API), external id, code and message: never the ID number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator

from flask import current_app
from sqlalchemy import func, select

from app.errors import ApiError
from app.extensions import db
from app.records import service
from app.records.models import Department, ImportBatch
from app.timeutil import utcnow

CSV_INT_FIELDS = ("quantity",)
CSV_REQUIRED_COLUMNS = ("external_id", "id_number", "type_code", "occurred_at")
CSV_COLUMNS = (*CSV_REQUIRED_COLUMNS, "expires_at", "status", "incident_id", "grade", "quantity", "summary")
REJECTED_KEPT = 1000  # rejected rows stored with a batch; the count is always exact


def csv_rows(handle: Iterable[str]) -> Iterator[dict]:
    for row in csv.DictReader(handle):
        clean = {key.strip(): value.strip() for key, value in row.items()
                 if key and isinstance(value, str) and value.strip() != ""}
        for name in CSV_INT_FIELDS:
            if name in clean and clean[name].isdigit():
                clean[name] = int(clean[name])
        yield clean


# Tried in this order when no encoding is given: UTF-8 (with or without BOM), then GB 18030 (a superset of GBK
# and GB 2312, what Chinese spreadsheet software saves by default).
AUTO_ENCODINGS = ("utf-8-sig", "gb18030")
# A cell a spreadsheet would run as a formula (OWASP's CSV injection list); prefixed with ' in an errors file.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A cell value that a spreadsheet shows as text: one starting like a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def decode_upload(data: bytes, encoding: str | None = None) -> str:
    """The text of a CSV file (the encoding given, else UTF-8 with or without BOM, else GBK/GB 18030), or a 422
    that says what is wrong and what to do, for a department clerk and for ``flask records import``."""
    if not data.strip():
        raise ApiError(422, "empty_file", "文件为空。", {"file": ["文件为空，请选择包含记录的 CSV 文件。"]})
    text = None
    for candidate in (encoding,) if encoding else AUTO_ENCODINGS:
        try:
            text = data.decode(candidate)
            break
        except LookupError:
            raise ApiError(422, "unknown_encoding", f"无法识别的文件编码 {candidate}。",
                           {"file": ["请使用 utf-8、gbk、gb18030 或 latin-1 等常见编码。"]}) from None
        except UnicodeDecodeError as error:
            if encoding:
                raise ApiError(422, "wrong_encoding",
                               f"文件不是有效的 {encoding} 编码（第 {error.start} 个字节无法读取）。",
                               {"file": ["请确认文件编码并指定正确的编码。"]}) from None
    if text is None:
        raise ApiError(422, "unknown_encoding", "文件既不是 UTF-8 也不是 GBK/GB18030 编码。",
                       {"file": ["请将文件另存为 UTF-8 编码的 CSV，"
                                 "或在命令行用 --encoding 指明编码（例如 latin-1）。"]})
    header = next(csv.reader(io.StringIO(text)), [])
    missing = [name for name in CSV_REQUIRED_COLUMNS if name not in {h.strip() for h in header}]
    if missing:
        raise ApiError(422, "missing_columns", "CSV 缺少必需的列。",
                       {"file": [f"第一行应为列名，缺少：{'、'.join(missing)}。"]})
    return text


def import_csv(department: Department, text: str, *, source: str, filename: str | None,
               started_by: str | None, on_progress: Callable[[ImportBatch], None] | None = None,
               recompute_inline: bool = False) -> ImportBatch:
    """Import every row of a CSV text in chunks through ``records.service.ingest`` (same checks as the API);
    line numbers in the report are the file's (header is line 1). The citizens concerned are marked for recompute
    (the scheduler's job picks them up); with ``recompute_inline`` a chunk touching few enough citizens is
    rescored at once, as an API batch is."""
    total = max(sum(1 for _ in csv_rows(io.StringIO(text))), 0)
    batch = ImportBatch(department_id=department.id, source=source, filename=(filename or "")[:200] or None,
                        started_by=started_by, total_rows=total, rejected=[])
    db.session.add(batch)
    db.session.commit()
    batch_id = batch.id
    chunk_size = min(1000, current_app.config["RECORDS_BATCH_MAX"])
    rejected: list[dict] = []
    counts = {"accepted": 0, "updated": 0, "unchanged": 0, "processed": 0}
    queued = done = False

    def flush(chunk: list[dict]) -> None:
        nonlocal queued, done
        result = service.ingest(department, chunk, source=f"file:{filename or ''}"[:64],
                                recompute_inline=recompute_inline,
                                index_offset=counts["processed"] + 2)
        for key in ("accepted", "updated", "unchanged"):
            counts[key] += getattr(result, key)
        counts["processed"] += len(chunk)
        rejected.extend(result.rejected)
        queued = queued or result.recompute == "queued"
        done = done or result.recompute == "done"
        current = db.session.get(ImportBatch, batch_id)
        current.processed_rows = counts["processed"]
        db.session.commit()
        if on_progress:
            on_progress(current)

    try:
        chunk: list[dict] = []
        for row in csv_rows(io.StringIO(text)):
            chunk.append(row)
            if len(chunk) >= chunk_size:
                flush(chunk)
                chunk = []
        if chunk:
            flush(chunk)
    except Exception:
        db.session.rollback()
        failed = db.session.get(ImportBatch, batch_id)
        failed.status, failed.finished_at = "failed", utcnow()
        db.session.commit()
        raise
    batch = db.session.get(ImportBatch, batch_id)
    batch.accepted, batch.updated, batch.unchanged = counts["accepted"], counts["updated"], counts["unchanged"]
    batch.rejected_count, batch.rejected = len(rejected), rejected[:REJECTED_KEPT]
    batch.recompute = "queued" if queued else "done" if done else "none"
    batch.status, batch.finished_at = "done", utcnow()
    db.session.commit()
    return batch


def record_api_batch(department: Department, rows: int, result: service.BatchResult,
                     started_by: str | None = None) -> ImportBatch:
    """Keep the summary of a batch the API has just ingested (the desk's batch history)."""
    batch = ImportBatch(
        department_id=department.id, source="api", started_by=started_by, status="done", total_rows=rows,
        processed_rows=rows, accepted=result.accepted, updated=result.updated, unchanged=result.unchanged,
        rejected_count=len(result.rejected), rejected=result.rejected[:REJECTED_KEPT], recompute=result.recompute,
        finished_at=utcnow(),
    )
    db.session.add(batch)
    db.session.commit()
    return batch


def batches_of(department_id: int, page: int = 1, per_page: int = 20) -> tuple[list[ImportBatch], int]:
    stmt = select(ImportBatch).where(ImportBatch.department_id == department_id)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = db.session.scalars(stmt.order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc())
                               .limit(per_page).offset((page - 1) * per_page)).all()
    return list(items), total


def batch_of(department_id: int, ref: str) -> ImportBatch:
    """One batch of this department; another department's batch is 'not found' (no hint that it exists)."""
    batch = db.session.scalar(select(ImportBatch).where(ImportBatch.ref == ref,
                                                         ImportBatch.department_id == department_id))
    if batch is None:
        raise ApiError(404, "batch_not_found", "未找到该批次。")
    return batch
