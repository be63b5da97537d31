"""Benchmark of the citizen channel under gunicorn (2 workers) on PostgreSQL + Redis.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/mp_bench REDIS_URL=redis://127.0.0.1:6379/5 \\
        python bench/miniprogram_api.py [--seconds 10] [--concurrency 8]

Creates what it needs: the schema (``flask db upgrade``), a department, a few citizens with records (through the
services), then starts a stand-in WeChat server and gunicorn, logs citizens in and binds them through the API,
and measures in one run:
  * requests/s, p50 and p99 of ``GET /mp/v1/me/score`` (bound citizens, round-robin) and of a bare ``GET /healthz``
    (goal: the score endpoint reaches >= 60 % of /healthz's throughput);
  * the chatbot's reply time for "查分" in secure mode from bound followers (goal: p99 < 100 ms).
The load generator is a thread pool of raw HTTP/1.1 clients (gunicorn's sync workers close every connection, so
each request opens one). Use a database of its own: the script adds rows to it (and never deletes any).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__" and __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

CITIZENS = 20


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _env(instance: Path, wechat_base: str) -> dict:
    env = dict(os.environ)
    env.update(INSTANCE_PATH=str(instance), WECHAT_API_BASE=wechat_base, FLASK_APP="wsgi",
               WECHAT_OA_TOKEN="benchtoken", WECHAT_OA_AES_KEY="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
    env.setdefault("PUBLIC_BASE_URL", "http://127.0.0.1")  # gunicorn.conf.py refuses to start without it
    return env


def _prepare_data(env: dict) -> list[dict]:
    """Schema and a few citizens with records, through the services (in this process, same keys as gunicorn)."""
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    from flask import g

    from app.audit.service import Actor
    from app.auth.service import create_department
    from app.citizens import service as citizens
    from app.citizens.idnumber import make_id_number
    from app.config import Config
    from app.extensions import db
    from app.factory import create_app
    from app.records import service as records
    from app.records.models import Department

    # The same key files as gunicorn's workers (they find them under INSTANCE_PATH), so both read the same PII.
    app = create_app(Config, INSTANCE_PATH=Path(env["INSTANCE_PATH"]), KEYS_DIR=Path(env["INSTANCE_PATH"]) / "keys",
                     LOG_LEVEL="WARNING")
    rng = random.Random()
    people = []
    with app.app_context():
        g.actor = Actor("system", "bench")
        code = "BENCH_" + secrets.token_hex(3).upper()
        department = create_department(code, "压测报送部门", ["PC_EVAL", "LA_PENALTY_GENERAL", "CM_KEPT_ENV",
                                                         "HN_VOLUNTEER"])
        today = date.today()
        rows = []
        for i in range(CITIZENS):
            birth = date(1950 + rng.randint(0, 50), rng.randint(1, 12), rng.randint(1, 28))
            id_number = make_id_number("330602", birth, rng.randint(0, 999))
            if citizens.find_by_id_number(id_number) is not None:
                continue
            name = "压测" + "甲乙丙丁戊己庚辛壬癸"[i % 10] + "子丑寅卯辰巳午未申酉戌亥"[i % 12]
            citizens.register(name, id_number, None)
            people.append({"name": name, "id_number": id_number, "code": f"bench-{secrets.token_hex(6)}"})
            for n, (type_code, extra) in enumerate([("PC_EVAL", {"grade": "良好"}), ("LA_PENALTY_GENERAL", {}),
                                                    ("CM_KEPT_ENV", {}), ("HN_VOLUNTEER", {"quantity": 20})]):
                rows.append({"external_id": f"{code}-{i}-{n}", "id_number": id_number, "type_code": type_code,
                             "occurred_at": (today - timedelta(days=rng.randint(5, 200))).isoformat(), **extra})
        db.session.commit()
        department = db.session.scalar(db.select(Department).where(Department.code == code))
        records.ingest(department, rows, source="bench", recompute_inline=False)
    return people


def _start_gunicorn(env: dict, port: int, log_path: Path) -> subprocess.Popen:
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"gunicorn did not start; see {log_path}")


def _http(port: int, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> tuple[int, bytes]:
    """One request on a fresh connection (gunicorn's sync workers close it after the answer)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close",
             f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(raw)
        chunks = []
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    answer = b"".join(chunks)
    head, _, payload = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), payload


