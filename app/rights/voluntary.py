"""自愿注册 (seed 000): a citizen reports a positive fact of the catalog the platform does not have yet (volunteer
hours, a blood donation, an honour), with what certifies it and a signed commitment that it is true; staff verify
it within 3 working days; an accepted report becomes a record issued by the credit centre."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update

from app.audit import service as audit
from app.audit.service import current_actor
from app.citizens.models import Citizen
from app.errors import ApiError
from app.extensions import db
from app.records import issued
from app.records import service as records
from app.records.models import Record
from app.rights import evidence, messages, uploads
from app.rights.commitment_models import VoluntaryReport
from app.scoring import service as scoring
from app.timeutil import city_today, utcnow

VERIFY_WORKING_DAYS = 3
STATE_NAMES = {"submitted": "待核实", "accepted": "已核实记入", "rejected": "未通过核实", "untrue": "经查不实"}
# The record the signed truth commitment promises for a report found untrue (虚假承诺).
FALSE_COMMITMENT_TYPE = "CM_FALSE"


def _deadline(today: date) -> tuple[date, bool]:
    try:
        from app.rights.calendar import add_working_days
    except ImportError:  # without the working-day calendar: plain days
        return today + timedelta(days=VERIFY_WORKING_DAYS), True
    deadline = add_working_days(today, VERIFY_WORKING_DAYS)
    return deadline.date, deadline.provisional


def truth_commitment():
    """The 格式文本 a reporter signs (the catalog's ``truth`` commitment)."""
    return next(t for t in scoring.rules().commitments.values() if t.kind == "truth")


def types_view() -> dict:
    score_rules = scoring.rules()
    text = truth_commitment().current_text
    return {
        "types": [{"code": rt.code, "name": rt.name, "points": rt.points, "unit": rt.unit, "unit_size": rt.unit_size,
                   "validity_days": rt.validity_days}
                  for rt in score_rules.catalog.values() if rt.self_reportable],
        "commitment_version": text.version, "commitment_text": text.body,
        "verify_working_days": VERIFY_WORKING_DAYS,
    }


def submit(citizen: Citizen, data: dict) -> VoluntaryReport:
    score_rules = scoring.rules()
    record_type = score_rules.catalog.get(data["type"])
    if record_type is None:
        raise ApiError(404, "record_type_unknown", "信用信息目录中没有该记录类型。")
    if not record_type.self_reportable:
        raise ApiError(403, "type_not_self_reportable",
                       f"“{record_type.name}”不属于可自愿注册的信息，由相关部门报送。")
    if not data["commitment_accepted"]:
        raise ApiError(422, "commitment_not_accepted", "自愿注册须签署信息真实性承诺书。",
                       {"commitment_accepted": ["须为 true。"]})
    text = truth_commitment().current_text
    if data["commitment_version"] != text.version:
        raise ApiError(409, "commitment_text_outdated",
                       f"承诺书文本已更新（当前版本 {text.version}），请阅读最新文本后重新确认。",
                       {"commitment_version": [f"当前版本为 {text.version}。"]})
    today = city_today()
    occurred = data["occurred_at"]
    if occurred > today or occurred < citizen.birth_date:
        raise ApiError(422, "impossible_date", "发生日期不合理。", {"occurred_at": ["不能晚于今天或早于出生日期。"]})
    if occurred + timedelta(days=record_type.validity_days) <= today:
        raise ApiError(422, "record_too_old",
                       f"该信息已超过{record_type.validity_days}天有效期，不再计入信用分，无需注册。",
                       {"occurred_at": ["已超过有效期。"]})
    quantity = data.get("quantity") or 1
    if record_type.unit is None and quantity != 1:
        raise ApiError(422, "quantity_not_applicable", "该类型不按数量计分，数量应为 1。", {"quantity": ["应为 1。"]})
    deadline, provisional = _deadline(today)
    claimed = uploads.claim(citizen.id, data.get("evidence_ids"), "voluntary")
    evidence.validate(claimed)  # the count, and the bytes once more
    report = VoluntaryReport(
        citizen_id=citizen.id, type_code=record_type.code, occurred_at=occurred, quantity=quantity,
        issuer=data["issuer"], certificate_no=data.get("certificate_no"), description=data.get("description") or "",
        commitment_version=text.version, commitment_text=text.body, state="submitted", received_on=today,
        deadline=deadline, deadline_provisional=provisional,
    )
    db.session.add(report)
    db.session.flush()
    uploads.attach(claimed, uploads.KEEPS_FILE + report.ref)
    audit.log(citizen.id, "voluntary.submit", "居民自愿注册信用信息", {"report": report.ref, "type": record_type.code})
    db.session.commit()
    return report


def view(report: VoluntaryReport) -> dict:
    rt = scoring.rules().catalog.get(report.type_code)
    return {
        "ref": report.ref, "type": report.type_code, "name": rt.name if rt else report.type_code,
        "occurred_at": report.occurred_at, "quantity": report.quantity, "issuer": report.issuer,
        "certificate_no": report.certificate_no, "description": report.description, "state": report.state,
        "state_name": STATE_NAMES[report.state], "received_on": report.received_on, "deadline": report.deadline,
        "deadline_provisional": report.deadline_provisional, "commitment_version": report.commitment_version,
        "decision_reason": report.decision_reason, "decided_at": report.decided_at,
        "evidence": [{"evidence_id": row.ref, "content_type": row.content_type, "size": row.size}
                     for row in uploads.attached(uploads.KEEPS_FILE + report.ref)],
    }


def list_for(citizen_id: int) -> list[dict]:
    rows = db.session.scalars(select(VoluntaryReport).where(VoluntaryReport.citizen_id == citizen_id)
                              .order_by(VoluntaryReport.id.desc()))
    return [view(r) for r in rows]


def queue(state: str = "submitted") -> list[dict]:
    rows = db.session.scalars(select(VoluntaryReport).where(VoluntaryReport.state == state)
                              .order_by(VoluntaryReport.deadline, VoluntaryReport.id))
    return [view(r) for r in rows]


def decide(ref: str, decision: str, reason: str) -> VoluntaryReport:
    if decision not in ("accepted", "rejected"):
        raise ApiError(422, "invalid_decision", "核实结果只能为 accepted（核实记入）或 rejected（不予记入）。")
    report = db.session.scalar(select(VoluntaryReport).where(VoluntaryReport.ref == ref))
    if report is None:
        raise ApiError(404, "voluntary_report_not_found", "未找到该自愿注册申请。")
    changed = db.session.execute(
        update(VoluntaryReport).where(VoluntaryReport.id == report.id, VoluntaryReport.state == "submitted")
        .values(state=decision, decided_by=current_actor().id, decided_at=utcnow(), decision_reason=reason)
        .execution_options(synchronize_session=False)).rowcount
    if not changed:
        db.session.rollback()
        raise ApiError(409, "voluntary_report_decided", "该自愿注册申请已有核实结果，不能再次处理。")
    db.session.refresh(report)
    rt = scoring.rules().catalog[report.type_code]
    if decision == "accepted":
        record = issued.issue(report.citizen_id, report.type_code, f"VR-{report.ref}", report.occurred_at,
                              summary=f"自愿注册：{rt.name}（{report.issuer}）", quantity=report.quantity)
        report.record_id = record.id
        body = f"您自愿注册的“{rt.name}”（{report.occurred_at.isoformat()}，{report.issuer}）已核实，记入您的信用档案。"
    else:
        body = f"您自愿注册的“{rt.name}”未通过核实：{reason}。如有新的证明材料，可重新填报。"
    messages.post_message(report.citizen_id, f"voluntary_{decision}", f"自愿注册{STATE_NAMES[decision]}：{rt.name}",
                          body, link=f"/pages/voluntary/index?ref={report.ref}", related_ref=report.ref)
    audit.log(report.citizen_id, f"voluntary.{decision}", reason, {"report": report.ref})
    db.session.commit()
    if decision == "accepted":
        scoring.recompute_citizen(db.session.get(Citizen, report.citizen_id), reason="自愿注册信息记入后重新计算")
    return report


def find_untrue(ref: str, reason: str) -> VoluntaryReport:
    """An accepted report later found untrue: what its signed commitment says happens. The record it became is
    revoked and the credit centre records 虚假承诺 (both through app/records), the citizen is told and rescored."""
    report = db.session.scalar(select(VoluntaryReport).where(VoluntaryReport.ref == ref))
    if report is None:
        raise ApiError(404, "voluntary_report_not_found", "未找到该自愿注册申请。")
    changed = db.session.execute(
        update(VoluntaryReport).where(VoluntaryReport.id == report.id, VoluntaryReport.state == "accepted")
        .values(state="untrue", decided_by=current_actor().id, decided_at=utcnow(), decision_reason=reason)
        .execution_options(synchronize_session=False)).rowcount
    if not changed:
        db.session.rollback()
        raise ApiError(409, "voluntary_report_not_accepted", "只有已核实记入的自愿注册才能认定为不实。")
    db.session.refresh(report)
    rt = scoring.rules().catalog[report.type_code]
    if report.record_id is not None:
        record = db.session.get(Record, report.record_id)
        records.set_process_status(record, "revoked", reason=f"自愿注册经查不实：{reason}",
                                   details={"report": report.ref})
    issued.issue(report.citizen_id, FALSE_COMMITMENT_TYPE, f"VRF-{report.ref}", city_today(),
                 summary=f"虚假承诺：自愿注册的“{rt.name}”（{report.issuer}）经查不实：{reason}")
    messages.post_message(report.citizen_id, "voluntary_untrue", f"自愿注册经查不实：{rt.name}",
                          f"您自愿注册的“{rt.name}”（{report.occurred_at.isoformat()}，{report.issuer}）经查不实：{reason}。"
                          "按您签署的信息真实性承诺书，该信息已撤销，并记为虚假承诺记入信用档案。",
                          link=f"/pages/voluntary/index?ref={report.ref}", related_ref=report.ref)
    audit.log(report.citizen_id, "voluntary.untrue", reason, {"report": report.ref})
    db.session.commit()
    scoring.recompute_citizen(db.session.get(Citizen, report.citizen_id), reason="自愿注册经查不实后重新计算")
    return report
