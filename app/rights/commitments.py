"""信用承诺: a citizen makes a civility commitment in the mini-program, a department registers a 告知承诺, an approved
repair starts a 信用修复承诺; each is followed to its end:

* **broken** when a record of a type that breaks it lands for the citizen within its period (listener on
  ``records_landed``, in the landing transaction, and again by the daily job as a safety net);
* **kept** when its period ends without one (the daily job ``commitments-settle``, idempotent);
* **false** when a department (or staff) reports the promise was untrue.

Each outcome becomes a record of the 履约践诺 dimension issued by the credit centre (``app/records/issued.py``), so it
reaches the score through the one catalog and engine; the citizen is told why in the message centre.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.audit import service as audit
from app.citizens import service as citizens
from app.citizens.models import Citizen
from app.errors import ApiError
from app.extensions import db
from app.records import issued
from app.records.models import Department, Record
from app.rights import messages
from app.rights.commitment_models import Commitment
from app.scoring import service as scoring
from app.signals import records_landed
from app.timeutil import city_today
from score_model import CommitmentType, Rules

STATUS_NAMES = {"active": "履约中", "kept": "已履约", "broken": "未履约", "false": "虚假承诺"}
SOURCE_NAMES = {"citizen": "本人作出", "department": "部门登记", "repair": "信用修复"}
LINK = "/pages/commitments/index"


# -- the catalog -------------------------------------------------------------------------------------------


def commitment_type(code: str, score_rules: Rules | None = None) -> CommitmentType:
    ctype = (score_rules or scoring.rules()).commitments.get(code)
    if ctype is None:
        raise ApiError(404, "commitment_type_unknown", "信用承诺目录中没有该承诺类型。")
    return ctype


def describe_type(ctype: CommitmentType, score_rules: Rules, held: set[str] | None = None) -> dict:
    catalog = score_rules.catalog
    return {
        "code": ctype.code, "name": ctype.name, "kind": ctype.kind, "self_service": ctype.self_service,
        "period_days": ctype.period_days,
        "points_kept": score_rules.points_of(ctype.kept_record),
        "points_broken": score_rules.points_of(ctype.broken_record),
        "points_false": score_rules.points_of(ctype.false_record),
        "broken_by": [{"code": c, "name": catalog[c].name} for c in ctype.broken_by],
        "text_version": ctype.current_text.version, "text": ctype.current_text.body,
        "legal_basis": ctype.legal_basis,
        "held": ctype.code in held if held is not None else None,
    }


def catalog_view(citizen_id: int | None = None, self_service_only: bool = False) -> list[dict]:
    score_rules = scoring.rules()
    held = active_types(citizen_id) if citizen_id is not None else None
    return [describe_type(t, score_rules, held) for t in score_rules.commitments.values()
            if t.kind != "truth" and (t.self_service or not self_service_only)]


def active_types(citizen_id: int) -> set[str]:
    return set(db.session.scalars(select(Commitment.type_code).where(
        Commitment.citizen_id == citizen_id, Commitment.status == "active")))


# -- making one --------------------------------------------------------------------------------------------


def _check_text(ctype: CommitmentType, text_version: str | None) -> None:
    current = ctype.current_text.version
    if text_version != current:
        raise ApiError(409, "commitment_text_outdated",
                       f"承诺书文本已更新（当前版本 {current}），请阅读最新文本后重新确认。",
                       {"text_version": [f"当前版本为 {current}。"]})


def _create(citizen_id: int, ctype: CommitmentType, *, source: str, text_version: str, starts_on: date,
            department_id: int | None = None, subject: str | None = None,
            related_record_id: int | None = None) -> Commitment:
    score_rules = scoring.rules()
    text = ctype.text(text_version)
    commitment = Commitment(
        citizen_id=citizen_id, type_code=ctype.code, status="active", source=source, department_id=department_id,
        subject=subject, text_version=text_version, text_body=text.body if text else ctype.current_text.body,
        rules_version=score_rules.version, starts_on=starts_on,
        ends_on=starts_on + timedelta(days=ctype.period_days), active_slot=f"{citizen_id}:{ctype.code}",
        related_record_id=related_record_id,
    )
    db.session.add(commitment)
    db.session.flush()
    audit.log(citizen_id, "commitment.make", f"作出{ctype.name}",
              {"commitment": commitment.ref, "type": ctype.code, "source": source, "text_version": text_version})
    return commitment


def _already_active(ctype: CommitmentType) -> ApiError:
    return ApiError(409, "commitment_already_active", f"您已有一份履约中的{ctype.name}，期满后可再次作出。")


def _commit_new(citizen_id: int, ctype: CommitmentType, **kwargs) -> Commitment:
    if ctype.code in active_types(citizen_id):
        raise _already_active(ctype)
    try:
        commitment = _create(citizen_id, ctype, **kwargs)
        db.session.commit()
    except IntegrityError:  # the same commitment made twice at once: the unique active slot lets one win
        db.session.rollback()
        raise _already_active(ctype) from None
    return commitment


def make(citizen_id: int, type_code: str, text_version: str | None, accepted: bool) -> Commitment:
    """A citizen makes a self-service commitment, accepting the exact current text."""
    ctype = commitment_type(type_code)
    if not ctype.self_service:
        raise ApiError(403, "commitment_not_self_service",
                       f"{ctype.name}不能由本人在小程序中作出（由相关部门或信用修复程序登记）。")
    if not accepted:
        raise ApiError(422, "commitment_not_accepted", "请阅读并同意承诺书全文后再提交。",
                       {"accepted": ["须为 true。"]})
    _check_text(ctype, text_version)
    return _commit_new(citizen_id, ctype, source="citizen", text_version=text_version, starts_on=city_today())


def register(department: Department, id_number: str, type_code: str, subject: str,
             text_version: str | None = None, starts_on: date | None = None) -> Commitment:
    """A department registers a 告知承诺 a citizen made to it (a promise accepted instead of a certificate)."""
    ctype = commitment_type(type_code)
    if ctype.kind != "notify":
        raise ApiError(422, "commitment_type_not_registrable",
                       "部门只能登记告知承诺；文明承诺由居民本人作出，信用修复承诺随修复决定自动生效。")
    _check_text(ctype, text_version or ctype.current_text.version)
    citizen = citizens.find_by_id_number(id_number)
    if citizen is None:
        raise ApiError(404, "unknown_citizen", "未找到该身份证号码对应的居民。")
    today = city_today()
    starts_on = starts_on or today
    if starts_on > today:
        raise ApiError(422, "impossible_date", "承诺日期晚于今天。", {"starts_on": ["不能晚于今天。"]})
    commitment = _commit_new(citizen.id, ctype, source="department", text_version=ctype.current_text.version,
                             starts_on=starts_on, department_id=department.id, subject=subject)
    return commitment


def start_repair_commitment(*, citizen_id: int, record: Record, text_version: str | None) -> Commitment:
    """An approved repair starts a 信用修复承诺 (called by app.rights.repairs in its transaction; no commit here).

    The citizen signed the repair commitment with the application, so ``text_version`` is whatever they signed;
    a second repair while one is active keeps the one already running.
    """
    ctype = next(t for t in scoring.rules().commitments.values() if t.kind == "repair")
    existing = db.session.scalar(select(Commitment).where(Commitment.active_slot == f"{citizen_id}:{ctype.code}"))
    if existing is not None:
        return existing
    return _create(citizen_id, ctype, source="repair", text_version=text_version or ctype.current_text.version,
                   starts_on=city_today(), related_record_id=record.id)


# -- reading -------------------------------------------------------------------------------------------------


def view(commitment: Commitment, score_rules: Rules | None = None, today: date | None = None) -> dict:
    score_rules = score_rules or scoring.rules()
    today = today or city_today()
    ctype = score_rules.commitments.get(commitment.type_code)
    name = ctype.name if ctype else commitment.type_code
    return {
        "ref": commitment.ref, "type": commitment.type_code, "name": name, "status": commitment.status,
        "status_name": STATUS_NAMES[commitment.status], "source": commitment.source,
        "source_name": SOURCE_NAMES.get(commitment.source, commitment.source), "subject": commitment.subject,
        "text_version": commitment.text_version, "text": commitment.text_body,
        "starts_on": commitment.starts_on, "ends_on": commitment.ends_on - timedelta(days=1),
        "days_left": max((commitment.ends_on - today).days, 0) if commitment.status == "active" else None,
        "points_if_kept": score_rules.points_of(ctype.kept_record) if ctype else 0,
        "closed_on": commitment.closed_on, "closed_reason": commitment.closed_reason,
    }


def list_for(citizen_id: int, status: str | None = None) -> list[dict]:
    stmt = select(Commitment).where(Commitment.citizen_id == citizen_id)
    if status:
        stmt = stmt.where(Commitment.status == status)
    rows = db.session.scalars(stmt.order_by(Commitment.status != "active", Commitment.created_at.desc(),
                                            Commitment.id.desc()))
    score_rules, today = scoring.rules(), city_today()
    return [view(c, score_rules, today) for c in rows]


def get_for_citizen(citizen_id: int, ref: str) -> Commitment:
    commitment = db.session.scalar(select(Commitment).where(Commitment.ref == ref,
                                                            Commitment.citizen_id == citizen_id))
    if commitment is None:
        raise ApiError(404, "commitment_not_found", "未找到该信用承诺。")
    return commitment


# -- to the end --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    status: str
    record_attr: str
    title: str


_OUTCOMES = {
    "kept": _Outcome("kept", "kept_record", "信用承诺已履约"),
    "broken": _Outcome("broken", "broken_record", "信用承诺未履行"),
    "false": _Outcome("false", "false_record", "虚假承诺"),
}


def _close(commitment: Commitment, status: str, on: date, reason: str, *, cause: Record | None = None) -> bool:
    """active → kept / broken / false, once (a conditional UPDATE: of two actors only one wins); issues the
    outcome record and posts the message in the caller's transaction. False when it was no longer active."""
    changed = db.session.execute(
        update(Commitment).where(Commitment.id == commitment.id, Commitment.status == "active")
        .values(status=status, active_slot=None, closed_on=on, closed_reason=reason,
                cause_record_id=cause.id if cause is not None else None)
        .execution_options(synchronize_session=False)).rowcount
    if not changed:
        return False
    db.session.refresh(commitment)
    score_rules = scoring.rules()
    ctype = score_rules.commitments.get(commitment.type_code)
    outcome = _OUTCOMES[status]
    record_code = getattr(ctype, outcome.record_attr) if ctype else None
    name = ctype.name if ctype else commitment.type_code
    points = score_rules.points_of(record_code)
    if record_code:
        occurred = on if status != "broken" else max(cause.occurred_at, commitment.starts_on)
        record = issued.issue(commitment.citizen_id, record_code, f"CMT-{commitment.ref}-{status}", occurred,
                              summary=f"{name}（{commitment.starts_on.isoformat()} 起）：{reason}")
        commitment.outcome_record_id = record.id
    effect = (f"“履约践诺”维度{'加' if points > 0 else '扣'} {abs(points)} 分" if points else "不影响信用分")
    body = {
        "kept": f"您于 {commitment.starts_on.isoformat()} 作出的{name}已期满，期间未发生违反承诺的行为，"
                f"记为已履约：{effect}。感谢您守信践诺！",
        "broken": f"您于 {commitment.starts_on.isoformat()} 作出的{name}在承诺期内未能履行：{reason}。"
                  f"按承诺书约定记为“信用承诺未履行”：{effect}。如对引起该结果的记录有异议，可在小程序“信用异议”中提出。",
        "false": f"您于 {commitment.starts_on.isoformat()} 作出的{name}经查实不实：{reason}。"
                 f"按承诺书中的虚假承诺约束记为“虚假承诺”：{effect}。如有异议，可在小程序“信用异议”中提出。",
    }[status]
    messages.post_message(commitment.citizen_id, f"commitment_{status}", f"{outcome.title}：{name}", body,
                          link=f"{LINK}?ref={commitment.ref}", related_ref=commitment.ref)
    audit.log(commitment.citizen_id, f"commitment.{status}", reason,
              {"commitment": commitment.ref, "type": commitment.type_code})
    return True


