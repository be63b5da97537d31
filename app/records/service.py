"""归集: departments push credit records; every row is accepted, updated, unchanged or rejected with a reason."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from app import metrics
from app.audit import service as audit
from app.citizens.idnumber import InvalidIdNumber, parse_id_number
from app.citizens.models import Citizen
from app.citizens.service import id_index
from app.errors import ApiError
from app.extensions import db
from app.records.catalog import rules
from app.records.models import Department, PendingRecord, Record
from app.security.secrets_util import new_ref
from app.signals import citizens_registered, records_changed, records_landed
from app.storable import contains_unstorable
from app.timeutil import city_today, utcnow

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DEPARTMENT_STATUSES = ("active", "revoked")
# Objection and repair own these statuses; a department's resend must not silently undo them.
PROCESS_STATUSES = ("disputed", "repaired")
_LOOKUP_CHUNK = 900  # stays under SQLite's bound-parameter limit

REJECTION_MESSAGES = {
    "malformed": "该行格式不正确。",
    "invalid_id_number": "身份证号码无效。",
    "unknown_citizen": "未找到该身份证号码对应的居民。",
    "unknown_type": "信用信息目录中没有该记录类型。",
    "type_not_owned": "本部门无权报送该类型的记录。",
    "impossible_date": "日期不合理。",
    "duplicate_in_batch": "同一批次中外部编号重复，仅保留第一次出现的记录。",
}
HELD_MESSAGE = "该身份证号码尚未登记，记录已暂存，居民登记后自动归入其信用档案。"


class RowRejected(Exception):
    def __init__(self, code: str, message: str | None = None, field_name: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message or REJECTION_MESSAGES[code]
        self.field = field_name


@dataclass
class BatchResult:
    accepted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[dict] = field(default_factory=list)
    recompute: str = "none"
    record_refs: list[str | None] = field(default_factory=list)
    # Rows for people not (yet) registered: kept in pending_record, attached when they are registered.
    held: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"accepted": self.accepted, "updated": self.updated, "unchanged": self.unchanged,
                "rejected": self.rejected, "recompute": self.recompute, "held": self.held}


@dataclass(frozen=True)
class CleanRow:
    index: int
    external_id: str
    id_index: str
    birth_date: date
    values: dict  # the Record columns the department controls
    digest: str


def _text(row: dict, name: str, max_len: int, required: bool = False) -> str | None:
    value = row.get(name)
    if value is None or value == "":
        if required:
            raise RowRejected("malformed", f"缺少字段 {name}。", name)
        return None
    if not isinstance(value, str) or len(value.strip()) > max_len:
        raise RowRejected("malformed", f"字段 {name} 应为不超过 {max_len} 个字符的文本。", name)
    if contains_unstorable(value):
        raise RowRejected("malformed", f"字段 {name} 含有无法识别的字符。", name)
    return value.strip()


def _date(row: dict, name: str, required: bool) -> date | None:
    raw = _text(row, name, 10, required)
    if raw is None:
        return None
    if not _DATE.match(raw):
        raise RowRejected("malformed", f"字段 {name} 应为 YYYY-MM-DD 格式的日期。", name)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise RowRejected("impossible_date", f"日期 {raw} 不存在。", name) from None


def _clean(index: int, row, department: Department, catalog, today: date) -> CleanRow:
    if not isinstance(row, dict):
        raise RowRejected("malformed", "每一行应为一个 JSON 对象。")
    external_id = _text(row, "external_id", 64, required=True)
    raw_id = _text(row, "id_number", 18, required=True)
    try:
        resident = parse_id_number(raw_id, today)
    except InvalidIdNumber as error:
        raise RowRejected("invalid_id_number", error.message, "id_number") from None
    type_code = _text(row, "type_code", 32, required=True)
    record_type = catalog.get(type_code)
    if record_type is None:
        raise RowRejected("unknown_type", field_name="type_code")
    if type_code not in department.record_types:
        raise RowRejected("type_not_owned", field_name="type_code")
    occurred_at = _date(row, "occurred_at", required=True)
    expires_at = _date(row, "expires_at", required=False)
    if occurred_at > today:
        raise RowRejected("impossible_date", "发生日期晚于今天。", "occurred_at")
    if occurred_at < resident.birth_date:
        raise RowRejected("impossible_date", "发生日期早于当事人出生日期。", "occurred_at")
    if expires_at is not None and expires_at < occurred_at:
        raise RowRejected("impossible_date", "失效日期早于发生日期。", "expires_at")
    status = _text(row, "status", 16) or "active"
    if status not in DEPARTMENT_STATUSES:
        raise RowRejected("malformed", "状态只能为 active 或 revoked。", "status")
    grade = _text(row, "grade", 8)
    grades = catalog_grades(type_code)
    if grades and grade not in grades:
        raise RowRejected("malformed", f"该类型需要评价等级：{'、'.join(grades)}。", "grade")
    if not grades and grade is not None:
        raise RowRejected("malformed", "该类型不接受评价等级。", "grade")
    quantity = row.get("quantity", 1)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 100_000:
        raise RowRejected("malformed", "数量应为 1 到 100000 之间的整数。", "quantity")
    values = {
        "type_code": type_code, "status": status, "occurred_at": occurred_at, "expires_at": expires_at,
        "incident_id": _text(row, "incident_id", 64), "grade": grade, "quantity": quantity,
        "summary": _text(row, "summary", 500),
    }
    index_value = id_index(resident.number)
    digest_source = {**values, "occurred_at": str(occurred_at), "expires_at": str(expires_at), "who": index_value}
    digest = hashlib.sha256(json.dumps(digest_source, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return CleanRow(index, external_id, index_value, resident.birth_date, values, digest)


def catalog_grades(type_code: str) -> tuple[str, ...]:
    score_rules = rules()
    return tuple(score_rules.grades) if score_rules.catalog[type_code].is_evaluation else ()


def _chunks(items: list, size: int = _LOOKUP_CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def ingest(department: Department, rows: list, *, source: str = "api", recompute_inline: bool = True,
           index_offset: int = 0) -> BatchResult:
    """Validate every row, keep the good ones, report every bad one; idempotent on (department, external id).

    Two deliveries of the same new rows racing each other: the loser hits the unique constraint, and its
    second pass sees the winner's rows as existing (unchanged or updated), so nothing is lost or doubled.
    """
    try:
        return _ingest_once(department, rows, source, recompute_inline, index_offset)
    except IntegrityError:
        db.session.rollback()
        return _ingest_once(department, rows, source, recompute_inline, index_offset)


def _ingest_once(department: Department, rows: list, source: str, recompute_inline: bool,
                 index_offset: int) -> BatchResult:
    if not isinstance(rows, list):
        raise ApiError(422, "malformed_batch", "records 应为记录数组。")
    limit = current_app.config["RECORDS_BATCH_MAX"]
    if len(rows) > limit:
        raise ApiError(413, "batch_too_large", f"每批最多 {limit} 条记录，请分批提交。")
    result = BatchResult(record_refs=[None] * len(rows))
    today, catalog = city_today(), rules().catalog
    clean: list[CleanRow] = []
    seen: set[str] = set()

    def reject(index: int, external_id, error: RowRejected) -> None:
        echoable = isinstance(external_id, str) and not contains_unstorable(external_id)
        entry = {"index": index + index_offset, "external_id": external_id if echoable else None,
                 "code": error.code, "message": error.message}
        if error.field:
            entry["field"] = error.field
        result.rejected.append(entry)

    for index, row in enumerate(rows):
        try:
            cleaned = _clean(index, row, department, catalog, today)
        except RowRejected as error:
            reject(index, row.get("external_id") if isinstance(row, dict) else None, error)
            continue
        if cleaned.external_id in seen:
            reject(index, cleaned.external_id, RowRejected("duplicate_in_batch"))
            continue
        seen.add(cleaned.external_id)
        clean.append(cleaned)

    citizens: dict[str, int] = {}
    for part in _chunks(sorted({row.id_index for row in clean})):
        for row in db.session.execute(select(Citizen.id_index, Citizen.id).where(Citizen.id_index.in_(part))):
            citizens[row.id_index] = row.id
    existing: dict[str, Record] = {}
    for part in _chunks([row.external_id for row in clean]):
        for record in db.session.scalars(select(Record).where(Record.department_id == department.id,
                                                              Record.external_id.in_(part))):
            existing[record.external_id] = record

    inserts, updates, touched, unregistered = [], [], set(), []
    for row in clean:
        citizen_id = citizens.get(row.id_index)
        record = existing.get(row.external_id)
        if citizen_id is None and record is None:
            unregistered.append(row)
            continue
        if citizen_id is None:
            reject(row.index, row.external_id, RowRejected("unknown_citizen", field_name="id_number"))
            continue
        if record is None:
            values = {**row.values, "citizen_id": citizen_id, "department_id": department.id,
                      "external_id": row.external_id, "content_digest": row.digest}
            values["ref"] = new_ref()
            inserts.append(values)
            result.record_refs[row.index] = values["ref"]
            touched.add(citizen_id)
            continue
        result.record_refs[row.index] = record.ref
        if record.content_digest == row.digest:
            result.unchanged += 1
            continue
        values = dict(row.values)
        if values["status"] == "active" and record.status in PROCESS_STATUSES:
            values["status"] = record.status
        updates.append({"id": record.id, "citizen_id": citizen_id, "content_digest": row.digest, **values})
        touched.update({citizen_id, record.citizen_id})
    if inserts:
        db.session.execute(insert(Record), inserts)
        _announce_landed([values["ref"] for values in inserts])
        _drop_held(department, [values["external_id"] for values in inserts])
    if unregistered:
        result.held = _hold(department, unregistered, index_offset)
    if updates:
        db.session.execute(update(Record), updates)
    result.accepted, result.updated = len(inserts), len(updates)
    result.rejected.sort(key=lambda entry: entry["index"])
    for outcome, count in (("accepted", result.accepted), ("updated", result.updated),
                           ("unchanged", result.unchanged)):
        metrics.RECORDS_INGESTED.labels(outcome).inc(count)
    for entry in result.rejected:
        metrics.RECORDS_REJECTED.labels(entry["code"]).inc()
    if touched:
        for part in _chunks(sorted(touched)):
            db.session.execute(update(Citizen).where(Citizen.id.in_(part)).values(needs_recompute=True))
        audit.append(sorted(touched), "records.ingest", "部门归集信用记录",
                     {"department": department.code, "source": source})
    db.session.commit()
    if touched:
        if (recompute_inline and len(touched) <= current_app.config["BATCH_INLINE_RECOMPUTE_MAX"]
                and _announce_changed(sorted(touched))):
            result.recompute = "done"
        else:
            result.recompute = "queued"
    return result


def _announce_changed(citizen_ids: list[int]) -> bool:
    """After the commit: the scores of these citizens (marked for rescoring) should follow now. True when a layer
    above (app/scoring) rescored them; otherwise the recompute job picks up the marks."""
    answers = records_changed.send(current_app._get_current_object(), citizen_ids=citizen_ids)
    return any(answer for _, answer in answers)


def _announce_landed(refs: list[str]) -> None:
    if not records_landed.receivers:
        return
    ids = []
    for part in _chunks(refs):
        ids.extend(db.session.scalars(select(Record.id).where(Record.ref.in_(part))))
    records_landed.send(current_app._get_current_object(), record_ids=ids)


def _hold(department: Department, rows: list[CleanRow], index_offset: int) -> list[dict]:
    """Keep rows about people not in the registry in pending_record (a resend replaces the held row); returns
    the batch answer's list of held rows."""
    values = [{**row.values, "id_index": row.id_index, "department_id": department.id,
               "external_id": row.external_id, "content_digest": row.digest, "received_at": utcnow()}
              for row in rows]
    module = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = module.insert(PendingRecord.__table__)
    stmt = stmt.on_conflict_do_update(
        index_elements=[PendingRecord.department_id, PendingRecord.external_id],
        set_={name: getattr(stmt.excluded, name) for name in (*rows[0].values, "id_index", "content_digest",
                                                              "received_at")})
    db.session.execute(stmt, values)
    return [{"index": row.index + index_offset, "external_id": row.external_id, "code": "pending_citizen",
             "message": HELD_MESSAGE} for row in rows]


