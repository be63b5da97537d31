"""The figures staff are judged by (seed 000): per kind and month, cases received, decided, decided within the
deadline, average handling time in working days, upheld rate, and upheld objections per 100,000 records
(有效异议加权值, target below 1)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import and_, case, func, or_, select

from app.errors import ApiError
from app.extensions import db
from app.records.models import Record
from app.rights import calendar
from app.rights.models import CASE_KINDS, RightsCase

# What counts as "upheld" per kind: an objection found right, a repair granted.
UPHELD = {"objection": ("upheld", "corrected"), "repair": ("approved",)}
DECIDED = {"objection": ("upheld", "corrected", "dismissed"), "repair": ("approved", "rejected")}


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def rights_stats(start: date, end: date) -> dict:
    if end < start:
        raise ApiError(422, "invalid_range", "结束日期不能早于开始日期。", {"to": ["早于开始日期。"]})
    if (end - start).days > 3 * 366:
        raise ApiError(422, "range_too_long", "统计区间最长三年。", {"to": ["区间过长。"]})
    # Counted by the database per kind and day (a city's cases a month run to thousands); only the working days
    # between a pair of days are counted here, once per distinct pair, from one read of the calendar.
    received = db.session.execute(
        select(RightsCase.kind, RightsCase.received_on, func.count())
        .where(RightsCase.received_on.between(start, end))
        .group_by(RightsCase.kind, RightsCase.received_on)).all()
    decided_states = or_(*(and_(RightsCase.kind == kind, RightsCase.state.in_(states))
                           for kind, states in DECIDED.items()))
    upheld_states = or_(*(and_(RightsCase.kind == kind, RightsCase.state.in_(states))
                          for kind, states in UPHELD.items()))
    decided = db.session.execute(
        select(RightsCase.kind, RightsCase.received_on, RightsCase.decided_on, func.count(),
               func.sum(case((RightsCase.decided_on <= RightsCase.deadline, 1), else_=0)),
               func.sum(case((upheld_states, 1), else_=0)))
        .where(RightsCase.decided_on.between(start, end), decided_states)
        .group_by(RightsCase.kind, RightsCase.received_on, RightsCase.decided_on)).all()
    buckets: dict[tuple[str, str], dict] = defaultdict(lambda: {
        "received": 0, "decided": 0, "decided_on_time": 0, "working_days": 0, "upheld": 0})
    for kind, received_on, count in received:
        buckets[(kind, _month(received_on))]["received"] += count
    if decided:
        working_days = calendar.working_days_counter(min(row[1] for row in decided), max(row[2] for row in decided))
    for kind, received_on, decided_on, count, on_time, upheld in decided:
        bucket = buckets[(kind, _month(decided_on))]
        bucket["decided"] += count
        bucket["decided_on_time"] += int(on_time or 0)
        bucket["working_days"] += count * working_days(received_on, decided_on)
        bucket["upheld"] += int(upheld or 0)
    records_total = db.session.scalar(select(func.count()).select_from(Record)) or 0
    result = []
    for kind in CASE_KINDS:
        months = sorted(month for k, month in buckets if k == kind)
        items, totals = [], {"received": 0, "decided": 0, "decided_on_time": 0, "working_days": 0, "upheld": 0}
        for month in months:
            bucket = buckets[(kind, month)]
            for key in totals:
                totals[key] += bucket[key]
            items.append({"month": month, **_figures(kind, bucket, records_total)})
        result.append({"kind": kind, "months": items, "total": _figures(kind, totals, records_total)})
    return {"from": start.isoformat(), "to": end.isoformat(), "records_total": records_total, "kinds": result}


def _figures(kind: str, bucket: dict, records_total: int) -> dict:
    decided = bucket["decided"]
    answer = {
        "received": bucket["received"], "decided": decided, "decided_on_time": bucket["decided_on_time"],
        "on_time_pct": round(100 * bucket["decided_on_time"] / decided, 1) if decided else None,
        "avg_working_days": round(bucket["working_days"] / decided, 2) if decided else None,
        "upheld": bucket["upheld"], "upheld_rate_pct": round(100 * bucket["upheld"] / decided, 1) if decided else None,
    }
    if kind == "objection":
        answer["upheld_per_100k_records"] = (round(bucket["upheld"] * 100_000 / records_total, 3)
                                             if records_total else None)
    return answer
