"""The whole city on PostgreSQL, each figure beside its floor measured in the same run.

    python bench/city.py --n 100000 [--keep]

Creates a scratch database ``xyf_bench_city_<n>`` on the local PostgreSQL (dropped at the end unless ``--keep``),
with Redis DB 14 (``REDIS_URL`` to change it), then:

1. writes a registry CSV of N adults and runs ``flask citizens import`` on it in a fresh process (rate, peak RSS);
   floor: COPY of the same, already encrypted citizen rows into a table like ``citizen`` (same indexes);
   then the same import again (nothing changed: the idempotent re-import);
2. gives everyone scoring consent and ~8.5 synthetic records each (Shaoxing's mix), loaded with COPY;
   floor for reading: ``COPY (SELECT <the columns the recompute reads> FROM credit_record) TO STDOUT``;
3. ``recompute --all`` when every score is new (first computation, COPY writes), in a fresh process;
4. ``recompute --all`` when nothing changed;
5. the nightly job (``recompute due``) on the next day: only citizens whose score can change by itself;
6. a 5,000-row batch, queued, and the every-5-seconds job that makes it visible.

Timings on a shared machine are noisy: the floors are measured in the same run, next to each figure.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))

PG = "postgresql://postgres@127.0.0.1:5432"
READ_COLUMNS = "citizen_id, ref, type_code, status, occurred_at, expires_at, incident_id, grade, quantity"


def _rss_mb() -> float:
    """This process's peak RSS since it started. Not ``ru_maxrss``: Linux carries that over from the parent image
    through fork and exec, so a child started by a large parent would report the parent's size."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _app():
    from app.config import Config
    from app.factory import create_app

    instance = Path(tempfile.gettempdir()) / "xyf-bench-city"
    return create_app(Config, INSTANCE_PATH=instance, KEYS_DIR=instance / "keys", LOG_LEVEL="WARNING")


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as connection:
        connection.execute(sql)


def write_registry(path: Path, n: int) -> None:
    from app.citizens.idnumber import make_id_number

    start = dt.date(1940, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "id_number", "phone", "status"])
        for i in range(n):
            number = make_id_number("330602", start + dt.timedelta(days=i // 1000), i % 1000)
            writer.writerow([f"居民{i}", number, f"138{i:08d}" if i % 2 else "", "在册"])


# -- steps run in fresh processes (their own peak memory) ------------------------------------------------------

def step_import(path: str) -> dict:
    app = _app()
    baseline = _rss_mb()
    runner = app.test_cli_runner()
    started = time.perf_counter()
    result = runner.invoke(args=["citizens", "import", path, "--chunk-size", "5000"])
    seconds = time.perf_counter() - started
    if result.exit_code != 0:
        raise SystemExit(result.output + repr(result.exception))
    summary = result.output.strip().splitlines()[-1]
    return {"seconds": round(seconds, 2), "output": summary, "baseline_rss_mb": baseline, "peak_rss_mb": _rss_mb()}


def step_recompute(mode: str, as_of: str | None) -> dict:
    from app.scoring import service

    app = _app()
    with app.app_context():
        baseline = _rss_mb()
        started = time.perf_counter()
        stats = service.recompute(mode, reason="压测", as_of=dt.date.fromisoformat(as_of) if as_of else None)
        seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "processed": stats.processed, "changed": stats.changed,
            "baseline_rss_mb": baseline, "peak_rss_mb": _rss_mb()}


def _child(*args: str) -> dict:
    output = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True,
                            env=os.environ.copy()).stdout
    return json.loads(output.strip().splitlines()[-1])


# -- floors -----------------------------------------------------------------------------------------------------

def floor_write_citizens(raw) -> float:
    """COPY of the citizen rows the import wrote, into an empty table with citizen's columns and indexes."""
    cursor = raw.cursor()
    cursor.execute("DROP TABLE IF EXISTS citizen_floor")
    cursor.execute("CREATE TABLE citizen_floor (LIKE citizen INCLUDING ALL)")
    raw.commit()
    columns = "ref, name, id_cipher, id_index, id_masked, phone_cipher, phone_masked, birth_date, needs_recompute, " \
              "created_at, status, registry_digest"
    with tempfile.TemporaryFile() as spool:
        with cursor.copy(f"COPY (SELECT {columns} FROM citizen) TO STDOUT") as copy:
            for data in copy:
                spool.write(data)
        spool.seek(0)
        started = time.perf_counter()
        with cursor.copy(f"COPY citizen_floor ({columns}) FROM STDIN") as copy:
            while data := spool.read(1 << 20):
                copy.write(data)
    raw.commit()
    seconds = time.perf_counter() - started
    cursor.execute("DROP TABLE citizen_floor")
    raw.commit()
    return seconds