def _drop_held(department: Department, external_ids: list[str]) -> None:
    """A record now stored for a registered person replaces what was held under the same external id."""
    for part in _chunks(external_ids):
        db.session.execute(delete(PendingRecord).where(PendingRecord.department_id == department.id,
                                                       PendingRecord.external_id.in_(part)))


_PENDING_FIELDS = ("department_id", "external_id", "type_code", "status", "occurred_at", "expires_at", "incident_id",
                   "grade", "quantity", "summary", "content_digest")


def attach_pending(id_indexes: list[str] | None = None, chunk_size: int = 1000) -> set[int]:
    """Move held records of people now registered into credit_record (all of them, or only those of the given
    blind indexes) and mark their citizens for rescoring; returns the citizens' ids. Commits chunk by chunk."""
    attached: set[int] = set()
    after = 0
    while True:
        stmt = (select(PendingRecord.id, Citizen.id, *(getattr(PendingRecord, name) for name in _PENDING_FIELDS))
                .join(Citizen, Citizen.id_index == PendingRecord.id_index)
                .where(PendingRecord.id > after).order_by(PendingRecord.id).limit(chunk_size))
        if id_indexes is not None:
            stmt = stmt.where(PendingRecord.id_index.in_(id_indexes))
        rows = db.session.execute(stmt).all()
        if not rows:
            return attached
        after = rows[-1][0]
        existing = set()
        for department_id in {row[2] for row in rows}:
            external_ids = [row[3] for row in rows if row[2] == department_id]
            existing.update((department_id, external_id) for external_id in db.session.scalars(
                select(Record.external_id).where(Record.department_id == department_id,
                                                  Record.external_id.in_(external_ids))))
        inserts = [{"ref": new_ref(), "citizen_id": row[1], **dict(zip(_PENDING_FIELDS, row[2:], strict=True))}
                   for row in rows if (row[2], row[3]) not in existing]
        if inserts:
            # A resend by the department may have stored one of them meanwhile: that one stays as it is.
            module = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
            db.session.execute(module.insert(Record).on_conflict_do_nothing(
                index_elements=[Record.department_id, Record.external_id]), inserts)
            # What a department's push would have set off (三书同达 notice, a commitment broken) happens now.
            _announce_landed([row["ref"] for row in inserts])
        db.session.execute(delete(PendingRecord).where(PendingRecord.id.in_([row[0] for row in rows])))
        citizens = sorted({row["citizen_id"] for row in inserts})
        if citizens:
            db.session.execute(update(Citizen).where(Citizen.id.in_(citizens)).values(needs_recompute=True))
            audit.append(citizens, "records.attach", "居民登记后，归入此前暂存的信用记录")
        db.session.commit()
        attached.update(citizens)


