"""Benchmark of merchant verifications (POST /merchant/v1/verifications) beside a bare /healthz, same run.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_verifications REDIS_URL=redis://127.0.0.1:6379/7 \
        python bench/verifications.py [--seconds 15] [--citizens 300] [--workers 2]

What it does:

1. ``flask db upgrade`` on DATABASE_URL (use a scratch database: the run adds merchants, citizens and
   redemptions), then prepares data through the services: 4 merchants with a terminal, a branch and 2 offers
   each (no per-citizen limit, no quota, so every fresh code takes the full redemption path), and consenting
   L3 citizens with their credit-code subjects;
2. mints credit codes signed with the app's key (one per request, plus duplicates: 10 % of the codes are
   sent twice, by two different load processes at about the same moment);
3. starts gunicorn with ``--workers`` sync workers on 127.0.0.1, the app on PostgreSQL + Redis as in production
   (JSON access log on, written to a file);
4. for /healthz and then for verifications: a closed loop (``--concurrency`` clients, no think time) for
   ``--seconds`` gives the peak throughput; then an open loop at half of that peak (requests sent on a fixed
   schedule, latency measured from the scheduled send time so a stall cannot hide) gives p50/p99;
5. counts double redemptions: codes that got two ``ok`` answers, and codes with two rows in the database;
6. prints the CPU one request cost each part of the machine in the closed loops (gunicorn's workers, PostgreSQL,
   Redis, the load generator, the rest), and what the ratio goal would leave the workers.

The load generator runs on the same machine (separate processes, ``--load-processes``), so on a small box
it takes CPU from the server: compare the two endpoints with each other rather than with other machines.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__" and __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

import cpu_account  # noqa: E402 - beside this script in bench/

HOST = "127.0.0.1"
MAX_CLOSED_RATE = 2500  # codes minted per second of closed loop: above what one host can verify


# -- preparing ------------------------------------------------------------------------------------------

def _env(instance: Path) -> dict:
    env = dict(os.environ)
    env.update({"INSTANCE_PATH": str(instance), "CREDIT_CODE_TTL_SECONDS": "3600", "PYTHONUNBUFFERED": "1"})
    env.setdefault("PUBLIC_BASE_URL", f"http://{HOST}")  # gunicorn.conf.py refuses to start without it
    return env


def prepare(env: dict, citizens_count: int, codes_needed: int, duplicate_share: float) -> dict:
    """Schema, catalog, citizens and codes, through the app's services; returns what the load needs."""
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    os.environ.update(env)
    from flask import g

    from app.audit.service import Actor
    from app.citizens import service as citizens
    from app.citizens.idnumber import make_id_number
    from app.extensions import db
    from app.factory import create_app
    from app.scoring import service as scoring
    from app.security.signing import b64url_decode, keyring
    from benefits import catalog, codes, credit_code
    from benefits.uscc import make_uscc

    app = create_app()
    rng = random.Random()
    with app.app_context():
        g.actor = Actor("system", "bench")
        catalog.ensure_default_scenes()
        targets = []
        run = rng.randrange(10**6)
        for number in range(4):
            merchant = catalog.create_merchant(f"压测商户{run}-{number}",
                                               make_uscc(f"91330602MB{run:06d}{number}"), ["you", "gou"])
            branch = catalog.add_branch(merchant, "压测门店")
            _, key = catalog.issue_terminal(merchant, "压测收银台")
            offers = [catalog.create_offer({"merchant_id": merchant.ref, "scene": "you", "title": f"压测权益{i}",
                                            "min_level": 1}) for i in range(2)]
            db.session.commit()
            targets += [{"key": key, "offer_id": offer.ref, "branch_id": branch.ref} for offer in offers]
        subjects = []
        while len(subjects) < citizens_count:
            birth = date(rng.randint(1950, 2000), 1 + rng.randrange(12), 1 + rng.randrange(28))
            id_number = make_id_number("330602", birth, rng.randrange(1000))
            if citizens.find_by_id_number(id_number) is not None:
                continue
            citizen = citizens.register("压测居民", id_number, None)
            citizens.grant_consent(citizen, "scoring", channel="bench")
            db.session.commit()
            scoring.recompute_citizen(citizen, reason="压测")
            level = scoring.current_score(citizen).level
            subjects.append((b64url_decode(credit_code.ensure_subject(citizen)), level))
        key = keyring().current()
        now = int(time.time())
        city = app.config["CITY_CODE"]
        minted = []
        for index in range(codes_needed):
            subject, level = subjects[index % len(subjects)]
            token = codes.encode(kid=key.kid, sign=key.sign, code_id=codes.new_code_id(), subject=subject,
                                 level=level, issuer=city, issued_at=now, expires_at=now + 3600)
            minted.append({"code": token, **rng.choice(targets)})
        duplicates = set(rng.sample(range(len(minted)), int(len(minted) * duplicate_share)))
        db.session.remove()
        db.engine.dispose()
    return {"codes": minted, "duplicates": sorted(duplicates)}