def floor_read_records(raw) -> float:
    cursor = raw.cursor()
    started = time.perf_counter()
    with cursor.copy(f"COPY (SELECT {READ_COLUMNS} FROM credit_record) TO STDOUT") as copy:
        for _ in copy:
            pass
    raw.commit()
    return time.perf_counter() - started


# -- data -------------------------------------------------------------------------------------------------------

def load_records(raw, seed: int = 7) -> int:
    from score_engine_pure import make_synthetic_citizens

    cursor = raw.cursor()
    cursor.execute("INSERT INTO department (code, name, record_types, active, created_at) "
                   "VALUES ('BENCH', '压测部门', '[]', true, now()) RETURNING id")
    department_id = cursor.fetchone()[0]
    ids = [row[0] for row in cursor.execute("SELECT id FROM citizen ORDER BY id")]
    now = dt.datetime.now(dt.UTC)
    with cursor.copy("COPY consent (citizen_id, kind, granted_at, channel) FROM STDIN") as copy:
        for citizen_id in ids:
            copy.write_row((citizen_id, "scoring", now, "bench"))
    serial = 0
    with cursor.copy("COPY credit_record (ref, citizen_id, department_id, external_id, type_code, status, "
                     "occurred_at, expires_at, incident_id, grade, quantity, content_digest, created_at, "
                     "updated_at) FROM STDIN") as copy:
        for citizen_id, records in zip(ids, make_synthetic_citizens(len(ids), seed, as_of=dt.date.today()),
                                       strict=True):
            for record in records:
                serial += 1
                copy.write_row((f"r{serial:031x}", citizen_id, department_id, f"B-{serial}", record.type_code,
                                record.status, record.occurred_at, record.expires_at, record.incident_id,
                                record.grade, record.quantity, "-", now, now))
    raw.commit()
    return serial