def ingest_one(department: Department, row: dict) -> dict:
    """A single record: same rules as a batch, but a bad row is the answer's error, not a list entry."""
    result = ingest(department, [row])
    if result.rejected:
        rejected = result.rejected[0]
        raise ApiError(422, rejected["code"], rejected["message"],
                       {rejected["field"]: [rejected["message"]]} if "field" in rejected else None)
    return {**result.as_dict(), "ref": result.record_refs[0]}


def get_record(ref: str) -> Record:
    record = db.session.scalar(select(Record).where(Record.ref == ref))
    if record is None:
        raise ApiError(404, "record_not_found", "未找到该信用记录。")
    return record


STAFF_STATUS_CHANGES = {"revoked", "active", "expired"}


def change_status(ref: str, status: str, reason: str) -> Record:
    """A single record change by staff (e.g. revoking a wrong record); the citizen is rescored at once."""
    record = get_record(ref)
    if status not in STAFF_STATUS_CHANGES:
        raise ApiError(422, "invalid_status", "只能将记录改为 有效、撤销 或 过期；异议与修复请走相应流程。")
    if record.status == status:
        return record
    previous = record.status
    record.status = status
    citizen = db.session.get(Citizen, record.citizen_id)
    citizen.needs_recompute = True
    audit.log(citizen.id, "record.status", reason, {"record": record.ref, "from": previous, "to": status})
    db.session.commit()
    _announce_changed([citizen.id])
    return record


