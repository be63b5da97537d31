"""Benchmark of the pure scoring engine (score_model) on synthetic Shaoxing citizens.

    python bench/score_engine_pure.py [N]

Measures, on one core, citizens per second for ``compute_totals`` (the batch-recompute fast path) and for
``compute_score`` (the explained path). Generating the citizens is excluded from the timing. The goal for the
fast path is >= 100,000 citizens/s at ~8.5 records per citizen (3.89 M adults, 33 M records, seed 000).
"""

from __future__ import annotations

import datetime as dt
import gc
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

if __name__ == "__main__" and __package__ in (None, ""):
    # Run as a script from anywhere: make the project root importable (importers must do that themselves).
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from score_model import RecordInput, compute_score, compute_totals, load_rules  # noqa: E402

BENCH_AS_OF = dt.date(2025, 6, 30)

# Relative frequency of each record type besides the public evaluation (generated separately). Mostly the good
# records a city collects in bulk (commitments kept, volunteer hours, blood donations), few penalties, rare
# criminal judgments and list entries. XX_LEGACY stands for a code the rules do not know.
_TYPE_WEIGHTS: dict[str, float] = {
    "CM_KEPT_ENV": 0.90,
    "CM_KEPT_TRAFFIC": 0.90,
    "CM_KEPT_PET": 0.35,
    "CM_KEPT_TOURISM": 0.50,
    "CM_KEPT_VILLAGE": 0.60,
    "CM_KEPT_REPAIR": 0.03,
    "HN_VOLUNTEER": 1.90,
    "HN_BLOOD_DONATION": 0.90,
    "HN_DONATION": 0.45,
    "HN_HONOUR_CITY": 0.05,
    "HN_HONOUR_PROVINCIAL": 0.01,
    "HN_HONOUR_NATIONAL": 0.001,
    "CM_BROKEN": 0.12,
    "CM_FALSE": 0.02,
    "LA_PENALTY_GENERAL": 0.30,
    "LA_PENALTY_SERIOUS": 0.04,
    "LA_FORCED_ENFORCEMENT": 0.03,
    "LA_TAX_ARREARS": 0.05,
    "LA_CRIMINAL": 0.006,
    "LA_JUDGMENT_DEBTOR": 0.015,
    "LA_SERIOUS_DISHONESTY": 0.004,
    "XX_LEGACY": 0.01,
}
_ADVERSE_PREFIXES = ("LA_", "CM_BROKEN", "CM_FALSE")
_GRADES = ("优秀", "良好", "中等", "较差", "差")
_GRADE_WEIGHTS = (0.22, 0.48, 0.24, 0.045, 0.015)
_MEAN_OTHER_RECORDS = 7.45  # plus ~1.0 evaluation and ~0.03 incident partners: ~8.5 records per adult
# Activity is uneven: many adults have few records, a few volunteers and donors have dozens. A gamma-mixed
# Poisson (negative binomial) gives that long tail; shape 1.5 is a guess, not a measured figure.
_ACTIVITY_SHAPE = 1.5


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: fine for small means, and the stdlib has no Poisson sampler.
    limit = math.exp(-mean)
    k, p = 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _status(rng: random.Random, adverse: bool) -> str:
    x = rng.random()
    if adverse:
        # Adverse records are the ones citizens contest and repair.
        if x < 0.04:
            return "disputed"
        if x < 0.10:
            return "repaired"
        if x < 0.11:
            return "revoked"
        if x < 0.14:
            return "expired"
        return "active"
    if x < 0.005:
        return "disputed"
    if x < 0.015:
        return "revoked"
    if x < 0.045:
        return "expired"
    return "active"


