"""信用修复: for a repairable adverse record past its catalog minimum display period, the citizen applies with
proof of performance and signs the standard repair commitment; staff approve (the record becomes ``repaired``,
the citizen is rescored, a repair commitment starts) or reject, with reasons, within 3 working days."""

from __future__ import annotations

import importlib
from datetime import date, timedelta

from sqlalchemy import update

from app.audit import service as audit
from app.audit.service import current_actor
from app.citizens.models import Citizen
from app.errors import ApiError
from app.extensions import db
from app.records import service as records
from app.records.models import Record
from app.rights import cases, evidence, messages
from app.rights import uploads as uploads_service
from app.rights.models import RightsCase
from app.scoring import service as scoring
from app.timeutil import city_today, utcnow

COMMITMENT_VERSION = "repair-2026.1"
_COMMITMENT_TEMPLATE = (
    "信用修复承诺书\n"
    "本人就“{name}”（{occurred}）申请信用修复，郑重承诺：\n"
    "一、本人已全面履行该{name}所确定的法定责任和义务（如已缴清罚款、已履行判决），所提交的证明材料真实、有效；\n"
    "二、自修复之日起一年内，不再发生同类失信行为；\n"
    "三、如有虚假承诺或违背上述承诺，自愿接受撤销本次信用修复、记入失信记录并依法依规承担相应责任（虚假承诺约束）。\n"
    "承诺文本版本：{version}"
)


def commitment_text(record: Record) -> tuple[str, str]:
    """The standard repair commitment (格式文本) for the record's type: (version, text).

    The versioned body is the rules file's 信用修复承诺 (the same text the commitment then tracks), headed by the
    record it repairs; rules without one fall back to this module's text.
    """
    score_rules = scoring.rules()
    record_type = score_rules.catalog[record.type_code]
    ctype = next((t for t in getattr(score_rules, "commitments", {}).values() if t.kind == "repair"), None)
    if ctype is None:
        text = _COMMITMENT_TEMPLATE.format(name=record_type.name, occurred=record.occurred_at.isoformat(),
                                           version=COMMITMENT_VERSION)
        return COMMITMENT_VERSION, text
    current = ctype.current_text
    heading = (f"信用修复承诺书\n本人就“{record_type.name}”（{record.occurred_at.isoformat()}）申请信用修复，"
               "郑重承诺：\n")
    return current.version, f"{heading}{current.body}\n承诺文本版本：{current.version}"


def repairable_from(record: Record) -> date | None:
    """The first day the record can be repaired, or None when its type can never be repaired."""
    record_type = scoring.rules().catalog.get(record.type_code)
    if record_type is None or not record_type.repairable or not record_type.is_adverse:
        return None
    return record.occurred_at + timedelta(days=record_type.min_display_days)


def check_repairable(record: Record, today: date | None = None) -> None:
    today = today or city_today()
    if record.status == "repaired":
        raise ApiError(409, "record_already_repaired", "该记录已完成信用修复。")
    if record.status == "disputed":
        raise ApiError(409, "record_disputed", "该记录正在异议处理中，请待异议处理完毕后再申请修复。")
    if record.status in ("revoked", "expired"):
        raise ApiError(409, "record_not_repairable", "该记录已撤销或已过期，不再计入信用分，无需修复。")
    opens = repairable_from(record)
    if opens is None:
        raise ApiError(422, "record_not_repairable", "按照公共信用信息目录，该类记录不可申请信用修复。")
    if opens > today:
        raise ApiError(422, "repair_not_yet", f"该记录的最短公示期尚未届满，{opens.isoformat()} 起可申请信用修复。",
                       {"repairable_from": [opens.isoformat()]})


def preview(citizen_id: int, record_ref: str) -> dict:
    """What the citizen signs, and whether they can apply now."""
    record = cases.citizen_record(citizen_id, record_ref)
    version, text = commitment_text(record) if repairable_from(record) is not None else (None, None)
    opens = repairable_from(record)
    try:
        check_repairable(record)
        can_apply, why = True, None
    except ApiError as error:
        can_apply, why = False, {"code": error.code, "message": error.message}
    return {"record": record.ref, "can_apply": can_apply, "refusal": why,
            "repairable_from": opens.isoformat() if opens else None,
            "commitment_version": version, "commitment_text": text}