def _json(port: int, method: str, path: str, data: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    status, payload = _http(port, method, path, json.dumps(data or {}).encode() if data is not None else b"", headers)
    return status, json.loads(payload) if payload else {}


def _load(port: int, requests: list, seconds: float, concurrency: int) -> dict:
    """Fire ``requests`` (method, path, body, headers) round-robin from ``concurrency`` threads for ``seconds``."""
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    failures = [0] * concurrency
    stop = time.monotonic() + seconds

    def worker(index: int) -> None:
        position = index
        mine = latencies[index]
        while time.monotonic() < stop:
            method, path, body, headers = requests[position % len(requests)]
            position += concurrency
            started = time.perf_counter()
            status, _ = _http(port, method, path, body, headers)
            mine.append(time.perf_counter() - started)
            if status != 200:
                failures[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"latencies": [value for chunk in latencies for value in chunk], "elapsed": time.monotonic() - started,
            "failures": sum(failures)}


def _interleaved(port: int, targets: dict[str, list], seconds: float, concurrency: int, slice_seconds: float = 1.0):
    """Alternate one-second slices between the targets, so that a change of background load on a shared machine
    weighs on all of them alike; then sum up per target."""
    totals = {name: {"latencies": [], "elapsed": 0.0, "failures": 0} for name in targets}
    for _ in range(max(1, round(seconds / slice_seconds))):
        for name, requests in targets.items():
            part = _load(port, requests, slice_seconds, concurrency)
            totals[name]["latencies"] += part["latencies"]
            totals[name]["elapsed"] += part["elapsed"]
            totals[name]["failures"] += part["failures"]
    results = {}
    for name, total in totals.items():
        every = sorted(total["latencies"])
        results[name] = {"requests": len(every), "rps": len(every) / total["elapsed"],
                         "p50_ms": _pct(every, 50) * 1000, "p99_ms": _pct(every, 99) * 1000,
                         "failures": total["failures"]}
    return results


def _pct(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(pct / 100 * (len(values) - 1)))]


def _chat_requests(env: dict, people: list[dict], count: int) -> list:
    from wechatpy.crypto import WeChatCrypto
    from wechatpy.utils import WeChatSigner

    from app.config import Config
    from miniprogram_api.standin import openid_for

    crypto = WeChatCrypto(env["WECHAT_OA_TOKEN"], env["WECHAT_OA_AES_KEY"], Config.WECHAT_OA_APPID)
    built = []
    for n in range(count):
        person = people[n % len(people)]
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        signer = WeChatSigner()
        signer.add_data(env["WECHAT_OA_TOKEN"], timestamp, nonce)
        message = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
                   f"<FromUserName><![CDATA[{openid_for(Config.WECHAT_OA_APPID, person['code'])}]]></FromUserName>"
                   f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                   f"<Content><![CDATA[查分]]></Content><MsgId>{secrets.randbits(62)}</MsgId></xml>")
        envelope = ElementTree.fromstring(crypto.encrypt_message(message, nonce, timestamp))
        query = (f"signature={signer.signature}&timestamp={timestamp}&nonce={nonce}&encrypt_type=aes"
                 f"&msg_signature={envelope.findtext('MsgSignature')}")
        body = f"<xml><Encrypt><![CDATA[{envelope.findtext('Encrypt')}]]></Encrypt></xml>".encode()
        built.append(("POST", f"/wechat/callback?{query}", body, {"Content-Type": "text/xml"}))
    return built