def redemption_rows(env: dict) -> tuple[int, int]:
    os.environ.update(env)
    from sqlalchemy import func, select

    from app.extensions import db
    from app.factory import create_app
    from benefits.models import Redemption

    app = create_app()
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(Redemption))
        doubled = db.session.scalar(select(func.count()).select_from(
            select(Redemption.code_id).group_by(Redemption.code_id).having(func.count() > 1).subquery()))
        db.engine.dispose()
    return total, doubled


# -- serving --------------------------------------------------------------------------------------------

def start_server(env: dict, port: int, workers: int, threads: int, log_path: Path,
                 app_spec: str = "bench.verification_floor:application") -> subprocess.Popen:
    log = open(log_path, "w")  # noqa: SIM115 - kept open for the server's lifetime
    worker_class = ["--worker-class", "gthread", "--threads", str(threads)] if threads > 1 else []
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), *worker_class, "--bind", f"{HOST}:{port}",
         "--backlog", "2048", "--timeout", "60", app_spec],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    raise SystemExit(f"gunicorn did not start; see {log_path}")


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


# -- loading --------------------------------------------------------------------------------------------

def _send(port: int, job: dict | None) -> tuple[int, str | None]:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        if job is None:
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            return response.status, None
        body = json.dumps({"code": job["code"], "offer_id": job["offer_id"], "branch_id": job["branch_id"]})
        connection.request("POST", job.get("path", "/merchant/v1/verifications"), body=body,
                           headers={"Content-Type": "application/json", "Authorization": f"Bearer {job['key']}"})
        response = connection.getresponse()
        data = response.read()
        return response.status, json.loads(data).get("reason") if response.status == 200 else None
    finally:
        connection.close()


def _load_process(port, jobs, threads, mode, rate, seconds, start_at, out_queue):
    """One load process: ``threads`` clients; closed loop, or open loop at ``rate`` requests/s in all."""
    results = []
    lock = threading.Lock()
    cursor = iter(range(len(jobs))) if jobs is not None else None

    def next_job():
        if jobs is None:
            return None, True
        with lock:
            index = next(cursor, None)
        return (jobs[index] if index is not None else None), index is not None

    def client(number):
        sent = 0
        end = start_at + seconds
        while True:
            if mode == "open":
                scheduled = start_at + (number + sent * threads) / rate
                if scheduled >= end:
                    return
                delay = scheduled - time.time()
                if delay > 0:
                    time.sleep(delay)
            else:
                scheduled = time.time()
                if scheduled >= end:
                    return
            job, ok = next_job()
            if not ok:
                return
            status, reason = _send(port, job)
            done = time.time()
            with lock:
                results.append((done - scheduled, status, reason, job["code"] if job else None, done))
            sent += 1

    while time.time() < start_at:
        time.sleep(0.001)
    pool = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    out_queue.put(results)


def run_phase(port, jobs, processes, threads, mode, rate, seconds, server_pid=None):
    """Spread over ``processes`` load processes; with jobs, process i takes every i-th job. With ``server_pid``,
    also returns the machine's CPU per request by part (``cpu_account``), else None."""
    queue = mp.get_context("fork").Queue()
    start_at = time.time() + 1.0
    workers = []
    for number in range(processes):
        share = jobs[number::processes] if jobs is not None else None
        per_process_rate = rate / processes if rate else None
        worker = mp.get_context("fork").Process(
            target=_load_process, args=(port, share, threads, mode, per_process_rate, seconds, start_at, queue))
        worker.start()
        workers.append(worker)
    counting = server_pid is not None and cpu_account.available()
    if counting:
        time.sleep(max(start_at - time.time(), 0))
        before = cpu_account.snapshot(server_pid)
    results = [item for _ in workers for item in queue.get()]
    for worker in workers:
        worker.join()
    cpu = cpu_account.per_request(before, cpu_account.snapshot(server_pid), len(results)) if counting else None
    return results, start_at, cpu


def summarise(results, start_at, seconds) -> dict:
    latencies = sorted(r[0] for r in results)
    within = [r for r in results if r[4] <= start_at + seconds]
    errors = sum(1 for r in results if r[1] != 200)

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {"requests": len(results), "rps": len(within) / seconds, "p50_ms": pct(0.50), "p90_ms": pct(0.90),
            "p99_ms": pct(0.99), "max_ms": latencies[-1] * 1000 if latencies else float("nan"), "errors": errors}