def apply(citizen_id: int, record_ref: str, statement: str, commitment_version: str, accepted: bool,
          files, evidence_ids=()) -> RightsCase:
    """``files``: uploaded images; ``evidence_ids``: images uploaded before (``uploads.upload``), or both."""
    record = cases.citizen_record(citizen_id, record_ref)
    check_repairable(record)
    if not accepted:
        raise ApiError(422, "commitment_required", "申请信用修复须签署信用修复承诺书。",
                       {"commitment_accepted": ["须为 true。"]})
    version, text = commitment_text(record)
    if commitment_version != version:
        raise ApiError(422, "commitment_version_stale", "承诺书文本已更新，请阅读最新版本后重新签署。",
                       {"commitment_version": [f"当前版本为 {version}。"]})
    claimed = uploads_service.claim(citizen_id, evidence_ids, "repair")
    uploads = evidence.validate([*files, *claimed])
    if not uploads:
        raise ApiError(422, "proof_required", "请上传已履行义务的证明材料（如罚款缴纳凭证）。",
                       {"evidence": ["至少上传 1 张图片。"]})
    today = city_today()
    deadline = cases.deadline_for("repair", today)
    case = RightsCase(kind="repair", state="applied", citizen_id=citizen_id, record_id=record.id,
                      department_id=record.department_id, open_record_id=record.id, reason_text=statement,
                      commitment_version=version, commitment_text=text, received_on=today,
                      deadline=deadline.date, deadline_provisional=deadline.provisional)
    with cases.filing(case, uploads, ApiError(409, "repair_already_open", "该记录已有正在办理的信用修复申请。")):
        cases.add_event(case, "applied", f"申请信用修复并签署承诺书（{version}）。{statement}".strip())
        audit.log(citizen_id, "rights.repair.apply", "居民申请信用修复", {"case": case.ref, "record": record.ref})
        when = case.deadline.isoformat() + ("（暂定）" if case.deadline_provisional else "")
        messages.post_message(citizen_id, "repair_received", "您的信用修复申请已受理",
                              f"您对记录“{cases.record_label(record)}”的信用修复申请已受理，"
                              f"我们将在 3 个工作日内（{when} 前）办结。",
                              link=f"/pages/rights/case?ref={case.ref}", related_ref=case.ref)
    uploads_service.copied(claimed)
    return case


def _close(case: RightsCase, state: str, reason: str) -> None:
    changed = db.session.execute(update(RightsCase).where(
        RightsCase.id == case.id, RightsCase.state == "applied").values(
        state=state, open_record_id=None, decision_reason=reason, decided_at=utcnow(), decided_on=city_today(),
        decided_by=current_actor().id, deadline_flag=None)).rowcount
    if not changed:
        db.session.rollback()
        raise ApiError(409, "case_already_decided", "该修复申请已有处理结果，不能再次处理。")
    db.session.refresh(case)


def _start_repair_commitment(case: RightsCase, record: Record) -> None:
    """The single place an approved repair starts its 信用修复承诺 (app.rights.commitments, when present)."""
    try:
        commitments = importlib.import_module("app.rights.commitments")
    except ModuleNotFoundError:
        return
    start = getattr(commitments, "start_repair_commitment", None)
    if start is not None:
        start(citizen_id=case.citizen_id, record=record, text_version=case.commitment_version)


def decide(ref: str, decision: str, reason: str) -> RightsCase:
    if decision not in ("approved", "rejected"):
        raise ApiError(422, "invalid_decision", "处理结果只能为 approved（准予修复）或 rejected（不予修复）。")
    case = cases.any_case(ref, "repair")
    _close(case, decision, reason)
    record = records.get_record_by_id(case.record_id)
    if decision == "approved":
        if not records.set_process_status(record, "repaired", reason="信用修复通过，记录不再计分",
                                          details={"case": case.ref}):
            db.session.rollback()
            raise ApiError(409, "record_state_changed", "该记录的状态已发生变化（例如正在异议处理），暂不能修复。")
        _start_repair_commitment(case, record)
        title, body = "信用修复已通过", (f"您对记录“{cases.record_label(record)}”的信用修复申请已通过，该记录不再计入"
                                    f"信用分；您签署的信用修复承诺即日起生效。说明：{reason}")
    else:
        title, body = "信用修复未通过", f"您对记录“{cases.record_label(record)}”的信用修复申请未通过。理由：{reason}"
    cases.add_event(case, decision, reason)
    audit.log(case.citizen_id, "rights.repair.decide", "信用中心作出信用修复决定",
              {"case": case.ref, "decision": decision})
    messages.post_message(case.citizen_id, "repair_decided", title, body,
                          link=f"/pages/rights/case?ref={case.ref}", related_ref=case.ref)
    db.session.commit()
    if decision == "approved":
        scoring.recompute_citizen(db.session.get(Citizen, case.citizen_id), reason="信用修复后重新计算")
        db.session.commit()
    return case
