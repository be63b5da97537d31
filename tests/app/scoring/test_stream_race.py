"""A city-wide recompute reads every record through one cursor, as of the moment it started. Scores that the
every-few-seconds job writes meanwhile, from records that arrived after that moment, must survive it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.records import service as records
from app.scoring import service as scoring
from app.timeutil import city_today
from tests.factories import gen_citizen, gen_department, new_id_number


def test_a_score_rescored_from_newer_records_during_a_full_run_is_kept(ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the streaming read of a city-wide recompute runs on PostgreSQL")
    first = gen_citizen("甲一", new_id_number())
    last_number = new_id_number()
    last = gen_citizen("乙二", last_number)
    department, _ = gen_department("SX_RACE", ["LA_PENALTY_GENERAL"])
    before = scoring.current_score(last).total

    def meanwhile(stats):
        if stats.last_citizen_id != first.id:
            return
        # The full run has read everyone (its cursor's snapshot) and scored the first citizen. Now a batch
        # arrives for the last one, and the every-few-seconds job rescores them from it.
        day = (city_today() - timedelta(days=3)).isoformat()
        records.ingest(department, [{"external_id": "RACE-1", "id_number": last_number,
                                     "type_code": "LA_PENALTY_GENERAL", "occurred_at": day}],
                       recompute_inline=False)
        assert scoring.recompute("changed").processed == 1

    run = scoring.recompute("all", chunk_size=1, on_chunk=meanwhile)
    assert run.processed >= 2
    db.session.expire_all()
    stored = scoring.current_score(last)
    assert stored.total == scoring.explain(last).total < before
