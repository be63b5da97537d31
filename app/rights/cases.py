"""What objections and repairs share: loading a case for its caller, its timeline, its deadline, its JSON shape."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from flask import g
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.audit import service as audit
from app.audit.service import current_actor
from app.errors import ApiError
from app.extensions import db
from app.paging import Page, paginate
from app.records.models import Department, Record
from app.rights import calendar, evidence
from app.rights.models import OPEN_STATES, CaseEvent, RightsCase
from app.timeutil import city_today, to_city

DEADLINE_DAYS = {"objection": 5, "repair": 3}
KIND_NAMES = {"objection": "信用异议", "repair": "信用修复"}
STATE_NAMES = {
    "received": "已受理", "answered": "部门已答复", "upheld": "异议成立", "corrected": "已更正",
    "dismissed": "异议不成立", "withdrawn": "已撤回", "applied": "已受理", "approved": "修复通过",
    "rejected": "不予修复",
}
OBJECTION_REASONS = {
    "not_me": "记录不是本人的",
    "wrong_facts": "记录的事实有误",
    "wrong_date": "日期有误",
    "already_corrected": "已依法撤销或变更",
    "expired": "已超过公示期限",
    "other": "其他原因",
}


def add_event(case: RightsCase, action: str, note: str = "") -> None:
    actor = current_actor()
    db.session.add(CaseEvent(case_id=case.id, actor_type=actor.type, actor_id=actor.id, action=action,
                             note=note))


def deadline_for(kind: str, received_on: date) -> calendar.Deadline:
    return calendar.add_working_days(received_on, DEADLINE_DAYS[kind])


def citizen_case(citizen_id: int, ref: str, kind: str | None = None) -> RightsCase:
    stmt = select(RightsCase).where(RightsCase.ref == ref, RightsCase.citizen_id == citizen_id)
    if kind:
        stmt = stmt.where(RightsCase.kind == kind)
    case = db.session.scalar(stmt)
    if case is None:
        raise ApiError(404, "case_not_found", "未找到该申请。")
    return case


def any_case(ref: str, kind: str | None = None) -> RightsCase:
    stmt = select(RightsCase).where(RightsCase.ref == ref)
    if kind:
        stmt = stmt.where(RightsCase.kind == kind)
    case = db.session.scalar(stmt)
    if case is None:
        raise ApiError(404, "case_not_found", "未找到该申请。")
    return case


def citizen_record(citizen_id: int, record_ref: str) -> Record:
    """The citizen's own record; someone else's answers exactly like one that does not exist."""
    record = db.session.scalar(select(Record).where(Record.ref == record_ref, Record.citizen_id == citizen_id))
    if record is None:
        raise ApiError(404, "record_not_found", "未找到该信用记录，或该记录不属于您。")
    return record


def record_label(record: Record) -> str:
    from app.scoring import service as scoring

    record_type = scoring.rules().catalog.get(record.type_code)
    name = record_type.name if record_type else record.type_code
    return f"{name}（{record.occurred_at.isoformat()}）"


def working_days_left(case: RightsCase, today: date | None = None) -> int:
    today = today or city_today()
    if today >= case.deadline:
        return -calendar.working_days_between(case.deadline, today)
    return calendar.working_days_between(today, case.deadline)


def open_cases_by_record(record_ids: list[int]) -> dict[int, dict]:
    """The open case on each of these records (at most one: a record has one open case at a time), for a list of
    records to show."""
    if not record_ids:
        return {}
    rows = db.session.execute(select(RightsCase.record_id, RightsCase.ref, RightsCase.kind, RightsCase.state,
                                     RightsCase.deadline)
                              .where(RightsCase.record_id.in_(record_ids), RightsCase.state.in_(OPEN_STATES)))
    return {row.record_id: {"ref": row.ref, "kind": row.kind, "kind_name": KIND_NAMES[row.kind],
                            "state": row.state, "state_name": STATE_NAMES[row.state], "deadline": row.deadline}
            for row in rows}


def log_listing(listed: list[RightsCase]) -> None:
    """A list of cases shows each citizen's record and reasons: one entry in each listed citizen's trail."""
    citizen_ids = sorted({case.citizen_id for case in listed})
    if citizen_ids:
        audit.append(citizen_ids, "rights.cases.list", "工作人员查看异议/修复案件列表",
                     {"cases": sorted(case.ref for case in listed)[:50]})
        db.session.commit()


def deadline_flag(case: RightsCase, today: date | None = None) -> str | None:
    """The stored flag (the hourly job marks due_soon), except that an open case past its deadline is overdue at
    once, whatever the weekday and whenever the job last ran."""
    if case.state in OPEN_STATES and case.deadline < (today or city_today()):
        return "overdue"
    return case.deadline_flag


def timeline(case: RightsCase) -> list[dict]:
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))
    return [{"at": to_city(e.at), "actor_type": e.actor_type, "actor": _actor_label(e), "action": e.action,
             "note": e.note} for e in events]


def _actor_label(event: CaseEvent) -> str:
    if event.actor_type == "citizen":
        return "本人"
    if event.actor_type == "department":
        name = db.session.scalar(select(Department.name).where(Department.code == event.actor_id))
        return name or event.actor_id
    if event.actor_type == "staff":
        return f"信用中心 {event.actor_id}"
    return "系统"


def describe(case: RightsCase, *, detail: bool = False, audience: str = "citizen") -> dict:
    record = db.session.get(Record, case.record_id)
    department = db.session.get(Department, case.department_id)
    from app.scoring import service as scoring

    record_type = scoring.rules().catalog.get(record.type_code)
    answer = {
        "ref": case.ref, "kind": case.kind, "kind_name": KIND_NAMES[case.kind], "state": case.state,
        "state_name": STATE_NAMES[case.state], "open": case.state in OPEN_STATES,
        "record": {"ref": record.ref, "type_code": record.type_code,
                   "type_name": record_type.name if record_type else record.type_code,
                   "status": record.status, "occurred_at": record.occurred_at.isoformat(),
                   "summary": record.summary},
        "department": department.name,
        "reason_code": case.reason_code, "reason_name": OBJECTION_REASONS.get(case.reason_code or ""),
        "reason_text": case.reason_text,
        "received_at": to_city(case.received_at), "deadline": case.deadline.isoformat(),
        "deadline_provisional": case.deadline_provisional, "deadline_flag": deadline_flag(case),
        "working_days_left": working_days_left(case) if case.state in OPEN_STATES else None,
        "department_finding": case.department_finding,
        "decision_reason": case.decision_reason, "decided_at": to_city(case.decided_at),
        "commitment_version": case.commitment_version,
    }
    if detail:
        answer["commitment_text"] = case.commitment_text
        answer["correction"] = case.correction
        answer["timeline"] = timeline(case)
        prefix = {"citizen": "/mp/v1/me/evidence/", "zlb": "/zlb/v1/me/evidence-file?ref=",
                  "department": "/api/v1/departments/me/evidence/", "staff": "/api/v1/rights/evidence/"}[audience]
        answer["evidence"] = [{"ref": f.ref, "content_type": f.content_type, "size": f.size,
                               "url": prefix + f.ref} for f in evidence.files_of(case)]
    if audience not in ("citizen", "zlb"):
        answer["citizen_ref"] = _citizen_ref(case.citizen_id)
    return answer


def _citizen_ref(citizen_id: int) -> str:
    from app.citizens.models import Citizen

    return db.session.scalar(select(Citizen.ref).where(Citizen.id == citizen_id))


def actor_is_citizen() -> bool:
    return getattr(g, "actor", None) is not None and g.actor.type == "citizen"


def citizen_cases(citizen_id: int, kind: str | None, page: int, per_page: int) -> tuple[list[RightsCase], int]:
    from sqlalchemy import func

    stmt = select(RightsCase).where(RightsCase.citizen_id == citizen_id)
    if kind:
        stmt = stmt.where(RightsCase.kind == kind)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(RightsCase.id.desc()).offset((page - 1) * per_page).limit(per_page))
    return list(rows), total


def chat_summary(citizen_id: int, kind: str, recent_days: int = 30) -> list[str]:
    """Lines for the chatbot: the citizen's open cases of ``kind`` with their deadlines, then recent decisions."""
    from datetime import timedelta

    from app.timeutil import utcnow

    rows = db.session.scalars(select(RightsCase).where(
        RightsCase.citizen_id == citizen_id, RightsCase.kind == kind,
        (RightsCase.state.in_(OPEN_STATES)) | (RightsCase.decided_at >= utcnow() - timedelta(days=recent_days)),
    ).order_by(RightsCase.id.desc()).limit(5))
    lines = []
    for case in rows:
        record = db.session.get(Record, case.record_id)
        label = record_label(record)
        if case.state in OPEN_STATES:
            left = working_days_left(case)
            due = ("已逾期，正在督办" if deadline_flag(case) == "overdue" else
                   f"还剩 {left} 个工作日" if left > 0 else "今天到期")
            lines.append(f"· {label}：{STATE_NAMES[case.state]}，办理期限 {case.deadline.isoformat()}"
                         f"{'（暂定）' if case.deadline_provisional else ''}，{due}")
        else:
            lines.append(f"· {label}：{STATE_NAMES[case.state]}。{case.decision_reason or ''}".rstrip())
    return lines


