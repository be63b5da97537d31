"""What-if for a citizen: their records plus hypothetical changes, scored by the pure engine; nothing is stored.

Changes: make a self-service commitment and keep it (``make_commitment``), keep one already running
(``keep_commitment``), repair a record (``repair``), a record reaching its expiry (``expire``).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from app.citizens.models import Citizen
from app.errors import ApiError
from app.extensions import db
from app.records.models import Record
from app.rights import commitments
from app.scoring import service as scoring
from app.timeutil import city_today
from score_model import Rules, ScoreResult
from score_model.whatif import ADD_RECORD, EXPIRE_RECORD, REPAIR_RECORD, Change, what_if

CHANGE_KINDS = ("make_commitment", "keep_commitment", "repair", "expire")
REPAIR_WORKING_DAYS = 3


def _repair_decided_by(day: date) -> date:
    try:
        from app.rights.calendar import add_working_days
    except ImportError:
        return day + timedelta(days=REPAIR_WORKING_DAYS)
    return add_working_days(day, REPAIR_WORKING_DAYS).date


def _own_record(citizen_id: int, ref: str | None) -> Record:
    record = db.session.scalar(select(Record).where(Record.ref == (ref or ""), Record.citizen_id == citizen_id))
    if record is None:
        raise ApiError(404, "record_not_found", "未找到您名下的该条信用记录。", {"record": ["不是您的记录或不存在。"]})
    return record


def _to_change(citizen_id: int, item: dict, score_rules: Rules, today: date, held: set[str]) -> tuple[Change, dict]:
    kind = item["kind"]
    if kind == "make_commitment":
        ctype = commitments.commitment_type(item.get("type") or "", score_rules)
        if not ctype.self_service:
            raise ApiError(403, "commitment_not_self_service", f"{ctype.name}不能由本人在小程序中作出。")
        if ctype.code in held:
            raise ApiError(409, "commitment_already_active", f"您已有一份履约中的{ctype.name}，无需再次测算。")
        effective = today + timedelta(days=ctype.period_days)
        return (Change(ADD_RECORD, effective, type_code=ctype.kept_record, ref=f"what-if:{ctype.code}"),
                {"kind": kind, "type": ctype.code, "name": ctype.name, "effective_on": effective})
    if kind == "keep_commitment":
        commitment = commitments.get_for_citizen(citizen_id, item.get("commitment") or "")
        if commitment.status != "active":
            raise ApiError(409, "commitment_closed", "该承诺已结束，不能再测算履约结果。")
        ctype = commitments.commitment_type(commitment.type_code, score_rules)
        if ctype.kept_record is None:
            raise ApiError(422, "commitment_not_scored", f"{ctype.name}履约不单独计分。")
        return (Change(ADD_RECORD, commitment.ends_on, type_code=ctype.kept_record, ref=f"what-if:{commitment.ref}"),
                {"kind": kind, "commitment": commitment.ref, "name": ctype.name, "effective_on": commitment.ends_on})
    record = _own_record(citizen_id, item.get("record"))
    rt = score_rules.catalog.get(record.type_code)
    if rt is None or record.status != "active":
        raise ApiError(409, "record_not_counting", "该记录目前不计入信用分，无需测算。")
    if kind == "repair":
        if not rt.repairable:
            raise ApiError(422, "record_not_repairable", f"按照公共信用信息目录，“{rt.name}”不可申请信用修复。")
        opens = max(today, record.occurred_at + timedelta(days=rt.min_display_days))
        effective = _repair_decided_by(opens)
        return (Change(REPAIR_RECORD, effective, ref=record.ref),
                {"kind": kind, "record": record.ref, "name": rt.name, "effective_on": effective})
    until = record.occurred_at + timedelta(days=rt.validity_days)
    if record.expires_at is not None:
        until = min(until, record.expires_at)
    return (Change(EXPIRE_RECORD, until, ref=record.ref),
            {"kind": kind, "record": record.ref, "name": rt.name, "effective_on": until})


def _summary(result: ScoreResult) -> dict:
    return {"total": result.total, "level": result.level, "level_name": result.level_name,
            "dimensions": dict(result.dimensions)}


def compute(citizen: Citizen, items: list[dict]) -> dict:
    score_rules, today = scoring.rules(), city_today()
    held = commitments.active_types(citizen.id)
    pairs = [_to_change(citizen.id, item, score_rules, today, held) for item in items]
    refs = [p[0].ref for p in pairs if p[0].kind != ADD_RECORD]
    if len(set(refs)) != len(refs) or len({p[0].ref for p in pairs}) != len(pairs):
        raise ApiError(422, "duplicate_change", "同一项变化只能出现一次。")
    records = scoring.records_of([citizen.id]).get(citizen.id, [])
    result = what_if(records, [c for c, _ in pairs], today, score_rules)
    changes = []
    for change, described in pairs:
        alone = what_if(records, [change], today, score_rules)
        changes.append({**described, "points": alone.delta})
    return {
        "as_of": today, "before": _summary(result.before), "after": _summary(result.after),
        "delta": result.delta, "dimension_deltas": result.dimension_deltas(),
        "effective_on": result.effective_on, "changes": changes,
        "note": "按您目前的记录测算，仅供参考，不会保存；届时的实际分数还取决于期间新增或到期的记录。",
    }


def points_of_change(citizen: Citizen, item: dict) -> int | None:
    """The points one change would be worth now (for hints); None when it does not apply."""
    try:
        return compute(citizen, [item])["delta"]
    except ApiError:
        return None


# -- hints: what each step is worth, and where to take it --------------------------------------------------

_ACTIONS = {
    "objection_pending": {"method": "GET", "path": "/mp/v1/me/cases"},
    "repair_open": {"method": "POST", "path": "/mp/v1/me/repairs"},
    "repair_later": {"method": "GET", "path": "/mp/v1/me/repairs/preview"},
    "expiring": {"method": "GET", "path": "/mp/v1/me/records"},
}


def hints(citizen: Citizen) -> list[dict]:
    """The engine's hints, each with the points it is worth (by what-if on the citizen's records) and the endpoint
    that acts on it; the engine's single "make a commitment" hint becomes one hint per commitment on offer."""
    score_rules, today = scoring.rules(), city_today()
    records = scoring.records_of([citizen.id]).get(citizen.id, [])
    explanation = scoring.explain(citizen)
    held = commitments.active_types(citizen.id)

    def worth(item: dict) -> tuple[int | None, date | None]:
        try:
            change, described = _to_change(citizen.id, item, score_rules, today, held)
        except ApiError:
            return None, None
        return what_if(records, [change], today, score_rules).delta, described["effective_on"]

    out = []
    for hint in explanation.hints:
        base = {"kind": hint.kind, "message": hint.message, "ref": hint.ref, "date": hint.date, "type": None,
                "points": None, "effective_on": None, "action": None}
        if hint.kind == "make_commitment":
            for ctype in score_rules.commitments.values():
                if not ctype.self_service or ctype.code in held:
                    continue
                points, effective = worth({"kind": "make_commitment", "type": ctype.code})
                room = f"预计 +{points} 分" if points else "履约践诺分已满，暂不再加分"
                penalty = -score_rules.points_of(ctype.broken_record)
                out.append({**base, "type": ctype.code, "points": points, "effective_on": effective,
                            "message": f"作出{ctype.name}并在 {ctype.period_days // 30} 个月内守约，{room}"
                                       f"（期内如被记录相关违法行为则扣 {penalty} 分）。",
                            "action": {"method": "POST", "path": "/mp/v1/me/commitments",
                                       "body": {"type": ctype.code, "text_version": ctype.current_text.version,
                                                "accepted": True}}})
            continue
        if hint.kind in ("repair_open", "repair_later", "expiring") and hint.ref:
            kind = "expire" if hint.kind == "expiring" else "repair"
            base["points"], base["effective_on"] = worth({"kind": kind, "record": hint.ref})
        action = _ACTIONS.get(hint.kind)
        if action is not None:
            base["action"] = dict(action)
            if hint.ref and hint.kind != "objection_pending":
                base["action"]["query" if action["method"] == "GET" else "body"] = {"record": hint.ref}
        out.append(base)
    return out
