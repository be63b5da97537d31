"""next_change: the stored date on which a score can change by itself. Nothing may change before it."""

from __future__ import annotations

import datetime as dt
import random

from score_model import RecordInput, compute_totals, next_change

from .conftest import AS_OF
from .test_equivalence import random_citizen


def test_score_is_constant_until_next_change_and_it_is_a_real_boundary(rules):
    rng = random.Random(2026)
    codes = sorted(rules.catalog)
    changed_on_the_day = 0
    for _ in range(400):
        records = random_citizen(rng, codes, n_max=12)
        as_of = AS_OF + dt.timedelta(days=rng.randint(-400, 400))
        day = next_change(records, as_of, rules)
        before = compute_totals(records, as_of, rules)
        horizon = day or as_of + dt.timedelta(days=2500)
        assert horizon > as_of
        # Every day strictly before the next change gives the same score (sampled, with both ends).
        span = (horizon - as_of).days
        for offset in {1, span - 1, *(rng.randint(1, max(span - 1, 1)) for _ in range(5))}:
            if 0 < offset < span:
                assert compute_totals(records, as_of + dt.timedelta(days=offset), rules) == before
        if day is not None and compute_totals(records, day, rules) != before:
            changed_on_the_day += 1
    # The date is not merely safe (e.g. "tomorrow" always): it is often the day the score moves.
    assert changed_on_the_day > 50


def test_expiry_start_and_nothing(rules):
    as_of = dt.date(2026, 6, 1)
    penalty = RecordInput("a", "LA_PENALTY_GENERAL", "active", dt.date(2026, 1, 1), dt.date(2026, 9, 1))
    later = RecordInput("b", "LA_PENALTY_GENERAL", "active", dt.date(2026, 7, 1))
    revoked = RecordInput("c", "LA_PENALTY_GENERAL", "revoked", dt.date(2026, 7, 1))
    assert next_change([penalty], as_of, rules) == dt.date(2026, 9, 1)
    assert next_change([penalty, later, revoked], as_of, rules) == dt.date(2026, 7, 1)
    assert next_change([revoked], as_of, rules) is None
    assert next_change([], as_of, rules) is None
