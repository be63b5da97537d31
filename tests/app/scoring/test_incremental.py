"""The nightly job rescores only citizens whose score can have changed; it must give exactly the scores of
rescoring everyone, day after day, with records starting and stopping to count, new records and new rules."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.records import service as records
from app.scoring import service as scoring
from app.scoring.models import Score, ScoreHistory
from app.timeutil import city_today
from tests.factories import gen_citizen, gen_department, new_id_number

TYPES = ["LA_PENALTY_GENERAL", "LA_TAX_ARREARS", "CM_KEPT_ENV", "CM_BROKEN", "HN_VOLUNTEER", "HN_HONOUR_CITY",
         "PC_EVAL", "LA_JUDGMENT_DEBTOR"]


def _stored() -> dict:
    return {row[0]: tuple(row[1:]) for row in db.session.execute(
        select(Score.citizen_id, Score.total, Score.public, Score.law, Score.commitment, Score.honour, Score.level,
               Score.rules_version))}


def _rows(rng: random.Random, numbers: list[str], today, prefix: str, count: int) -> list[dict]:
    rows = []
    for i in range(count):
        code = rng.choice(TYPES)
        occurred = today - timedelta(days=rng.randint(0, 800))
        row = {"external_id": f"{prefix}-{i}", "id_number": rng.choice(numbers), "type_code": code,
               "occurred_at": occurred.isoformat()}
        if code == "PC_EVAL":
            row["grade"] = rng.choice(["优秀", "良好", "较差"])
        if code == "HN_VOLUNTEER":
            row["quantity"] = rng.randint(1, 40)
        if rng.random() < 0.2:
            row["expires_at"] = (occurred + timedelta(days=rng.randint(1, 500))).isoformat()
        rows.append(row)
    return rows


def test_nightly_incremental_and_full_recompute_give_identical_scores(ctx):
    rng = random.Random(14)
    today = city_today()
    numbers = [new_id_number() for _ in range(25)]
    for i, number in enumerate(numbers):
        gen_citizen(f"市民{i}", number, consent=i % 7 != 3)
    department, _ = gen_department("SX_ALL", TYPES)
    records.ingest(department, _rows(rng, numbers, today, "A", 150), recompute_inline=False)
    scoring.recompute("all", as_of=today)

    touched_per_night, changed_nights = [], 0
    day = today
    for night in range(40):
        day += timedelta(days=rng.choice([1, 3, 11, 29]))
        if night % 9 == 4:  # a queued batch arrives in the evening: its citizens are marked
            records.ingest(department, _rows(rng, numbers, today, f"N{night}", 12), recompute_inline=False)
        if night == 20:  # scores computed by other rules (a rules change): everyone is due
            db.session.execute(update(Score).values(rules_version="v0"))
            db.session.commit()
        nightly = scoring.recompute("due", as_of=day, chunk_size=4)
        after_nightly = _stored()
        full = scoring.recompute("all", as_of=day, chunk_size=4)
        assert full.changed == 0, f"night {night}: the full run found scores the nightly run missed"
        assert _stored() == after_nightly
        touched_per_night.append(nightly.processed)
        changed_nights += nightly.changed > 0
    scored = len(after_nightly)
    assert scored == 25 - 4  # those without scoring consent have no score
    # Only who can change is touched: most nights fewer than everyone, the rules change everyone.
    assert touched_per_night[20] == scored
    assert sum(1 for n in touched_per_night if n < scored) >= 30
    assert changed_nights >= 10  # and scores did move by themselves, so the comparison proves something
    assert db.session.scalar(select(db.func.count()).select_from(ScoreHistory)) > scored


def test_a_score_stores_the_day_it_can_next_change(ctx):
    number = new_id_number()
    citizen = gen_citizen("沈括", number)
    today = city_today()
    department, _ = gen_department("SX_TAX", ["LA_TAX_ARREARS"])
    occurred = today - timedelta(days=10)
    records.ingest(department, [{"external_id": "T-1", "id_number": number, "type_code": "LA_TAX_ARREARS",
                                 "occurred_at": occurred.isoformat()}])
    db.session.expire_all()
    score = scoring.current_score(citizen)
    assert (score.total, score.next_change) == (655 - 40, occurred + timedelta(days=365))
    # The day before, nothing is due; on the day, the nightly run rescores this citizen alone.
    assert scoring.recompute("due", as_of=score.next_change - timedelta(days=1)).processed == 0
    stats = scoring.recompute("due", as_of=score.next_change)
    assert (stats.processed, stats.changed) == (1, 1)
    db.session.expire_all()
    score = scoring.current_score(citizen)
    assert (score.total, score.next_change) == (655, None)