def _chat_once(port: int, requests: list, concurrency: int) -> dict:
    """Every message once (a repeat would be answered from the de-duplication cache)."""
    latencies, failures, lock = [], [0], threading.Lock()
    queue = list(requests)

    def worker() -> None:
        while True:
            with lock:
                if not queue:
                    return
                method, path, body, headers = queue.pop()
            started = time.perf_counter()
            status, payload = _http(port, method, path, body, headers)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if status != 200 or b"<Encrypt>" not in payload:
                    failures[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return {"requests": len(latencies), "p50_ms": _pct(latencies, 50) * 1000, "p99_ms": _pct(latencies, 99) * 1000,
            "mean_ms": statistics.fmean(latencies) * 1000, "failures": failures[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="time spent on each endpoint")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--chat-messages", type=int, default=600)
    args = parser.parse_args()
    if not (os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get("REDIS_URL")):
        raise SystemExit("set DATABASE_URL (PostgreSQL) and REDIS_URL (Redis): this benchmark is about production")

    from app.config import Config
    from miniprogram_api.standin import StandInWeChat

    standin = StandInWeChat({Config.WECHAT_MP_APPID: Config.WECHAT_MP_SECRET,
                             Config.WECHAT_OA_APPID: Config.WECHAT_OA_SECRET}).start()
    instance = Path(tempfile.mkdtemp(prefix="bench-mp-"))
    env = _env(instance, standin.url)
    people = _prepare_data(env)
    port = _free_port()
    gunicorn = _start_gunicorn(env, port, instance / "gunicorn.log")
    try:
        tokens = []
        for person in people:
            status, session = _json(port, "POST", "/mp/v1/session", {"code": person["code"]})
            assert status == 200, session
            status, body = _json(port, "POST", "/mp/v1/binding", {"name": person["name"],
                                 "id_number": person["id_number"], "phone": "13800000000"}, session["access_token"])
            assert status == 201, body
            tokens.append(session["access_token"])
        status, score = _json(port, "GET", "/mp/v1/me/score", None, tokens[0])
        assert status == 200 and score["total"] > 0, score

        health = [("GET", "/healthz", b"", {})]
        scores = [("GET", "/mp/v1/me/score", b"", {"Authorization": f"Bearer {token}"}) for token in tokens]
        _load(port, health + scores, 2, args.concurrency)  # warm-up: connections, caches, JIT-free but lazy imports
        results = _interleaved(port, {"healthz": health, "me_score": scores}, args.seconds, args.concurrency)
        # The first message of each follower asks WeChat (the stand-in) for their unionid; later ones do not.
        _chat_once(port, _chat_requests(env, people, len(people)), 4)
        results["chatbot"] = _chat_once(port, _chat_requests(env, people, args.chat_messages), 4)
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=30)
        standin.stop()

    ratio = results["me_score"]["rps"] / results["healthz"]["rps"]
    print(f"gunicorn 2 workers (sync), PostgreSQL + Redis, {args.concurrency} client threads, "
          f"{args.seconds:.0f} s per endpoint in alternating 1 s slices, {os.cpu_count()} CPUs shared with the "
          "load generator")
    for name, label in (("healthz", "GET /healthz"), ("me_score", "GET /mp/v1/me/score")):
        r = results[name]
        print(f"  {label:22s} {r['rps']:8.0f} req/s   p50 {r['p50_ms']:6.1f} ms   p99 {r['p99_ms']:6.1f} ms   "
              f"({r['requests']} requests, {r['failures']} not 200)")
    print(f"  score / healthz throughput: {ratio:.0%} (goal >= 60%)")
    c = results["chatbot"]
    print(f"  chatbot 查分 (secure mode)  p50 {c['p50_ms']:6.1f} ms   p99 {c['p99_ms']:6.1f} ms   "
          f"mean {c['mean_ms']:.1f} ms"
          f"   ({c['requests']} messages, 4 at a time, {c['failures']} failed; goal p99 < 100 ms)")


if __name__ == "__main__":
    main()