def batch_visibility(app, rows: int = 5000) -> dict:
    """A department's queued batch of ``rows`` rows, then the every-5-seconds job that rescores its citizens."""
    from sqlalchemy import select

    from app.citizens.models import Citizen
    from app.extensions import db
    from app.records import service as records
    from app.records.models import Department
    from app.scheduler.jobs import JOBS, recompute_changed
    from app.security.pii import vault

    with app.app_context():
        department = db.session.scalar(select(Department).where(Department.code == "BENCH"))
        department.record_types = ["HN_VOLUNTEER"]
        db.session.commit()
        ciphers = db.session.execute(select(Citizen.id_cipher).order_by(Citizen.id).limit(rows)).scalars().all()
        numbers = [vault().decrypt(cipher, b"resident-id") for cipher in ciphers]
        today = dt.date.today().isoformat()
        batch = [{"external_id": f"V-{i}", "id_number": number, "type_code": "HN_VOLUNTEER", "occurred_at": today,
                  "quantity": 4} for i, number in enumerate(numbers)]
        started = time.perf_counter()
        result = records.ingest(department, batch, source="bench")
        ingest_seconds = time.perf_counter() - started
        started = time.perf_counter()
        rescored = recompute_changed()
        job_seconds = time.perf_counter() - started
        interval = JOBS["scores-changed"][1]["seconds"]
    return {"rows": rows, "recompute": result.recompute, "ingest_seconds": round(ingest_seconds, 2),
            "rescored": rescored, "job_seconds": round(job_seconds, 2), "interval": interval,
            "worst_seconds": round(ingest_seconds + interval + job_seconds, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", default="run", choices=["run", "import", "recompute"])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--path")
    parser.add_argument("--mode")
    parser.add_argument("--as-of")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    if args.what == "import":
        print(json.dumps(step_import(args.path)))
        return
    if args.what == "recompute":
        print(json.dumps(step_recompute(args.mode, args.as_of)))
        return

    name = f"xyf_bench_city_{args.n}"
    os.environ["DATABASE_URL"] = f"{PG}/{name}"
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
    _admin(f"DROP DATABASE IF EXISTS {name}")
    _admin(f"CREATE DATABASE {name}")
    try:
        run(args.n)
    finally:
        if not args.keep:
            _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def run(n: int) -> None:
    from flask_migrate import upgrade

    from app.extensions import db, kv

    app = _app()
    with app.app_context():
        upgrade()
        kv.flushdb()
    registry = Path(tempfile.gettempdir()) / f"xyf-bench-registry-{n}.csv"
    started = time.perf_counter()
    write_registry(registry, n)
    print(f"city of {n:,} adults on PostgreSQL (registry file written in {time.perf_counter() - started:.1f} s, "
          f"{registry.stat().st_size / 1e6:.0f} MB)", flush=True)

    first = _child("import", "--path", str(registry))
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            floor = floor_write_citizens(raw)
        finally:
            raw.close()
    print(f"registry import, {n:,} new adults: {first['seconds']:.1f} s = {n / first['seconds']:,.0f} rows/s; "
          f"COPY floor {floor:.2f} s; ratio {first['seconds'] / floor:.1f} x; peak RSS {first['peak_rss_mb']} MB "
          f"(app started: {first['baseline_rss_mb']} MB)\n    {first['output']}", flush=True)
    again = _child("import", "--path", str(registry))
    print(f"registry re-import, nothing changed: {again['seconds']:.1f} s = {n / again['seconds']:,.0f} rows/s; "
          f"peak RSS {again['peak_rss_mb']} MB\n    {again['output']}", flush=True)
    registry.unlink()

    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            records = load_records(raw)
            raw.driver_connection.autocommit = True
            raw.cursor().execute("VACUUM ANALYZE")
            raw.driver_connection.autocommit = False
            read_floor = min(floor_read_records(raw) for _ in range(2))
        finally:
            raw.close()
    print(f"{records:,} records loaded; read floor (COPY of the columns the recompute reads): {read_floor:.2f} s "
          f"= {records / read_floor:,.0f} records/s", flush=True)

    cold = _child("recompute", "--mode", "all")
    print(f"recompute --all, every score new: {cold['seconds']:.1f} s = {cold['processed'] / cold['seconds']:,.0f} "
          f"citizens/s; {cold['seconds'] / read_floor:.1f} x the read floor (goal <= 10 x); changed "
          f"{cold['changed']:,}; peak RSS {cold['peak_rss_mb']} MB", flush=True)
    warm = _child("recompute", "--mode", "all")
    print(f"recompute --all, nothing changed: {warm['seconds']:.1f} s = {warm['processed'] / warm['seconds']:,.0f} "
          f"citizens/s; {warm['seconds'] / read_floor:.1f} x the read floor (goal <= 5 x); changed "
          f"{warm['changed']:,}; peak RSS {warm['peak_rss_mb']} MB", flush=True)
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    nightly = _child("recompute", "--mode", "due", "--as-of", tomorrow)
    print(f"nightly (due only) for {tomorrow}: {nightly['seconds']:.1f} s, rescored {nightly['processed']:,} "
          f"({100 * nightly['processed'] / n:.2f} % of the city), changed {nightly['changed']:,}; "
          f"{nightly['seconds'] / read_floor:.2f} x the read floor of a full scan", flush=True)
    visible = batch_visibility(app)
    print(f"5,000-row batch ({visible['recompute']}): ingest {visible['ingest_seconds']} s, then the job "
          f"(every {visible['interval']} s) rescored {visible['rescored']:,} in {visible['job_seconds']} s: visible "
          f"within {visible['worst_seconds']} s at worst (goal <= 10 s)", flush=True)
    scale = 3_890_000 / n
    print(f"city of 3.89 M by linear scale: import {first['seconds'] * scale / 60:.1f} min, first computation "
          f"{cold['seconds'] * scale / 60:.1f} min, full nothing-changed {warm['seconds'] * scale / 60:.1f} min, "
          f"nightly {nightly['seconds'] * scale / 60:.1f} min")


if __name__ == "__main__":
    main()