def make_synthetic_citizens(n: int, seed: int = 20250630, as_of: dt.date = BENCH_AS_OF) -> Iterator[list[RecordInput]]:
    """Yield ``n`` citizens, each a list of RecordInput, with a Shaoxing-like mix of records (deterministic)."""
    rng = random.Random(seed)
    codes = list(_TYPE_WEIGHTS)
    weights = list(_TYPE_WEIGHTS.values())
    seq = 0
    for citizen in range(n):
        records: list[RecordInput] = []

        def ref() -> str:
            nonlocal seq
            seq += 1
            return f"r{seq}"

        # Public evaluation: most adults have a current one, some also an older one (superseded or expired).
        if rng.random() < 0.85:
            records.append(
                RecordInput(
                    ref(),
                    "PC_EVAL",
                    "active",
                    as_of - dt.timedelta(days=rng.randrange(0, 365)),
                    grade=rng.choices(_GRADES, _GRADE_WEIGHTS)[0],
                )
            )
            if rng.random() < 0.20:
                records.append(
                    RecordInput(
                        ref(),
                        "PC_EVAL",
                        "active",
                        as_of - dt.timedelta(days=rng.randrange(300, 730)),
                        grade=rng.choices(_GRADES, _GRADE_WEIGHTS)[0],
                    )
                )

        activity = rng.gammavariate(_ACTIVITY_SHAPE, _MEAN_OTHER_RECORDS / _ACTIVITY_SHAPE)
        for code in rng.choices(codes, weights, k=_poisson(rng, activity)):
            adverse = code.startswith(_ADVERSE_PREFIXES)
            # Up to four years back, so a fair share is already past its validity.
            occurred = as_of - dt.timedelta(days=rng.randrange(0, 1460))
            quantity = 1
            if code == "HN_VOLUNTEER":
                quantity = rng.randrange(2, 80)
            elif code == "HN_BLOOD_DONATION":
                quantity = 1 if rng.random() < 0.8 else rng.randrange(2, 4)
            expires = None
            if code == "LA_JUDGMENT_DEBTOR" and rng.random() < 0.3:
                # Courts often set the listing period themselves.
                expires = occurred + dt.timedelta(days=rng.choice((365, 730, 1095)))
            incident = None
            if code == "LA_FORCED_ENFORCEMENT" or (code == "CM_BROKEN" and rng.random() < 0.2):
                # Forced enforcement of a penalty decision, or a broken commitment that also drew a penalty:
                # the same incident reported twice.
                incident = f"i{citizen}-{len(records)}"
                partner = "LA_PENALTY_SERIOUS" if rng.random() < 0.2 else "LA_PENALTY_GENERAL"
                records.append(
                    RecordInput(
                        ref(),
                        partner,
                        _status(rng, True),
                        occurred - dt.timedelta(days=rng.randrange(0, 60)),
                        incident_id=incident,
                    )
                )
            records.append(
                RecordInput(
                    ref(),
                    code,
                    _status(rng, adverse),
                    occurred,
                    expires_at=expires,
                    incident_id=incident,
                    quantity=quantity,
                )
            )
        yield records


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def bench_engine(n: int = 100_000, seed: int = 20250630, score_n: int | None = None, verbose: bool = True) -> dict:
    """Time compute_totals and compute_score over ``n`` synthetic citizens (``score_n`` for the slow path).

    Returns the figures as a dict and prints them when ``verbose``.
    """
    rules = load_rules("v1")
    as_of = BENCH_AS_OF
    citizens = list(make_synthetic_citizens(n, seed, as_of))
    score_n = n if score_n is None else min(score_n, n)
    records = sum(len(c) for c in citizens)

    # Keep the generated objects out of the cyclic collector's way, as a streaming batch job would.
    gc.collect()
    gc.freeze()
    try:
        t0 = time.perf_counter()
        totals = [compute_totals(c, as_of, rules) for c in citizens]
        t_totals = time.perf_counter() - t0

        t0 = time.perf_counter()
        results = [compute_score(c, as_of, rules) for c in citizens[:score_n]]
        t_score = time.perf_counter() - t0
    finally:
        gc.unfreeze()

    mismatches = sum(1 for res, tot in zip(results, totals, strict=False) if res.totals != tot)
    levels = Counter(t[5] for t in totals)
    figures = {
        "citizens": n,
        "records": records,
        "records_per_citizen": records / n if n else 0.0,
        "totals_seconds": t_totals,
        "totals_citizens_per_s": _rate(n, t_totals),
        "totals_records_per_s": _rate(records, t_totals),
        "score_citizens": score_n,
        "score_seconds": t_score,
        "score_citizens_per_s": _rate(score_n, t_score),
        "mismatches": mismatches,
        "mean_total": sum(t[0] for t in totals) / n if n else 0.0,
        "level_share": {lv: levels[lv] / n for lv in range(6)} if n else {},
    }
    if verbose:
        print(
            f"score_model bench: {n:,} citizens, {records:,} records ({figures['records_per_citizen']:.2f}/citizen), "
            f"rules {rules.version}, as of {as_of}, Python {sys.version.split()[0]}"
        )
        print(
            f"  compute_totals: {figures['totals_citizens_per_s']:>12,.0f} citizens/s "
            f"({figures['totals_records_per_s']:,.0f} records/s, {t_totals:.2f} s)"
        )
        print(
            f"  compute_score:  {figures['score_citizens_per_s']:>12,.0f} citizens/s "
            f"({score_n:,} citizens, {t_score:.2f} s)"
        )
        print(f"  paths agree on {score_n - mismatches:,}/{score_n:,} citizens; mean total {figures['mean_total']:.1f}")
        print(
            "  levels: "
            + ", ".join(
                f"L{lv} {rules.level_name(lv)} {share:.1%}" for lv, share in sorted(figures["level_share"].items())
            )
        )
    return figures


if __name__ == "__main__":
    bench_engine(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
