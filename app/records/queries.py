"""Read-only views of records: a department's own records (the department desk) and the dashboard's aggregate of
records pushed per department and week."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, cast, func, or_, select

from app.extensions import db
from app.records.models import RECORD_STATUSES, Department, Record
from app.timeutil import CITY_TZ


def department_records(department_id: int, *, search: str | None = None, status: str | None = None,
                       type_code: str | None = None, page: int = 1, per_page: int = 20) -> tuple[list[Record], int]:
    """One page of the records this department pushed, newest first; ``search`` matches the external id or the
    record's ref exactly or the external id by prefix."""
    stmt = select(Record).where(Record.department_id == department_id)
    if search:
        stmt = stmt.where(or_(Record.external_id.startswith(search, autoescape=True), Record.ref == search))
    if status in RECORD_STATUSES:
        stmt = stmt.where(Record.status == status)
    if type_code:
        stmt = stmt.where(Record.type_code == type_code)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = db.session.scalars(stmt.order_by(Record.created_at.desc(), Record.id.desc())
                               .limit(per_page).offset((page - 1) * per_page)).all()
    return list(items), total


def status_counts(department_id: int) -> dict[str, int]:
    rows = db.session.execute(select(Record.status, func.count()).where(Record.department_id == department_id)
                              .group_by(Record.status)).all()
    found = dict(rows)
    return {status: int(found.get(status, 0)) for status in RECORD_STATUSES}


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _city_day(column):
    """The city date of a UTC timestamp column, in SQL. Shanghai keeps +8 hours all year (no daylight saving),
    which is what SQLite's date arithmetic needs; PostgreSQL converts by the zone's name."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(CITY_TZ.key, column), Date)
    return func.date(column, "+8 hours")


def records_per_department_week(date_from: date, date_to: date) -> dict:
    """Records first pushed (created) per department and ISO week (Monday, city time) within the range."""
    start = datetime.combine(date_from, time.min, tzinfo=CITY_TZ)
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=CITY_TZ)
    weeks = []
    monday = week_start(date_from)
    while monday <= date_to:
        weeks.append(monday)
        monday += timedelta(days=7)
    departments = db.session.execute(select(Department.id, Department.code, Department.name)
                                     .order_by(Department.code)).all()
    # Counted per department and city day in the database (a city pushes millions of records in twelve weeks:
    # fetching them to count in Python took longer than the page can wait), folded into weeks here.
    day = _city_day(Record.created_at)
    counts: dict[tuple[int, date], int] = {}
    rows = db.session.execute(select(Record.department_id, day, func.count())
                              .where(Record.created_at >= start, Record.created_at < end)
                              .group_by(Record.department_id, day))
    for department_id, city_day, count in rows:
        city_day = city_day if isinstance(city_day, date) else date.fromisoformat(city_day)
        key = (department_id, week_start(city_day))
        counts[key] = counts.get(key, 0) + count
    return {
        "from": date_from.isoformat(), "to": date_to.isoformat(),
        "weeks": [monday.isoformat() for monday in weeks],
        "departments": [{"code": code, "name": name, "counts": [counts.get((dep_id, w), 0) for w in weeks]}
                        for dep_id, code, name in departments],
    }


def records_by_refs(refs: list[str]) -> dict[str, Record]:
    found: dict[str, Record] = {}
    for start in range(0, len(refs), 900):
        for record in db.session.scalars(select(Record).where(Record.ref.in_(refs[start:start + 900]))):
            found[record.ref] = record
    return found
