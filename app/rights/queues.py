"""The credit centre's work queues of objections and repairs (the console's 异议 / 修复 pages): open cases by
deadline first, with the same filters as GET /api/v1/rights/cases."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.rights.models import OPEN_STATES, RightsCase


def staff_cases(kind: str | None, state: str | None, page: int, per_page: int,
                due_before: date | None = None) -> tuple[list[RightsCase], int]:
    stmt = select(RightsCase)
    if kind:
        stmt = stmt.where(RightsCase.kind == kind)
    if state == "open":
        stmt = stmt.where(RightsCase.state.in_(OPEN_STATES))
    elif state:
        stmt = stmt.where(RightsCase.state == state)
    if due_before:
        stmt = stmt.where(RightsCase.deadline <= due_before)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.scalars(stmt.order_by(RightsCase.deadline, RightsCase.id)
                              .offset((page - 1) * per_page).limit(per_page))
    return list(rows), total


def open_counts() -> dict[str, int]:
    """Open cases per kind (the menu's badges)."""
    rows = db.session.execute(select(RightsCase.kind, func.count()).where(RightsCase.state.in_(OPEN_STATES))
                              .group_by(RightsCase.kind)).all()
    return {kind: int(count) for kind, count in rows}