def print_cpu(figures: dict) -> None:
    """CPU per request by part in the alternated closed loops, and what the goal against the floor leaves."""
    if any(figures[name].get("cpu") is None for name in ("healthz", "floor", "verifications")):
        return
    print()
    print("CPU per request in the closed loops, ms (load = the load generator; other = kernel network work, "
          "the rest of the machine)")
    print(f"{'endpoint':<15}" + "".join(f"{part:>10}" for part in (*cpu_account.PARTS, "total")) + f"{'idle':>8}")
    for name in ("healthz", "floor", "verifications"):
        cpu = figures[name]["cpu"]
        print(f"{name:<15}" + "".join(f"{cpu[part]:>10.2f}" for part in (*cpu_account.PARTS, "total"))
              + f"{cpu['idle_share']:>8.0%}")
    floor, verification = figures["floor"]["cpu"], figures["verifications"]["cpu"]
    budget = floor["total"] / 0.70
    print(f"at 70 % of the floor a verification may cost {budget:.2f} ms of machine CPU in all (the floor: "
          f"{floor['total']:.2f}); it cost {verification['total']:.2f}, of which the server's workers "
          f"{verification['server']:.2f} (the floor's: {floor['server']:.2f})")


def alternate(port, jobs: dict, processes: int, threads: int, slices: int, slice_seconds: float,
              server_pid: int | None = None) -> dict:
    """Closed loops in alternating slices (``slices`` rounds of every endpoint in turn, ``slice_seconds`` each), so
    background load on the shared machine hits each endpoint alike; returns each endpoint's peak summary and its
    results. ``jobs``: endpoint name -> its jobs (None for /healthz); a slice's sent codes are not sent again."""
    remaining = {name: list(todo) if todo is not None else None for name, todo in jobs.items()}
    gathered = {name: {"results": [], "within": 0, "cpu": []} for name in jobs}
    for _ in range(slices):
        for name in jobs:
            results, start, cpu = run_phase(port, remaining[name], processes, threads, "closed", None, slice_seconds,
                                            server_pid)
            if cpu is not None:
                gathered[name]["cpu"].append((cpu, len(results)))
            gathered[name]["results"] += results
            gathered[name]["within"] += sum(1 for r in results if r[4] <= start + slice_seconds)
            if remaining[name] is not None:
                sent = {r[3] for r in results}
                remaining[name] = [job for job in remaining[name] if job["code"] not in sent]
    figures = {}
    for name, got in gathered.items():
        summary = summarise(got["results"], 0, float("inf"))
        summary["rps"] = got["within"] / (slices * slice_seconds)
        figures[name] = {"peak": summary, "results": got["results"], "cpu": _cpu_over(got["cpu"])}
    return figures


def _cpu_over(slices: list[tuple[dict, int]]) -> dict | None:
    """CPU per request over several slices, weighted by the requests each served."""
    requests = sum(count for _, count in slices)
    if not slices or not requests:
        return None
    keys = (*cpu_account.PARTS, "total", "idle_share")
    merged = {key: sum(cpu[key] * count for cpu, count in slices) / requests for key in keys if key != "idle_share"}
    merged["idle_share"] = sum(cpu["idle_share"] for cpu, _ in slices) / len(slices)
    return merged


def order_jobs(prepared) -> list[dict]:
    """Codes in sending order; a duplicated code follows its original, so (jobs being dealt round-robin to the
    load processes) the copy is sent by the neighbouring process at about the same moment."""
    codes = prepared["codes"]
    duplicated = set(prepared["duplicates"])
    ordered: list[dict] = []
    for index, job in enumerate(codes):
        ordered.append(job)
        if index in duplicated:
            ordered.append(dict(job))
    return ordered


