"""The city's working-day calendar: deadlines in working days, from the editable ``holiday`` table alone.

A day is a working day when it is Monday-Friday and not a holiday row, or when it is a make-up working day row
(调休上班). Years listed in ``calendar_year`` are known; a deadline reaching into any other year is computed on
weekends alone and marked provisional.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import delete, select

from app.errors import ApiError
from app.extensions import db
from app.rights.models import CalendarYear, Holiday
from app.timeutil import city_today

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deadline:
    date: date
    provisional: bool  # True when a day counted lies in a year whose holidays are not in the table


def _exceptions(first: date, last: date) -> dict[date, bool]:
    rows = db.session.execute(select(Holiday.day, Holiday.is_workday).where(Holiday.day.between(first, last)))
    return {row.day: row.is_workday for row in rows}


def known_years() -> set[int]:
    return set(db.session.scalars(select(CalendarYear.year)))


def _is_working(day: date, exceptions: dict[date, bool]) -> bool:
    if day in exceptions:
        return exceptions[day]
    return day.weekday() < 5


def is_working_day(day: date) -> bool:
    return _is_working(day, _exceptions(day, day))


def working_days_counter(first: date, last: date):
    """``count(d1, d2)`` = ``working_days_between(d1, d2)`` for any days within [first, last], from one read of the
    table (for statistics over many pairs of days)."""
    exceptions = _exceptions(first, last)
    position, running, day = {}, 0, first
    while day <= last:
        running += _is_working(day, exceptions) if day > first else 0
        position[day] = running
        day += timedelta(days=1)

    def count(d1: date, d2: date) -> int:
        return position[d2] - position[d1] if d2 > d1 else 0

    return count


def add_working_days(start: date, n: int) -> Deadline:
    """The ``n``-th working day after ``start`` (``start`` itself never counts); n >= 0."""
    if n < 0:
        raise ValueError("n must be >= 0")
    # Long holidays (春节, 国庆) add at most ~9 days to a week's span; fetch a generous window, widen if short.
    span = n * 2 + 20
    while True:
        exceptions = _exceptions(start, start + timedelta(days=span))
        day, counted = start, 0
        while counted < n and day < start + timedelta(days=span):
            day += timedelta(days=1)
            if _is_working(day, exceptions):
                counted += 1
        if counted == n:
            break
        span *= 2
    years = set(range(start.year, day.year + 1)) if n else set()
    provisional = bool(years - known_years())
    return Deadline(day, provisional)


def working_days_between(d1: date, d2: date) -> int:
    """Working days after ``d1`` up to and including ``d2`` (0 when d2 <= d1)."""
    if d2 <= d1:
        return 0
    exceptions = _exceptions(d1, d2)
    count, day = 0, d1
    while day < d2:
        day += timedelta(days=1)
        if _is_working(day, exceptions):
            count += 1
    return count


# ------------------------------------------------------------------------------------------------------------
# Seeding from chinesecalendar, and staff edits
# ------------------------------------------------------------------------------------------------------------


def package_years() -> list[int]:
    import chinese_calendar

    years = {day.year for day in chinese_calendar.holidays} | {day.year for day in chinese_calendar.workdays}
    return sorted(years)


def seed(year: int | None = None) -> dict:
    """Copy the package's holidays and make-up days into the table (all its years, or one); staff edits stay.

    A year the package does not cover raises ApiError 422 ``calendar_year_unknown``.
    """
    import chinese_calendar

    covered = package_years()
    years = covered if year is None else [year]
    if year is not None and year not in covered:
        raise ApiError(422, "calendar_year_unknown",
                       f"chinesecalendar 尚未收录 {year} 年的节假日安排，请在国务院公布后由工作人员手工录入。")
    staff_days = set(db.session.scalars(select(Holiday.day).where(Holiday.source == "staff")))
    known = known_years()
    added = 0
    for y in years:
        rows = [(d, False, name) for d, name in chinese_calendar.holidays.items() if d.year == y]
        rows += [(d, True, name) for d, name in chinese_calendar.workdays.items() if d.year == y]
        for day, is_workday, name in rows:
            if day in staff_days:
                continue
            # Weekend holidays change nothing, but they keep the package's names for a holiday's whole span.
            existing = db.session.get(Holiday, day)
            if existing is None:
                db.session.add(Holiday(day=day, is_workday=is_workday, name=_chinese_name(name),
                                       source="chinesecalendar"))
                added += 1
            else:
                existing.is_workday, existing.name = is_workday, _chinese_name(name)
        if y not in known:
            db.session.add(CalendarYear(year=y, source="chinesecalendar"))
    db.session.commit()
    return {"years": years, "days_added": added}


_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节", "National Day": "国庆节", "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def _chinese_name(name) -> str:
    text = getattr(name, "value", name) or ""
    return _NAMES.get(text, str(text))[:32]


def list_days(year: int) -> list[Holiday]:
    return list(db.session.scalars(
        select(Holiday).where(Holiday.day.between(date(year, 1, 1), date(year, 12, 31))).order_by(Holiday.day)))


def set_day(day: date, is_workday: bool, name: str) -> Holiday:
    """Staff: mark a day a holiday or a make-up working day (replaces what the package said)."""
    if is_workday and day.weekday() < 5:
        raise ApiError(422, "not_a_weekend", "调休上班日应为周六或周日。")
    if not is_workday and day.weekday() >= 5:
        raise ApiError(422, "already_weekend", "周末本就不是工作日，无需设为节假日。")
    row = db.session.get(Holiday, day)
    if row is None:
        row = Holiday(day=day)
        db.session.add(row)
    row.is_workday, row.name, row.source = is_workday, name, "staff"
    db.session.commit()
    return row


def remove_day(day: date) -> None:
    deleted = db.session.execute(delete(Holiday).where(Holiday.day == day)).rowcount
    if not deleted:
        raise ApiError(404, "holiday_not_found", "日历中没有这一天的节假日或调休记录。")
    db.session.commit()


def mark_year_known(year: int) -> None:
    """Staff confirm a year's holidays are complete (e.g. after entering the State Council's notice by hand)."""
    if db.session.get(CalendarYear, year) is None:
        db.session.add(CalendarYear(year=year, source="staff"))
        db.session.commit()


def missing_next_year_warning(today: date | None = None) -> str | None:
    """From 1 November, a warning when next year's holidays are not in the table; None otherwise."""
    today = today or city_today()
    if (today.month, today.day) < (11, 1):
        return None
    next_year = today.year + 1
    if next_year in known_years():
        return None
    return (f"{next_year} 年的节假日安排尚未录入工作日日历：跨入 {next_year} 年的期限只按周末计算，"
            f"属于暂定期限。请运行 flask calendar seed --year {next_year}（软件包更新后）或由工作人员手工录入并确认。")
