"""Score engine benchmarks: the pure engine, the end-to-end city recompute, and its memory.

    python bench/score_engine.py engine [--n 200000]          # pure engine, one core
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/15 \\
    python bench/score_engine.py e2e [--n 100000]             # `recompute --all` on PostgreSQL + Redis
    DATABASE_URL=… python bench/score_engine.py memory [--sizes 20000,100000]
    DATABASE_URL=… python bench/score_engine.py all

The end-to-end run loads N synthetic citizens (Shaoxing's mix, ~8.5 records each) straight into the
database with COPY, then times the same `scoring.service.recompute("all")` that `flask scores recompute
--all` runs: once when every score is new (all written) and once when nothing changed (read and compute
only). Memory: the e2e run is repeated in fresh processes at two sizes and their peak RSS compared — flat
memory means the recompute streams. The database named by DATABASE_URL is wiped: use a scratch database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after the project: bench/ has scripts named like packages

from score_engine_pure import bench_engine, make_synthetic_citizens  # noqa: E402


def _app():
    from app.config import Config
    from app.factory import create_app

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL to a scratch PostgreSQL database (it will be wiped)")
    if not os.environ.get("REDIS_URL"):
        # Without it the in-process store would hold the score-cache invalidations and count as our memory.
        sys.exit("set REDIS_URL too (e.g. redis://127.0.0.1:6379/15): production runs on Redis")
    return create_app(Config, INSTANCE_PATH=Path("/tmp/xyf-bench"), KEYS_DIR=Path("/tmp/xyf-bench/keys"),
                      LOG_LEVEL="WARNING")


def _load(n: int, seed: int = 7) -> float:
    """Wipe and load N citizens with scoring consent and their records; returns seconds taken."""
    from app.extensions import db

    started = time.perf_counter()
    today = dt.date.today()
    engine = db.engine
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "TRUNCATE audit_entry, audit_pending, score_history, score, credit_record, consent, wechat_account, "
            "citizen, department_key, department RESTART IDENTITY CASCADE")
        connection.exec_driver_sql("INSERT INTO department (code, name, record_types, active, created_at) "
                                   "VALUES ('BENCH', '压测部门', '[]', true, now())")
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy("COPY citizen (id, ref, name, id_cipher, id_index, id_masked, birth_date, "
                         "needs_recompute, created_at) FROM STDIN") as copy:
            for citizen_id in range(1, n + 1):
                copy.write_row((citizen_id, f"{citizen_id:032x}", "压测", b"\x00", f"{citizen_id:064x}",
                                "3306**********0000", dt.date(1980, 1, 1), False, dt.datetime.now(dt.UTC)))
        with cursor.copy("COPY consent (citizen_id, kind, granted_at, channel) FROM STDIN") as copy:
            for citizen_id in range(1, n + 1):
                copy.write_row((citizen_id, "scoring", dt.datetime.now(dt.UTC), "bench"))
        with cursor.copy("COPY credit_record (ref, citizen_id, department_id, external_id, type_code, status, "
                         "occurred_at, expires_at, incident_id, grade, quantity, content_digest, created_at, "
                         "updated_at) FROM STDIN") as copy:
            now = dt.datetime.now(dt.UTC)
            serial = 0
            for citizen_id, records in enumerate(make_synthetic_citizens(n, seed, as_of=today), start=1):
                for record in records:
                    serial += 1
                    copy.write_row((f"r{serial:031x}", citizen_id, 1, f"B-{serial}", record.type_code,
                                    record.status, record.occurred_at, record.expires_at, record.incident_id,
                                    record.grade, record.quantity, "-", now, now))
        cursor.execute("SELECT setval('citizen_id_seq', %s)", (n,))
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - started


def bench_e2e(n: int, verbose: bool = True) -> dict:
    from app.extensions import db
    from app.scoring import service

    app = _app()
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        load_seconds = _load(n)
        records = db.session.scalar(db.text("SELECT count(*) FROM credit_record"))
        db.session.commit()
        started = time.perf_counter()
        first = service.recompute("all", reason="压测")
        cold = time.perf_counter() - started
        started = time.perf_counter()
        second = service.recompute("all", reason="压测")
        warm = time.perf_counter() - started
    result = {
        "citizens": n, "records": records, "load_seconds": round(load_seconds, 1),
        "all_new_citizens_per_s": round(first.processed / cold), "all_new_changed": first.changed,
        "unchanged_citizens_per_s": round(second.processed / warm), "unchanged_changed": second.changed,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if verbose:
        print(f"end-to-end recompute --all on PostgreSQL, {n:,} citizens / {records:,} records "
              f"(loaded in {load_seconds:.1f} s):")
        print(f"  every score new (written, audited, history): {result['all_new_citizens_per_s']:>9,} citizens/s")
        print(f"  nothing changed (read + compute only):       {result['unchanged_citizens_per_s']:>9,} citizens/s")
        print(f"  peak RSS of this process: {result['peak_rss_mb']} MB")
    return result


def recompute_only() -> dict:
    """Run `recompute --all` over what is loaded, in this (fresh) process, and report its peak memory."""
    from app.extensions import db
    from app.scoring import service

    app = _app()
    with app.app_context():
        db.session.execute(db.text("TRUNCATE score, score_history, audit_entry, audit_pending"))
        db.session.commit()
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        stats = service.recompute("all", reason="压测")
        seconds = time.perf_counter() - started
    return {"citizens": stats.processed, "baseline_rss_mb": round(baseline, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "citizens_per_s": round(stats.processed / seconds)}


def bench_memory(sizes: list[int]) -> list[dict]:
    """Load each size, then recompute it in a fresh process: only the recompute's own peak is measured."""
    results = []
    for size in sizes:
        subprocess.run([sys.executable, __file__, "load", "--n", str(size)], check=True, capture_output=True)
        output = subprocess.run([sys.executable, __file__, "recompute-only", "--json"], check=True,
                                capture_output=True, text=True).stdout
        results.append(json.loads(output.strip().splitlines()[-1]))
    print("peak memory of `recompute --all` (fresh process each, after the app has started):")
    for result in results:
        print(f"  {result['citizens']:>9,} citizens: {result['peak_rss_mb']:>7} MB peak RSS "
              f"(app started: {result['baseline_rss_mb']} MB; {result['citizens_per_s']:,} citizens/s, all new)")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["engine", "e2e", "memory", "all", "load", "recompute-only"])
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--sizes", default="20000,100000")
    parser.add_argument("--json", action="store_true", help="print one JSON line (used by `memory`)")
    args = parser.parse_args()
    if args.what in ("engine", "all"):
        bench_engine(args.n or 200_000)
    if args.what in ("e2e", "all"):
        result = bench_e2e(args.n or 100_000, verbose=not args.json)
        if args.json:
            print(json.dumps(result))
    if args.what == "load":
        app = _app()
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            _load(args.n or 100_000)
    if args.what == "recompute-only":
        print(json.dumps(recompute_only()))
    if args.what in ("memory", "all"):
        bench_memory([int(size) for size in args.sizes.split(",")])


if __name__ == "__main__":
    main()
