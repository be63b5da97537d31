"""Failure drills on the production shape, all on this machine:

    python bench/drills.py [--seconds 12] [--citizens 200] [--keep]

It starts, each on its own port under a scratch folder (deploy/ holds the configurations):
HAProxy in front of 3 app servers (gunicorn, 2 workers each), PostgreSQL primary + streaming replica, Redis
primary + replica + 3 sentinels. Then, under a steady load through HAProxy — merchant verifications (every code
sent twice, by two clients at about the same moment) and citizens reading their score and records — it runs:

1. an app server killed (SIGKILL, master and workers) and started again;
2. the replica stopped for 30 s (reads fall back to the primary) and started again;
3. the Redis primary killed (Sentinel promotes the replica; the old one rejoins as a replica);
4. PostgreSQL's primary restarted.

For each it prints: requests ok / refused with a code (a 4xx or a 503 with the API's JSON error) / failed (no
answer, or anything else), the longest gap without an ok answer, double redemptions (a code with two ok answers,
or two rows), lost redemptions (an ok answer whose redemption row is not in the database). Then the throughput
of verifications through HAProxy with 1, 2 and 3 app servers beside one server reached directly.

Needs PostgreSQL's server programs, redis-server and haproxy (Debian: postgresql, redis-server, haproxy).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__" and __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from bench.shape import (  # noqa: E402
    DEPLOY,
    HOST,
    RedisShape,
    free_port,
    make_primary,
    make_replica,
    postgres_available,
    wait_for_port,
)

APP_WORKERS = 2


# -- the shape -------------------------------------------------------------------------------------------

class Shape:
    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.apps: dict[str, tuple[int, subprocess.Popen | None]] = {}
        self.haproxy: subprocess.Popen | None = None
        self.listen = free_port()

    def start_data(self) -> None:
        print("starting PostgreSQL primary and replica, Redis with 3 sentinels …", flush=True)
        self.primary = make_primary(self.scratch / "pg")
        self.replica = make_replica(self.primary, self.scratch / "pg")
        self.redis = RedisShape(self.scratch / "redis").start()
        self.redis.wait_ready()
        self.env = dict(os.environ)
        for name in ("REDIS_URL", "DATABASE_URL"):
            self.env.pop(name, None)
        self.env.update({
            "DATABASE_URL": self.primary.url, "DATABASE_REPLICA_URL": self.replica.url,
            "REDIS_SENTINELS": self.redis.sentinels, "REDIS_SENTINEL_SERVICE": self.redis.service,
            "INSTANCE_PATH": str(self.scratch / "instance"), "PUBLIC_BASE_URL": f"http://{HOST}:{self.listen}",
            "CREDIT_CODE_TTL_SECONDS": "3600", "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING",
            "WEB_CONCURRENCY": str(APP_WORKERS), "TRUSTED_PROXY_HOPS": "1",
        })

    def start_app(self, name: str, port: int | None = None) -> None:
        port = port or free_port()
        log = open(self.scratch / f"{name}.log", "a")  # noqa: SIM115 - open as long as the server runs
        process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                                    "wsgi:app"], cwd=ROOT, env={**self.env, "GUNICORN_BIND": f"{HOST}:{port}"},
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.apps[name] = (port, process)
        wait_for_port(port, timeout=90)

    def kill_app(self, name: str) -> None:
        port, process = self.apps[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        self.apps[name] = (port, None)

    def stop_app(self, name: str) -> None:
        port, process = self.apps[name]
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)  # graceful: requests in flight are finished
            process.wait(timeout=40)
        self.apps[name] = (port, None)

    def start_haproxy(self) -> None:
        env = {**os.environ, "XYF_LISTEN": f"{HOST}:{self.listen}", "XYF_STATS": f"{HOST}:{free_port()}",
               "XYF_ERRORS": str(DEPLOY / "haproxy")}
        for number, name in enumerate(("app1", "app2", "app3"), start=1):
            env[f"XYF_APP{number}"] = f"{HOST}:{self.apps[name][0]}"
        log = open(self.scratch / "haproxy.log", "a")  # noqa: SIM115
        self.haproxy = subprocess.Popen([shutil.which("haproxy") or "haproxy", "-db", "-f",
                                         str(DEPLOY / "haproxy" / "haproxy.cfg")], env=env, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_port(self.listen)

    def stop(self) -> None:
        if self.haproxy is not None:
            self.haproxy.terminate()
        for name in list(self.apps):
            if self.apps[name][1] is not None:
                os.killpg(self.apps[name][1].pid, signal.SIGKILL)
        for part in ("redis", "replica", "primary"):
            if hasattr(self, part):
                getattr(self, part).stop() if part == "redis" else getattr(self, part).stop("immediate")


def wait_healthy(port: int, up: bool, timeout: float = 30) -> None:
    """Until ``port``'s /readyz answers 200 (``up``) or stops answering it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/readyz")
            ready = connection.getresponse().status == 200
        except OSError:
            ready = False
        if ready == up:
            return
        time.sleep(0.2)


