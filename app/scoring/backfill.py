"""Score history reconstructed from the records: what each consenting citizen's score was at past dates, given
the records (as they stand today) that had occurred by then.

For a city whose records were loaded at once (the demo city; a city moving onto this system), so that the
dashboard's levels-over-time chart has a past. Rows are written only before a citizen's first real history
entry and only when the score changed since the previous date, like a recompute.
"""

from __future__ import annotations

from datetime import UTC, date, timedelta

from sqlalchemy import func, insert, select

from app.citizens.models import Citizen
from app.citizens.service import scoring_consent_clause
from app.extensions import db
from app.scoring.models import ScoreHistory
from app.scoring.service import _SCORE_FIELDS, records_of, rules
from app.scoring.stats import end_of_city_day
from score_model import compute_totals

_CHUNK = 1000


def reconstruct_history(dates: list[date]) -> int:
    """History entries at the end of each of ``dates`` (oldest first); returns how many were written."""
    score_rules = rules()
    written, after = 0, 0
    dates = sorted(dates)
    while True:
        ids = list(db.session.scalars(select(Citizen.id).where(Citizen.id > after, scoring_consent_clause())
                                      .order_by(Citizen.id).limit(_CHUNK)))
        if not ids:
            return written
        after = ids[-1]
        first_real = dict(db.session.execute(
            select(ScoreHistory.citizen_id, func.min(ScoreHistory.computed_at))
            .where(ScoreHistory.citizen_id.in_(ids)).group_by(ScoreHistory.citizen_id)).all())
        grouped = records_of(ids)
        rows = []
        for citizen_id in ids:
            previous = None
            for day in dates:
                moment = end_of_city_day(day)
                if citizen_id in first_real and moment > first_real[citizen_id]:
                    break
                records = [r for r in grouped.get(citizen_id, ()) if r.occurred_at <= day]
                totals = compute_totals(records, day, score_rules)
                if totals == previous:
                    continue
                previous = totals
                rows.append({"citizen_id": citizen_id, **dict(zip(_SCORE_FIELDS, totals, strict=True)),
                             "rules_version": score_rules.version,
                             "computed_at": (moment - timedelta(seconds=1)).astimezone(UTC)})
        if rows:
            db.session.execute(insert(ScoreHistory.__table__), rows)
            written += len(rows)
        db.session.commit()
