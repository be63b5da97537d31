"""信用异议: a citizen contests one of their records; it stops counting at once; the owning department answers;
staff decide (upheld → revoked, corrected → fields changed and counting, dismissed → counting again) within
5 working days, or the citizen withdraws. Every step: a timeline entry, an audit entry, a message."""

from __future__ import annotations

from sqlalchemy import select, update

from app.audit import service as audit
from app.audit.service import current_actor
from app.citizens.models import Citizen
from app.errors import ApiError
from app.extensions import db
from app.records import service as records
from app.records.models import Department
from app.rights import cases, evidence, messages
from app.rights import uploads as uploads_service
from app.rights.models import RightsCase
from app.scoring import service as scoring
from app.timeutil import city_today, utcnow

OPEN = ("received", "answered")
DECISIONS = {"upheld": "revoked", "corrected": "active", "dismissed": "active"}
DECISION_NAMES = {"upheld": "异议成立，该记录已撤销", "corrected": "异议部分成立，记录已更正",
                  "dismissed": "异议不成立，该记录恢复计分"}


def _rescore(citizen_id: int) -> None:
    scoring.recompute_citizen(db.session.get(Citizen, citizen_id), reason="信用异议处理后重新计算")
    db.session.commit()


def file(citizen_id: int, record_ref: str, reason_code: str, reason_text: str, files,
         evidence_ids=()) -> RightsCase:
    """``files``: uploaded images; ``evidence_ids``: images uploaded before (``uploads.upload``), or both."""
    if reason_code not in cases.OBJECTION_REASONS:
        raise ApiError(422, "invalid_reason", "请从列表中选择异议理由。", {"reason_code": ["不在可选范围内。"]})
    record = cases.citizen_record(citizen_id, record_ref)
    if record.status == "disputed":
        raise ApiError(409, "record_already_disputed", "该记录已有正在处理的异议，请等待处理结果。")
    if record.status in ("revoked", "expired"):
        raise ApiError(409, "record_not_contestable", "该记录已撤销或已过期，不再计入信用分，无需提出异议。")
    if record.status != "active":
        raise ApiError(409, "record_not_contestable", "该记录已修复，不再计入信用分，无需提出异议。")
    claimed = uploads_service.claim(citizen_id, evidence_ids, "objection")
    uploads = evidence.validate([*files, *claimed])
    earlier = db.session.scalar(select(RightsCase.id).where(
        RightsCase.kind == "objection", RightsCase.record_id == record.id,
        RightsCase.state.in_(("upheld", "corrected", "dismissed"))).limit(1))
    if earlier is not None:
        known = evidence.known_hashes(record.id)
        if not uploads or all(upload.sha256 in known for upload in uploads):
            raise ApiError(422, "new_evidence_required",
                           "该记录的异议已有处理结果；再次提出异议须提交新的证明材料。")
    today = city_today()
    deadline = cases.deadline_for("objection", today)
    case = RightsCase(kind="objection", state="received", citizen_id=citizen_id, record_id=record.id,
                      department_id=record.department_id, open_record_id=record.id, reason_code=reason_code,
                      reason_text=reason_text, received_on=today, deadline=deadline.date,
                      deadline_provisional=deadline.provisional)
    already_open = ApiError(409, "objection_already_open", "该记录已有正在处理的异议，请等待处理结果。")
    with cases.filing(case, uploads, already_open):
        if not records.set_process_status(record, "disputed", reason="居民提出信用异议，记录暂停计分",
                                          details={"case": case.ref}):
            raise ApiError(409, "record_already_disputed", "该记录的状态刚刚发生变化，请刷新后重试。")
        cases.add_event(case, "received", f"提出异议：{cases.OBJECTION_REASONS[reason_code]}。{reason_text}".strip())
        audit.log(citizen_id, "rights.objection.file", "居民提出信用异议", {"case": case.ref, "record": record.ref})
        when = case.deadline.isoformat() + ("（暂定）" if case.deadline_provisional else "")
        messages.post_message(citizen_id, "objection_received", "您的信用异议已受理",
                              f"您对记录“{cases.record_label(record)}”提出的异议已受理，处理期间该记录暂停"
                              f"计分。我们将在 5 个工作日内（{when} 前）答复。",
                              link=f"/pages/rights/case?ref={case.ref}", related_ref=case.ref)
    uploads_service.copied(claimed)
    _rescore(citizen_id)
    return case