# ------------------------------------------------------------------------------------------------------------
# Status changes owned by the objection and repair processes (app/rights): the only way they touch a record
# ------------------------------------------------------------------------------------------------------------

PROCESS_TRANSITIONS = {
    ("active", "disputed"),  # an objection is received
    ("disputed", "active"),  # dismissed, corrected or withdrawn: it counts again
    ("disputed", "revoked"),  # upheld: the record was wrong
    ("active", "repaired"),  # a repair is approved
    ("active", "revoked"),  # a voluntary report found untrue: its record never held
}
CORRECTABLE_FIELDS = ("summary", "occurred_at", "expires_at", "grade", "quantity")


def set_process_status(record: Record, to: str, *, reason: str, details: dict | None = None) -> bool:
    """Move ``record`` from its current status to ``to`` in the caller's transaction, only if nobody changed it
    meanwhile (conditional UPDATE); marks the citizen for rescoring and audits the change. False: it had moved."""
    previous = record.status
    if (previous, to) not in PROCESS_TRANSITIONS:
        return False
    changed = db.session.execute(
        update(Record).where(Record.id == record.id, Record.status == previous).values(status=to)
    ).rowcount
    if not changed:
        db.session.refresh(record)
        return False
    record.status = to
    db.session.execute(update(Citizen).where(Citizen.id == record.citizen_id).values(needs_recompute=True))
    audit.log(record.citizen_id, "record.status", reason,
              {"record": record.ref, "from": previous, "to": to, **(details or {})})
    return True