# -- data ------------------------------------------------------------------------------------------------

def prepare(env: dict, citizens: int, codes: int) -> dict:
    """Merchants, citizens and signed codes (bench/verifications.py), and bound mini-program sessions."""
    sys.path.append(str(ROOT / "bench"))  # after the root: bench/miniprogram_api.py must not hide the package
    from verifications import prepare as prepare_verifications

    prepared = prepare_verifications(env, citizens, codes, 0.0)
    from sqlalchemy import select

    from app.citizens.models import Citizen
    from app.extensions import db
    from app.factory import create_app
    from app.timeutil import utcnow
    from miniprogram_api.auth import issue_tokens
    from miniprogram_api.models import WeChatAccount

    app = create_app()
    with app.app_context():
        tokens = []
        for citizen in db.session.scalars(select(Citizen).limit(min(citizens, 100))):
            account = WeChatAccount(app_kind="mp", openid=f"o-drill-{citizen.ref}", citizen_id=citizen.id,
                                    bound_at=utcnow())
            db.session.add(account)
            db.session.flush()
            tokens.append(issue_tokens(account).access_token)
        db.session.commit()
        db.engine.dispose()
    prepared["readers"] = tokens
    return prepared


def redemption_ids(env: dict) -> tuple[set[str], int]:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.factory import create_app
    from benefits.models import Redemption

    app = create_app()
    with app.app_context():
        ids = set(db.session.scalars(select(Redemption.ref)))
        doubled = db.session.scalar(select(func.count()).select_from(
            select(Redemption.code_id).group_by(Redemption.code_id).having(func.count() > 1).subquery()))
        db.engine.dispose()
    return ids, doubled


# -- load ------------------------------------------------------------------------------------------------

RESENT = "resent"


def _request(connection, method, path, body, headers):
    """One request on a kept-alive connection. When the connection had served a request before and is closed with
    no answer at all, the request is sent once more on a new connection, as browsers, urllib3 and wx.request do
    (HAProxy closes a client's kept-alive connection that way when the server died before answering, its signal
    to retry); the retry is marked on the connection object, and a second failure is the caller's."""
    reused = getattr(connection, "served", 0) > 0
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
        if not reused:
            raise
        connection.close()
        connection.served = 0
        connection.resent = getattr(connection, "resent", 0) + 1
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
    connection.served = getattr(connection, "served", 0) + 1
    return response.status, response.read()


def _note_resent(connection, results, lock) -> None:
    if getattr(connection, "resent", 0):
        with lock:
            results.extend([("resent", 0.0, 0.0, RESENT, None, None, None, None)] * connection.resent)
        connection.resent = 0


def _classify(status: int | None, data: bytes) -> tuple[str, dict]:
    """ok / refused (a 4xx, or a 503 with our JSON error) / failed (no answer, or anything else)."""
    if status is None:  # no answer: the body holds the client's error
        return "failed", json.loads(data) if data else {}
    try:
        body = json.loads(data) if data else {}
    except ValueError:
        return "failed", {}
    if status == 200:
        return "ok", body
    if (400 <= status < 500 or status == 503) and isinstance(body, dict) and body.get("code"):
        return "refused", body
    return "failed", body


