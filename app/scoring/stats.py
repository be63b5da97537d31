"""Read-only aggregates of scores for the console's dashboard (no citizen is identifiable in them).

A citizen's score on a day is the latest entry of their score history computed before that day ended (city time).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.scoring.models import ScoreHistory
from app.scoring.service import rules
from app.timeutil import CITY_TZ

BIN_WIDTH = 50


def end_of_city_day(day: date) -> datetime:
    """The first instant after ``day`` in city time, as an aware datetime (history is stored in UTC)."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=CITY_TZ)


def _latest_before(moment: datetime):
    ranked = (
        select(ScoreHistory.citizen_id, ScoreHistory.total, ScoreHistory.level,
               func.row_number().over(partition_by=ScoreHistory.citizen_id,
                                      order_by=(ScoreHistory.computed_at.desc(), ScoreHistory.id.desc()))
               .label("rank"))
        .where(ScoreHistory.computed_at < moment)
        .subquery()
    )
    return select(ranked.c.total, ranked.c.level).where(ranked.c.rank == 1).subquery()


def level_names() -> list[dict]:
    score_rules = rules()
    levels = sorted({0, *(tier.level for tier in score_rules.tiers)})
    return [{"level": level, "name": score_rules.level_name(level)} for level in levels]


def score_distribution(as_of: date) -> dict:
    """Citizens per 50-point band of the total, and per level, as of the end of ``as_of``."""
    latest = _latest_before(end_of_city_day(as_of))
    max_total = rules().max_total
    band = latest.c.total // BIN_WIDTH
    by_band = dict(db.session.execute(select(band.label("band"), func.count()).group_by("band")).all())
    by_level = dict(db.session.execute(select(latest.c.level, func.count()).group_by(latest.c.level)).all())
    bands = []
    last_band = max_total // BIN_WIDTH
    for index in range(last_band + 1):
        low = index * BIN_WIDTH
        high = min(low + BIN_WIDTH - 1, max_total)
        count = int(by_band.get(index, 0))
        if index == last_band - 1 and max_total % BIN_WIDTH == 0:
            # the maximum total (e.g. 1000) joins the last full band: 950–1000
            count += int(by_band.get(last_band, 0))
            high = max_total
            bands.append({"label": f"{low}-{high}", "from": low, "to": high, "count": count})
            break
        bands.append({"label": f"{low}-{high}", "from": low, "to": high, "count": count})
    levels = [{**entry, "count": int(by_level.get(entry["level"], 0))} for entry in level_names()]
    return {"as_of": as_of.isoformat(), "citizens": sum(b["count"] for b in bands), "bands": bands,
            "levels": levels}


def month_ends(date_from: date, date_to: date) -> list[date]:
    """The last day of every month from ``date_from``'s month to ``date_to``'s (the last one is ``date_to``)."""
    ends = []
    year, month = date_from.year, date_from.month
    while (year, month) <= (date_to.year, date_to.month):
        following = date(year + (month == 12), month % 12 + 1, 1)
        ends.append(min(following - timedelta(days=1), date_to))
        year, month = following.year, following.month
    return ends


def levels_by_month(date_from: date, date_to: date) -> dict:
    """For each month of the range: citizens per level at the month's end (or at ``date_to`` in its month)."""
    ends = month_ends(date_from, date_to)
    rows = db.session.execute(
        select(ScoreHistory.citizen_id, ScoreHistory.computed_at, ScoreHistory.level)
        .where(ScoreHistory.computed_at < end_of_city_day(date_to))
        .order_by(ScoreHistory.computed_at, ScoreHistory.id)
    )
    names = level_names()
    current: dict[int, int] = {}
    series = {entry["level"]: [] for entry in names}
    pending = iter(ends)
    boundary_day = next(pending, None)

    def snapshot():
        counts: dict[int, int] = {}
        for level in current.values():
            counts[level] = counts.get(level, 0) + 1
        for level, values in series.items():
            values.append(counts.get(level, 0))

    for citizen_id, computed_at, level in rows:
        while boundary_day is not None and computed_at >= end_of_city_day(boundary_day):
            snapshot()
            boundary_day = next(pending, None)
        current[citizen_id] = level
    while boundary_day is not None:
        snapshot()
        boundary_day = next(pending, None)
    return {
        "from": date_from.isoformat(), "to": date_to.isoformat(),
        "months": [end.strftime("%Y-%m") for end in ends],
        "series": [{**entry, "counts": series[entry["level"]]} for entry in names],
    }