def _rescore(citizen_ids) -> None:
    for citizen_id in sorted(set(citizen_ids)):
        citizen = db.session.get(Citizen, citizen_id)
        if citizen is not None:
            scoring.recompute_citizen(citizen, reason="信用承诺履约情况变更后重新计算")


def _breaking_types(score_rules: Rules) -> dict[str, set[str]]:
    """record type → commitment types it breaks."""
    out: dict[str, set[str]] = {}
    for ctype in score_rules.commitments.values():
        for code in ctype.broken_by:
            out.setdefault(code, set()).add(ctype.code)
    return out


def _first_breaking_record(commitment: Commitment, ctype: CommitmentType) -> Record | None:
    if not ctype.broken_by:
        return None
    return db.session.scalar(select(Record).where(
        Record.citizen_id == commitment.citizen_id, Record.type_code.in_(ctype.broken_by),
        Record.status.in_(("active", "repaired", "expired")),  # counted once: a revoked record never breaks
        Record.occurred_at >= commitment.starts_on, Record.occurred_at < commitment.ends_on,
    ).order_by(Record.occurred_at, Record.id).limit(1))


def _broken_reason(record: Record, score_rules: Rules) -> str:
    name = score_rules.catalog[record.type_code].name
    return f"{record.occurred_at.isoformat()} 被记入“{name}”" + (f"（{record.summary}）" if record.summary else "")