def _loader(port, jobs, readers, threads, stop, out):
    """Half the threads verify codes (each code by two threads at about the same moment), half read."""
    results = []
    lock = threading.Lock()
    cursor = iter(range(len(jobs) * 2))

    def verifier():
        connection = http.client.HTTPConnection(HOST, port, timeout=15)
        while not stop.is_set():
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            job = jobs[index // 2]
            body = json.dumps({"code": job["code"], "offer_id": job["offer_id"], "branch_id": job["branch_id"]})
            started = time.time()
            try:
                status, data = _request(connection, "POST", "/merchant/v1/verifications", body,
                                        {"Content-Type": "application/json", "Authorization": f"Bearer {job['key']}"})
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=15)
                status, data = None, json.dumps({"reason": type(error).__name__}).encode()
            _note_resent(connection, results, lock)
            outcome, answer = _classify(status, data)
            with lock:
                results.append(("verify", started, time.time(), outcome, status, job["code"],
                                answer.get("reason"), answer.get("redemption_id")))
            if status == 503:
                time.sleep(0.2)  # a counter's terminal waits a moment before asking again

    def reader(number):
        connection = http.client.HTTPConnection(HOST, port, timeout=15)
        sent = 0
        while not stop.is_set():
            token = readers[(number + sent) % len(readers)]
            path = "/mp/v1/me/score" if sent % 2 else "/mp/v1/me/records"
            sent += 1
            started = time.time()
            try:
                status, data = _request(connection, "GET", path, None, {"Authorization": f"Bearer {token}"})
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=15)
                status, data = None, json.dumps({"reason": type(error).__name__}).encode()
            _note_resent(connection, results, lock)
            outcome, answer = _classify(status, data)
            with lock:
                results.append(("read", started, time.time(), outcome, status, None, answer.get("reason"), None))
            time.sleep(0.2 if status == 503 else 0.01)

    pool = [threading.Thread(target=verifier) for _ in range(threads)]
    pool += [threading.Thread(target=reader, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    out.put(results)


class Load:
    def __init__(self, port: int, jobs: list[dict], readers: list[str], threads: int = 4) -> None:
        context = mp.get_context("fork")
        self.stop_event = context.Event()
        self.queue = context.Queue()
        self.process = context.Process(target=_loader, args=(port, jobs, readers, threads, self.stop_event,
                                                             self.queue))

    def __enter__(self) -> Load:
        self.process.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop_event.set()
        self.results = self.queue.get(timeout=120)
        self.process.join()


def report(name: str, results: list, redemptions: set[str]) -> dict:
    counts = Counter(outcome for _, _, _, outcome, *_ in results)
    results = [r for r in results if r[0] != "resent"]
    codes_ok = Counter(code for kind, _, _, outcome, _, code, reason, _ in results
                       if kind == "verify" and outcome == "ok" and reason == "ok")
    doubled = sum(1 for count in codes_ok.values() if count > 1)
    lost = sum(1 for kind, _, _, outcome, _, _, reason, ref in results
               if kind == "verify" and outcome == "ok" and reason == "ok" and ref not in redemptions)
    oks = sorted(end for _, _, end, outcome, *_ in results if outcome == "ok")
    start = min(r[1] for r in results) if results else 0
    end = max(r[2] for r in results) if results else 0
    marks = [start, *oks, end]
    gap = max((b - a for a, b in zip(marks, marks[1:], strict=False)), default=0.0)
    refused = Counter(status for _, _, _, outcome, status, *_ in results if outcome == "refused")
    failed = Counter(status or reason for _, _, _, outcome, status, _, reason, _ in results if outcome == "failed")
    print(f"{name:<38} ok {counts['ok']:>6}  refused {counts['refused']:>5} {dict(refused) or ''}  "
          f"failed {counts['failed']:>3} {dict(failed) or ''}  resent {counts[RESENT]}  longest gap {gap:5.2f} s  "
          f"double {doubled}  lost {lost}  redeemed {sum(codes_ok.values())}", flush=True)
    return {"ok": counts["ok"], "refused": counts["refused"], "failed": counts["failed"], "gap": gap,
            "double": doubled, "lost": lost}


def throughput(port: int, jobs: list[dict], seconds: float, threads: int = 8) -> tuple[float, int]:
    """Ok answers per second, and how many codes were used."""
    results: list = []
    lock = threading.Lock()
    cursor = iter(range(len(jobs)))
    end = time.time() + seconds

    def client():
        connection = http.client.HTTPConnection(HOST, port, timeout=15)
        while time.time() < end:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            job = jobs[index]
            body = json.dumps({"code": job["code"], "offer_id": job["offer_id"], "branch_id": job["branch_id"]})
            try:
                status, _ = _request(connection, "POST", "/merchant/v1/verifications", body,
                                     {"Content-Type": "application/json", "Authorization": f"Bearer {job['key']}"})
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=15)
                continue
            if status == 200:
                with lock:
                    results.append(time.time())

    pool = [threading.Thread(target=client) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return len(results) / seconds, next(cursor, len(jobs))


# -- the run ---------------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=12, help="load after each drill's action")
    parser.add_argument("--citizens", type=int, default=200)
    parser.add_argument("--replica-down", type=float, default=30)
    parser.add_argument("--keep", action="store_true", help="leave the scratch folder (logs) in place")
    args = parser.parse_args()
    missing = [name for name in ("haproxy", "redis-server") if shutil.which(name) is None]
    if missing or not postgres_available():
        print("needs " + ", ".join(missing or ["PostgreSQL's server programs"]), file=sys.stderr)
        return 2

    scratch = Path(tempfile.mkdtemp(prefix="xyf-drills-"))
    scratch.chmod(0o755)
    shape = Shape(scratch)
    try:
        shape.start_data()
        print("preparing data (schema, merchants, citizens, codes) …", flush=True)
        prepared = prepare(shape.env, args.citizens, 60_000)
        jobs, readers = prepared["codes"], prepared["readers"]
        print("starting 3 app servers and HAProxy …", flush=True)
        for name in ("app1", "app2", "app3"):
            shape.start_app(name)
        shape.start_haproxy()
        wait_healthy(shape.listen, True)
        port = shape.listen
        used = 0

        def unused() -> list[dict]:
            return jobs[used:]

        def spent(codes: int) -> None:
            nonlocal used
            used += codes

        outcomes = {}

        def drill(name, action):
            with Load(port, unused(), readers) as load:
                time.sleep(2)
                action()
                time.sleep(args.seconds)
            spent(len({r[5] for r in load.results if r[0] == "verify"}) + 8)
            ids, doubled_rows = redemption_ids(shape.env)
            outcome = report(name, load.results, ids)
            outcome["double"] += doubled_rows
            outcomes[name] = outcome

        print(f"\n{'drill':<38} answers through HAProxy (verifications and citizen reads)", flush=True)
        drill("steady (no failure)", lambda: None)

        def kill_app():
            shape.kill_app("app2")
            time.sleep(5)
            shape.start_app("app2", shape.apps["app2"][0])
        drill("app server SIGKILL, back after 5 s", kill_app)

        def replica_down():
            shape.replica.stop("fast")
            time.sleep(args.replica_down)
            shape.replica.start()
        drill(f"replica stopped {args.replica_down:.0f} s", replica_down)

        def redis_failover():
            killed = shape.redis.kill_primary()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if shape.redis.primary_port() != killed:
                        break
                except RuntimeError:
                    pass
                time.sleep(0.2)
            shape.redis.restart_as_replica(killed)
        drill("Redis primary SIGKILL (Sentinel)", redis_failover)
        drill("PostgreSQL primary restart", shape.primary.restart)

        print("\nthroughput of verifications (ok answers per second, 8 clients, closed loop)", flush=True)
        seconds = max(args.seconds, 8)

        def measure(target: int) -> float:
            rate, codes = throughput(target, unused(), seconds)
            spent(codes)
            return rate

        direct = measure(shape.apps["app1"][0])
        shape.stop_app("app2")
        shape.stop_app("app3")
        time.sleep(3)  # HAProxy marks them down within two failed checks
        one = measure(port)
        shape.start_app("app2", shape.apps["app2"][0])
        wait_healthy(shape.apps["app2"][0], True)
        time.sleep(3)
        two = measure(port)
        shape.start_app("app3", shape.apps["app3"][0])
        wait_healthy(shape.apps["app3"][0], True)
        time.sleep(3)
        three = measure(port)
        print(f"  one server, no HAProxy   {direct:8.0f} /s")
        print(f"  HAProxy + 1 server       {one:8.0f} /s   ({one / max(direct, 1e-9):.2f} × direct)")
        print(f"  HAProxy + 2 servers      {two:8.0f} /s   ({two / max(one, 1e-9):.2f} × one)")
        print(f"  HAProxy + 3 servers      {three:8.0f} /s   ({three / max(one, 1e-9):.2f} × one)")
        print(f"  (this machine: {os.cpu_count()} cores shared by every server, the databases and the load)")
        bad = {name: o for name, o in outcomes.items() if o["double"] or o["lost"] or o["failed"]}
        print("\nevery drill: 0 double, 0 lost, no answer other than ok or a coded refusal" if not bad
              else f"\nFAILED drills: {sorted(bad)}")
        return 1 if bad else 0
    finally:
        shape.stop()
        if args.keep:
            print(f"logs kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