def list_cases(page: int, per_page: int, *, kind: str | None = None, state: str | None = None,
               due_before: date | None = None) -> Page:
    """Staff's queue: cases by kind and state ("open": not decided yet), the nearest deadline first."""
    stmt = select(RightsCase)
    if kind:
        stmt = stmt.where(RightsCase.kind == kind)
    if state == "open":
        stmt = stmt.where(RightsCase.state.in_(OPEN_STATES))
    elif state:
        stmt = stmt.where(RightsCase.state == state)
    if due_before:
        stmt = stmt.where(RightsCase.deadline <= due_before)
    return paginate(stmt.order_by(RightsCase.deadline, RightsCase.id), page, per_page)


@contextmanager
def filing(case: RightsCase, uploads, already_open: ApiError) -> Iterator[None]:
    """A new case, its evidence files and what the ``with`` body adds (events, messages, record states) in one
    transaction, committed at the end. One open case per record and kind is a unique index: a second filing at the
    same moment gets ``already_open``. On any failure nothing stays, evidence files included."""
    db.session.add(case)
    stored = []
    try:
        db.session.flush()
        stored = evidence.store(case, uploads)
        yield
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        evidence.discard(stored)
        raise already_open from None
    except Exception:
        db.session.rollback()
        evidence.discard(stored)
        raise