def correct_record(record: Record, fields: dict, *, reason: str) -> dict:
    """Change a disputed record's fields after an objection found them wrong; returns {field: [before, after]}.

    The record then counts again (``active``) with the corrected fields; the catalog ceiling on expiry holds.
    """
    unknown = set(fields) - set(CORRECTABLE_FIELDS)
    if unknown:
        raise ApiError(422, "field_not_correctable", "只能更正记录的摘要、发生日期、失效日期、等级或数量。",
                       {name: ["不可更正。"] for name in sorted(unknown)})
    grades = catalog_grades(record.type_code)
    if "grade" in fields and (fields["grade"] not in grades if grades else fields["grade"] is not None):
        raise ApiError(422, "malformed", "该记录类型的评价等级不正确。", {"grade": ["等级不正确。"]})
    occurred = fields.get("occurred_at", record.occurred_at)
    expires = fields.get("expires_at", record.expires_at)
    if occurred > city_today() or (expires is not None and expires < occurred):
        raise ApiError(422, "impossible_date", "更正后的日期不合理。")
    changes = {}
    for name, value in fields.items():
        before = getattr(record, name)
        if before != value:
            changes[name] = [str(before) if isinstance(before, date) else before,
                             str(value) if isinstance(value, date) else value]
            setattr(record, name, value)
    if not set_process_status(record, "active", reason=reason, details={"corrected": changes}):
        raise ApiError(409, "record_state_changed", "该记录的状态已被他人更改，请刷新后重试。")
    return changes


def get_record_by_id(record_id: int) -> Record:
    record = db.session.get(Record, record_id)
    if record is None:
        raise ApiError(404, "record_not_found", "未找到该信用记录。")
    return record


def _on_citizens_registered(_app, id_indexes: list[str] | None, **_) -> set[int]:
    return attach_pending(id_indexes)


citizens_registered.connect(_on_citizens_registered)
