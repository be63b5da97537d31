"""Deadlines watched: the scheduler marks open cases due soon (today or the next working day) and overdue, writes
one staff alert per case and state, tells an overdue case's citizen, and warns when next year's calendar is
missing (from 1 November)."""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.rights import calendar, cases, messages
from app.rights.models import OPEN_STATES, RightsAlert, RightsCase
from app.timeutil import city_today

log = logging.getLogger(__name__)


def _alert(kind: str, subject: str, text: str, case_id: int | None = None) -> bool:
    """One alert per (kind, subject), even with two runs at once (the unique constraint decides)."""
    if db.session.scalar(select(RightsAlert.id).where(RightsAlert.kind == kind, RightsAlert.subject == subject)):
        return False
    try:
        with db.session.begin_nested():
            db.session.add(RightsAlert(kind=kind, subject=subject, message=text[:300], case_id=case_id))
    except IntegrityError:
        return False
    return True


def watch(today: date | None = None) -> int:
    """Flag and alert; returns how many new alerts were written."""
    today = today or city_today()
    soon = calendar.add_working_days(today, 1).date
    new = 0
    open_cases = db.session.scalars(select(RightsCase).where(
        RightsCase.state.in_(OPEN_STATES), RightsCase.deadline <= soon).order_by(RightsCase.deadline))
    for case in list(open_cases):
        flag = "overdue" if case.deadline < today else "due_soon"
        changed = db.session.execute(update(RightsCase).where(
            RightsCase.id == case.id, RightsCase.state.in_(OPEN_STATES)).values(deadline_flag=flag)).rowcount
        if not changed:
            continue
        name = cases.KIND_NAMES[case.kind]
        if flag == "overdue":
            text = f"{name} {case.ref} 已超过办理期限（{case.deadline.isoformat()}），请立即处理。"
        else:
            text = f"{name} {case.ref} 将于 {case.deadline.isoformat()} 到期，请及时处理。"
        if _alert(flag, case.ref, text, case.id):
            new += 1
            if flag == "overdue":
                messages.post_message(case.citizen_id, f"{case.kind}_overdue", f"您的{name}申请已超期",
                                      f"您的{name}申请已超过办理期限（{case.deadline.isoformat()}），"
                                      "信用中心正在督办，处理结果将第一时间通知您。",
                                      link=f"/pages/rights/case?ref={case.ref}", related_ref=case.ref)
    warning = calendar.missing_next_year_warning(today)
    if warning:
        log.warning("working-day calendar: next year missing", extra={"fields": {"year": today.year + 1}})
        if _alert("calendar_missing", str(today.year + 1), warning):
            new += 1
    db.session.commit()
    return new


def open_alerts(limit: int = 200) -> list[RightsAlert]:
    return list(db.session.scalars(select(RightsAlert).where(RightsAlert.resolved_at.is_(None))
                                   .order_by(RightsAlert.id.desc()).limit(limit)))