def withdraw(citizen_id: int, ref: str) -> RightsCase:
    case = cases.citizen_case(citizen_id, ref, "objection")
    _close(case, "withdrawn", None, "居民撤回异议")
    record = records.get_record_by_id(case.record_id)
    records.set_process_status(record, "active", reason="居民撤回信用异议，记录恢复计分", details={"case": case.ref})
    cases.add_event(case, "withdrawn", "本人撤回异议。")
    audit.log(citizen_id, "rights.objection.withdraw", "居民撤回信用异议", {"case": case.ref})
    db.session.commit()
    _rescore(citizen_id)
    return case


def _close(case: RightsCase, state: str, reason: str | None, note: str) -> None:
    """Conditional UPDATE on the state: of two actors deciding at once exactly one wins; the other gets 409."""
    values = {"state": state, "open_record_id": None, "decided_at": utcnow(), "decided_on": city_today(),
              "decided_by": current_actor().id, "deadline_flag": None}
    if reason is not None:
        values["decision_reason"] = reason
    changed = db.session.execute(update(RightsCase).where(
        RightsCase.id == case.id, RightsCase.state.in_(OPEN)).values(**values)).rowcount
    if not changed:
        db.session.rollback()
        raise ApiError(409, "case_already_decided", "该异议已有处理结果（或已撤回），不能再次处理。")
    db.session.refresh(case)


def department_cases(department: Department, state: str | None, page: int, per_page: int):
    stmt = select(RightsCase).where(RightsCase.kind == "objection", RightsCase.department_id == department.id)
    return _page(stmt, state, page, per_page)


def _page(stmt, state, page, per_page):
    from sqlalchemy import func

    if state == "open":
        stmt = stmt.where(RightsCase.state.in_(OPEN))
    elif state:
        stmt = stmt.where(RightsCase.state == state)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(RightsCase.deadline, RightsCase.id)
                              .offset((page - 1) * per_page).limit(per_page))
    return list(rows), total


def department_case(department: Department, ref: str) -> RightsCase:
    case = cases.any_case(ref, "objection")
    if case.department_id != department.id:
        raise ApiError(403, "case_not_owned", "该异议涉及的记录不是本部门报送的，无权查看或答复。")
    return case


def answer(department: Department, ref: str, finding: str) -> RightsCase:
    case = department_case(department, ref)
    changed = db.session.execute(update(RightsCase).where(
        RightsCase.id == case.id, RightsCase.state.in_(OPEN)).values(
        state="answered", department_finding=finding, department_answered_at=utcnow())).rowcount
    if not changed:
        db.session.rollback()
        raise ApiError(409, "case_already_decided", "该异议已有处理结果（或已撤回），不能再答复。")
    db.session.refresh(case)
    cases.add_event(case, "answered", finding)
    audit.log(case.citizen_id, "rights.objection.answer", "部门答复信用异议", {"case": case.ref})
    db.session.commit()
    return case


def decide(ref: str, decision: str, reason: str, correction: dict | None = None) -> RightsCase:
    case = cases.any_case(ref, "objection")
    if decision not in DECISIONS:
        raise ApiError(422, "invalid_decision",
                       "处理结果只能为 upheld（成立）、corrected（更正）或 dismissed（不成立）。")
    if decision == "corrected" and not correction:
        raise ApiError(422, "correction_required", "更正记录时须写明更正后的字段。", {"correction": ["不能为空。"]})
    if decision != "corrected" and correction:
        raise ApiError(422, "correction_not_allowed", "只有“更正”的处理结果才能修改记录字段。")
    _close(case, decision, reason, "")
    record = records.get_record_by_id(case.record_id)
    details = {"case": case.ref, "decision": decision}
    if decision == "corrected":
        try:
            case.correction = records.correct_record(record, correction, reason="信用异议更正记录")
        except ApiError:
            db.session.rollback()
            raise
    elif record.status == "disputed":
        records.set_process_status(record, DECISIONS[decision], reason=f"信用异议处理：{DECISION_NAMES[decision]}",
                                   details=details)
    cases.add_event(case, decision, reason)
    audit.log(case.citizen_id, "rights.objection.decide", "信用中心作出异议处理决定", details)
    summary = cases.record_label(record)
    messages.post_message(case.citizen_id, "objection_decided", f"信用异议处理结果：{DECISION_NAMES[decision][:12]}",
                          f"您对记录“{summary}”提出的异议已处理：{DECISION_NAMES[decision]}。理由：{reason}",
                          link=f"/pages/rights/case?ref={case.ref}", related_ref=case.ref)
    db.session.commit()
    _rescore(case.citizen_id)
    return case
