"""The year-end rating of the whole city's 村社积分 (社区版 / 乡村版), beside a floor.

    python bench/community_rating.py [--schemes 2500] [--members 40] [--entries 10] [--keep]

Creates a scratch database ``xyf_bench_community`` on the local PostgreSQL (dropped at the end unless ``--keep``),
loads with COPY: ``--schemes`` divisions and schemes (one approved rulebook each), households of three,
``--members`` members per scheme (citizen rows with placeholder ciphers), and ``--entries`` posted ledger entries
per member in the year (about one in fifteen a deduction). Then measures:

- floor: one plain SQL aggregate over the same rows — per member, the year's net points and deductions
  (``SELECT member_id, sum(points), … GROUP BY member_id``), every row fetched;
- the rating run's computation for every scheme (``ratings.preview_city``: the same aggregate a chunk of schemes
  at a time, members and households read, thresholds applied, the ratings each scheme would confirm).

Confirming then pushes the ratings as records through app/records' ingest, measured by bench/city.py's batch
figure. The city: about 2,500 villages and communities; tens of millions of entries a year.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = "postgresql://postgres@127.0.0.1:5432"
DB = "xyf_bench_community"
YEAR = 2026


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as connection:
        connection.execute(sql)


def _app():
    from app.config import Config
    from app.factory import create_app

    instance = Path(tempfile.gettempdir()) / "xyf-bench-community"
    return create_app(Config, INSTANCE_PATH=instance, KEYS_DIR=instance / "keys", LOG_LEVEL="WARNING",
                      SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB}",
                      REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"))


def load(schemes: int, members: int, entries: int) -> int:
    """COPY the synthetic city into the scratch database; returns the number of ledger entries."""
    import psycopg

    rng = random.Random(20261206)
    now = dt.datetime.now(dt.UTC)
    start = dt.date(YEAR, 1, 1)
    total = 0
    with psycopg.connect(f"{PG}/{DB}") as connection, connection.cursor() as cursor:
        with cursor.copy("COPY division (id, code, name, kind, town, county, updated_at) FROM STDIN") as copy:
            for s in range(1, schemes + 1):
                copy.write_row((s, f"3306{s:08d}", f"村{s}", "村" if s % 3 else "社区", "镇", "县", now))
        with cursor.copy("COPY points_scheme (id, ref, division_id, name, publicity_days, active, created_at) "
                         "FROM STDIN") as copy:
            for s in range(1, schemes + 1):
                copy.write_row((s, f"s{s:031d}", s, f"村{s}积分", 5, True, now))
        with cursor.copy("COPY points_rulebook (id, ref, scheme_id, version, adopted_on, adopted_by, state, "
                         "created_at) FROM STDIN") as copy:
            for s in range(1, schemes + 1):
                copy.write_row((s, f"r{s:031d}", s, 1, start, "村民代表会议", "approved", now))
        with cursor.copy("COPY points_rule_item (id, ref, rulebook_id, code, name, category, points, unit, "
                         "cap_period, evidence_required) FROM STDIN") as copy:
            for s in range(1, schemes + 1):
                for k, (code, points) in enumerate((("VOL", 10), ("CLEAN", 5), ("LITTER", -10))):
                    copy.write_row((s * 3 + k, f"i{s * 3 + k:031d}", s, code, code, "其他", points, "次", "month",
                                    False))
        with cursor.copy("COPY citizen (id, ref, name, id_cipher, id_index, id_masked, birth_date, "
                         "needs_recompute, status, created_at) FROM STDIN") as copy:
            for m in range(1, schemes * members + 1):
                copy.write_row((m, f"c{m:031d}", f"居民{m}", b"x", f"{m:064d}", "3306**********0000",
                                dt.date(1960 + m % 40, 1, 1), False, "active", now))
        with cursor.copy("COPY points_household (id, ref, scheme_id, name, grid, show_on_honour_board, "
                         "created_at) FROM STDIN") as copy:
            for s in range(1, schemes + 1):
                for h in range((members + 2) // 3):
                    hid = (s - 1) * ((members + 2) // 3) + h + 1
                    copy.write_row((hid, f"h{hid:031d}", s, f"户{hid}", "", False, now))
        with cursor.copy("COPY points_member (id, ref, scheme_id, household_id, citizen_id, is_head, balance, "
                         "show_on_honour_board, joined_at) FROM STDIN") as copy:
            for s in range(1, schemes + 1):
                for i in range(members):
                    m = (s - 1) * members + i + 1
                    hid = (s - 1) * ((members + 2) // 3) + i // 3 + 1
                    copy.write_row((m, f"m{m:031d}", s, hid, m, i % 3 == 0, 0, False, now))
        with cursor.copy("COPY points_entry (ref, scheme_id, member_id, item_id, kind, points, quantity, "
                         "occurred_on, period, note, state, idempotency_key, posted_at, created_at) "
                         "FROM STDIN") as copy:
            for s in range(1, schemes + 1):
                for i in range(members):
                    m = (s - 1) * members + i + 1
                    for _ in range(entries):
                        deduct = rng.random() < 1 / 15
                        points = -10 if deduct else rng.choice((10, 20, 30, 5))
                        day = start + dt.timedelta(days=rng.randrange(365))
                        total += 1
                        copy.write_row((f"e{total:031d}", s, m, s * 3 + (2 if deduct else 0),
                                        "deduct" if deduct else "earn", points, 1, day, f"{day:%Y-%m}", "",
                                        "posted", f"k{total}", now, now))
        for table in ("division", "points_scheme", "points_rulebook", "points_rule_item", "citizen",
                      "points_household", "points_member"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cursor.execute("ANALYZE")
        connection.commit()
    return total


def floor_seconds() -> tuple[float, int]:
    import psycopg

    best, rows = float("inf"), 0
    with psycopg.connect(f"{PG}/{DB}") as connection:
        for _ in range(2):
            began = time.perf_counter()
            rows = len(connection.execute(
                "SELECT member_id, sum(points), sum(CASE WHEN points < 0 THEN 1 ELSE 0 END) FROM points_entry "
                "WHERE state = 'posted' AND kind <> 'spend' AND occurred_on BETWEEN %s AND %s GROUP BY member_id",
                (dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31))).fetchall())
            best = min(best, time.perf_counter() - began)
    return best, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schemes", type=int, default=2500)
    parser.add_argument("--members", type=int, default=40, help="members per scheme")
    parser.add_argument("--entries", type=int, default=10, help="posted entries per member in the year")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    _admin(f"DROP DATABASE IF EXISTS {DB}")
    _admin(f"CREATE DATABASE {DB}")
    try:
        app = _app()
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
        began = time.perf_counter()
        total = load(args.schemes, args.members, args.entries)
        print(f"loaded {args.schemes:,} schemes, {args.schemes * args.members:,} members, {total:,} entries "
              f"in {time.perf_counter() - began:.1f} s (COPY)")
        floor, rows = floor_seconds()
        print(f"floor: one SQL aggregate over the year's entries, {rows:,} member rows fetched: {floor:.2f} s "
              f"(best of two)")
        with app.app_context():
            from app.community import ratings

            runs = []
            for _ in range(2):
                began = time.perf_counter()
                counts = ratings.preview_city(YEAR)
                runs.append(time.perf_counter() - began)
        best = min(runs)
        print(f"year-end rating of every scheme (ratings.preview_city): {best:.2f} s (best of two), "
              f"{best / floor:.1f} x the floor; {counts['households']:,} households and {counts['people']:,} "
              f"people rated in {counts['schemes']:,} schemes")
        print(f"per million entries: rating {best / total * 1e6:.2f} s, floor {floor / total * 1e6:.2f} s")
    finally:
        if not args.keep:
            from app.extensions import db

            with app.app_context():
                db.engine.dispose()
            _admin(f"DROP DATABASE IF EXISTS {DB}")


if __name__ == "__main__":
    main()