def main() -> int:
    parser = argparse.ArgumentParser(description="verifications/s and latency beside /healthz")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    parser.add_argument("--citizens", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (> 1: gthread workers)")
    parser.add_argument("--concurrency", type=int, default=8, help="closed-loop clients in all")
    parser.add_argument("--load-processes", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--duplicates", type=float, default=0.10, help="share of codes sent twice at once")
    parser.add_argument("--slice-seconds", type=float, default=1.0, help="length of one alternating slice")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        raise SystemExit("set DATABASE_URL (PostgreSQL) and REDIS_URL (Redis): the benchmark is for production's stack")
    if not shutil.which("gunicorn") and subprocess.run([sys.executable, "-m", "gunicorn", "--version"],
                                                       capture_output=True).returncode != 0:
        raise SystemExit("gunicorn is not installed")

    instance = Path(tempfile.mkdtemp(prefix="bench-verifications-"))
    env = _env(instance)
    print(f"preparing data in {os.environ['DATABASE_URL'].rsplit('/', 1)[-1]} …", flush=True)
    # Enough codes for a closed phase far above any plausible rate on one host, and the open phase after it; the
    # floor handler gets codes of its own (the same kind, the same share sent twice).
    closed_codes, open_codes = int(args.seconds * MAX_CLOSED_RATE), int(args.seconds * MAX_CLOSED_RATE / 2)
    prepared = prepare(env, args.citizens, 2 * closed_codes + open_codes, args.duplicates)
    before_rows, _ = redemption_rows(env)
    jobs = order_jobs(prepared)
    split = closed_codes + sum(1 for i in prepared["duplicates"] if i < closed_codes)
    floor_split = 2 * closed_codes + sum(1 for i in prepared["duplicates"] if i < 2 * closed_codes)
    floor_jobs = [{**job, "path": "/floor/verifications"} for job in jobs[split:floor_split]]
    log_path = instance / "gunicorn.log"
    server = start_server(env, args.port, args.workers, args.threads, log_path)
    slices = max(1, round(args.seconds / args.slice_seconds))
    try:
        per_thread = max(1, args.concurrency // args.load_processes)
        figures = alternate(args.port, {"healthz": None, "floor": floor_jobs, "verifications": jobs[:split]},
                            args.load_processes, per_thread, slices, args.slice_seconds, server.pid)
        if len(figures["verifications"]["results"]) >= split:
            print("warning: the closed loop ran out of codes; raise MAX_CLOSED_RATE", flush=True)
        half = figures["verifications"]["peak"]["rps"] / 2
        open_results, start, _ = run_phase(args.port, jobs[floor_split:], args.load_processes, 16, "open", half,
                                           args.seconds)
        figures["verifications"].update(half=summarise(open_results, start, args.seconds), rate=half,
                                        results=figures["verifications"]["results"] + open_results)
    finally:
        stop_server(server)

    answers = Counter(r[2] for r in figures["verifications"]["results"])
    ok_by_code = Counter(r[3] for r in figures["verifications"]["results"] if r[2] == "ok")
    doubled_answers = sum(1 for count in ok_by_code.values() if count > 1)
    after_rows, doubled_rows = redemption_rows(env)
    print()
    kind = f"gthread workers x {args.threads} threads" if args.threads > 1 else "sync workers"
    print(f"gunicorn: {args.workers} {kind}; load: {args.load_processes} processes, closed loop "
          f"{args.concurrency} clients, {args.seconds:.0f} s per phase; PostgreSQL + Redis; cores: {os.cpu_count()}")
    print(f"closed loops in alternating slices: {slices} x {args.slice_seconds:.1f} s per endpoint")
    print(f"{'endpoint':<15}{'peak req/s':>12}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for name in ("healthz", "floor", "verifications"):
        peak = figures[name]["peak"]
        print(f"{name:<15}{peak['rps']:>12.0f}{peak['p50_ms']:>9.1f}{peak['p99_ms']:>9.1f}{peak['errors']:>8}")
    half = figures["verifications"]["half"]
    print(f"verifications at half peak ({figures['verifications']['rate']:.0f}/s, open loop): p50 "
          f"{half['p50_ms']:.1f} / p90 {half['p90_ms']:.1f} / p99 {half['p99_ms']:.1f} ms, "
          f"max {half['max_ms']:.0f} ms, errors {half['errors']}")
    rps = {name: figures[name]["peak"]["rps"] for name in figures}
    print(f"verifications / floor handler: {rps['verifications'] / rps['floor']:.0%} (goal ≥ 70%); "
          f"verifications / healthz: {rps['verifications'] / rps['healthz']:.0%}; "
          f"floor / healthz: {rps['floor'] / rps['healthz']:.0%}")
    print(f"verification p99 at half peak: {half['p99_ms']:.1f} ms (goal < 50 ms)")
    print_cpu(figures)
    floor_answers = Counter(r[2] for r in figures["floor"]["results"])
    floor_ok = Counter(r[3] for r in figures["floor"]["results"] if r[2] == "ok")
    floor_oks = floor_answers.get("ok", 0)
    print(f"floor handler answers: {dict(floor_answers)}; its codes answered ok twice: "
          f"{sum(1 for count in floor_ok.values() if count > 1)}")
    print(f"answers: {dict(answers)}")
    print(f"duplicated codes sent: {len(prepared['duplicates'])}; codes answered ok twice: {doubled_answers}; "
          f"database rows for one code twice: {doubled_rows}; new redemption rows: {after_rows - before_rows} "
          f"(ok answers: {answers.get('ok', 0)} + the floor handler's {floor_oks})")
    double = doubled_answers + doubled_rows + abs((after_rows - before_rows) - answers.get("ok", 0) - floor_oks)
    print(f"double redemptions: {double} (goal 0)")
    print(f"server log: {log_path}")
    return 0 if double == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
