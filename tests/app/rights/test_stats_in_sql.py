"""Rights statistics are counted by the database (issue 22, defect 11c): a city files thousands of cases a month, so
the statistics read one row per kind and day, never one per case; the figures are the same as counted by hand."""

from __future__ import annotations

from datetime import date

import time_machine
from sqlalchemy import event

from app.extensions import db
from app.rights import stats
from app.rights.models import RightsCase


def test_stats_read_rows_per_day_not_per_case(app, rights):
    with time_machine.travel(date(2026, 11, 2), tick=True):  # a Monday: deadline Monday 9 November
        headers = rights.bind("chen")
        refs = [rights.object(rights.report(person="chen", days_ago=30 + n), headers=headers).get_json()["ref"]
                for n in range(12)]
    with time_machine.travel(date(2026, 11, 4), tick=True):
        for ref in refs[:8]:
            assert rights.decide_objection(ref, "upheld").status_code == 200
    with time_machine.travel(date(2026, 11, 12), tick=True):
        for ref in refs[8:10]:
            assert rights.decide_objection(ref, "dismissed").status_code == 200

    fetched = []
    with app.app_context():
        engine = db.engine

        def count_rows(conn, cursor, statement, parameters, context, executemany):
            if "rights_case" in statement:
                fetched.append(statement)

        event.listen(engine, "after_cursor_execute", count_rows)
        try:
            figures = stats.rights_stats(date(2026, 11, 1), date(2026, 11, 30))
        finally:
            event.remove(engine, "after_cursor_execute", count_rows)
        case_rows = db.session.query(RightsCase).count()
    assert case_rows == 12
    objections = next(kind for kind in figures["kinds"] if kind["kind"] == "objection")
    november = objections["months"][0]
    assert november["month"] == "2026-11"
    assert (november["received"], november["decided"], november["decided_on_time"], november["upheld"]) == (
        12, 10, 8, 8)
    # 2 working days for eight (2 -> 4 November), 8 for two (2 -> 12 November): (8 * 2 + 2 * 8) / 10.
    assert november["avg_working_days"] == 3.2 and november["on_time_pct"] == 80.0
    assert fetched, "the statistics read the cases"
    assert all("count(" in sql.lower() or "sum(" in sql.lower() for sql in fetched), fetched