def _on_records_landed(sender, record_ids: list[int], **_) -> None:
    """Runs inside the landing transaction: a breaking record within the period breaks the commitment at once."""
    score_rules = scoring.rules()
    breaking = _breaking_types(score_rules)
    if not breaking:
        return
    landed = []
    for start in range(0, len(record_ids), 900):
        landed.extend(db.session.scalars(select(Record).where(
            Record.id.in_(record_ids[start:start + 900]), Record.type_code.in_(breaking),
            Record.status == "active")))
    for record in sorted(landed, key=lambda r: (r.occurred_at, r.id)):
        for commitment in db.session.scalars(select(Commitment).where(
                Commitment.citizen_id == record.citizen_id, Commitment.status == "active",
                Commitment.type_code.in_(breaking[record.type_code]),
                Commitment.starts_on <= record.occurred_at, Commitment.ends_on > record.occurred_at)):
            _close(commitment, "broken", city_today(), _broken_reason(record, score_rules), cause=record)


records_landed.connect(_on_records_landed)


def settle(today: date | None = None) -> dict:
    """The daily job: every active commitment with a breaking record in its period turns broken; every one whose
    period has ended (``ends_on <= today``) without one turns kept. Idempotent: a second run changes nothing."""
    today = today or city_today()
    score_rules = scoring.rules()
    counts = {"kept": 0, "broken": 0}
    touched: set[int] = set()
    ids = list(db.session.scalars(select(Commitment.id).where(Commitment.status == "active")
                                  .order_by(Commitment.id)))
    for start in range(0, len(ids), 500):
        for commitment in db.session.scalars(select(Commitment).where(Commitment.id.in_(ids[start:start + 500]))):
            ctype = score_rules.commitments.get(commitment.type_code)
            if ctype is None:
                continue
            cause = _first_breaking_record(commitment, ctype)
            if cause is not None and cause.occurred_at <= today:
                if _close(commitment, "broken", today, _broken_reason(cause, score_rules), cause=cause):
                    counts["broken"] += 1
                    touched.add(commitment.citizen_id)
            elif commitment.ends_on <= today and _close(commitment, "kept", commitment.ends_on,
                                                        "承诺期满，期间未发生违反承诺的行为"):
                counts["kept"] += 1
                touched.add(commitment.citizen_id)
        db.session.commit()
    _rescore(touched)
    return counts


def report_false(ref: str, reason: str, *, department: Department | None = None) -> Commitment:
    """A department (only for commitments it registered) or staff (any) found the promise untrue."""
    stmt = select(Commitment).where(Commitment.ref == ref)
    if department is not None:
        stmt = stmt.where(Commitment.department_id == department.id)
    commitment = db.session.scalar(stmt)
    if commitment is None:
        raise ApiError(404, "commitment_not_found", "未找到该信用承诺（部门只能认定本部门登记的承诺）。")
    if not _close(commitment, "false", city_today(), reason):
        db.session.rollback()
        raise ApiError(409, "commitment_closed",
                       f"该承诺已是“{STATUS_NAMES[commitment.status]}”状态，不能再认定为虚假承诺。")
    db.session.commit()
    _rescore([commitment.citizen_id])
    return commitment
