"""Two real instances of this project on loopback: 绍兴 (绍兴信用分, rules v1) and 杭州 (钱江分, rules hangzhou-v1).

Each is started the way a newcomer starts one — ``flask --app wsgi demo serve`` — in its own process with its
own environment: city identity, instance directory (keys, secrets), database and key-value store. On the
embedded default each has its own SQLite file and in-process store; when DATABASE_URL / REDIS_URL are set (CI),
each gets a database of its own created on that PostgreSQL server (dropped afterwards) and the two Redis database
numbers after REDIS_URL's (flushed before and after: they are scratch, like the tests' own).

The servers start once per module; the tests of a module are steps of one story and share them.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
DEMO_CITIZENS = 60
STATUS_LIST_TTL = 2
STARTUP_SECONDS = 180
_CLEARED = ("DATABASE_URL", "REDIS_URL", "INSTANCE_PATH", "KEYS_DIR", "SIGNING_KEYS_DIR", "SECRET_KEY", "PII_KEY",
            "BLIND_INDEX_KEY", "BENEFITS_SUBJECT_KEY", "CITY_CODE", "CITY_NAME", "SCORE_NAME", "RULES_VERSION",
            "WECHAT_API_BASE", "WECHAT_OA_TOKEN", "WECHAT_OA_AES_KEY", "FLASK_APP")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class City:
    """One running instance, and what a test needs to drive it over HTTP."""

    code: str
    name: str
    score_name: str
    rules: str
    directory: Path
    port: int = field(default_factory=_free_port)
    database_url: str | None = None
    redis_url: str | None = None
    process: subprocess.Popen | None = None
    credentials: dict = field(default_factory=dict)
    sessions: dict = field(default_factory=dict)
    _admin: dict | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
        env.update(CITY_CODE=self.code, CITY_NAME=self.name, SCORE_NAME=self.score_name, RULES_VERSION=self.rules,
                   INSTANCE_PATH=str(self.directory), LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1",
                   # A status list may be cached this long by the other city: short, so the story sees a revocation.
                   STATUS_LIST_TTL_SECONDS=str(STATUS_LIST_TTL))
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        return env

    @property
    def sqlalchemy_url(self) -> str:
        from app.config import _sqlalchemy_url

        return _sqlalchemy_url(self.database_url) if self.database_url \
            else f"sqlite:///{self.directory / 'xinyongfen.db'}"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        log = open(self.directory / "server.log", "wb")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "demo", "serve", "--port", str(self.port),
             "--citizens", str(DEMO_CITIZENS)], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def wait(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    self.credentials = json.loads((self.directory / "demo-credentials.json").read_text("utf-8"))
                    return
            except (requests.RequestException, FileNotFoundError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start within {STARTUP_SECONDS} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)

    def log_tail(self, lines: int = 40) -> str:
        path = self.directory / "server.log"
        return "\n".join(path.read_text("utf-8", "replace").splitlines()[-lines:]) if path.exists() else ""

    # -- HTTP ---------------------------------------------------------------------------------------------

    def call(self, method: str, path: str, expect: int | None = 200, **kwargs):
        response = requests.request(method, self.url + path, timeout=30, **kwargs)
        if expect is not None:
            assert response.status_code == expect, (method, path, response.status_code, response.text[:500])
        return response.json() if response.content else None

    @property
    def admin(self) -> dict:
        if self._admin is None:
            account = self.credentials["staff"]["admin"]
            token = self.call("POST", "/api/v1/auth/token",
                              json={"username": account["username"], "password": account["password"]})
            self._admin = {"Authorization": f"Bearer {token['access_token']}"}
        return self._admin

    def citizens_at_least(self, level: int) -> list[dict]:
        return [c for c in self.credentials["citizens"] if c["level"] >= level]

    def session(self, person: dict) -> dict:
        """The person's mini-program session: WeChat login (the instance's stand-in), binding, partner consent."""
        if person["id_number"] not in self.sessions:
            code = f"2c-{self.code}-{uuid.uuid4().hex[:12]}"
            login = self.call("POST", "/mp/v1/session", json={"code": code})
            headers = {"Authorization": f"Bearer {login['access_token']}"}
            self.call("POST", "/mp/v1/binding", expect=201, headers=headers,
                      json={"name": person["name"], "id_number": person["id_number"], "phone": "13800138000"})
            self.call("PUT", "/mp/v1/me/consents/partner_sharing", headers=headers)
            self.sessions[person["id_number"]] = headers
        return self.sessions[person["id_number"]]

    def attest(self, person: dict, partner: str, disclose: list[str] | None = None) -> dict:
        body = {"partner": partner} | ({"disclose": disclose} if disclose is not None else {})
        return self.call("POST", "/mp/v1/me/attestations", expect=201, json=body, headers=self.session(person))

    def credit_code(self, person: dict) -> str:
        return self.call("POST", "/mp/v1/me/credit-code", headers=self.session(person))["code"]

    def partner_offer(self, title: str, min_level: int = 3) -> dict:
        """A new offer of the demo's first merchant, open to partner citizens from ``min_level``, no limits."""
        merchant = self.credentials["merchants"][0]
        offer = self.call("POST", "/api/v1/offers", expect=201, headers=self.admin, json={
            "merchant_id": merchant["merchant_id"], "scene": merchant["scenes"][0], "title": title,
            "min_level": min_level, "partner_allowed": True, "partner_min_level": min_level})
        return {"offer_id": offer["offer_id"], "key": merchant["terminals"][0]["key"],
                "branch_id": merchant["branches"][0]["branch_id"], "scene": merchant["scenes"][0]}

    def verify(self, offer: dict, token: str) -> dict:
        return self.call("POST", "/merchant/v1/verifications", headers={"Authorization": f"Bearer {offer['key']}"},
                         json={"code": token, "offer_id": offer["offer_id"], "branch_id": offer["branch_id"]})

    def reconcile(self, partner: str, day: str) -> dict:
        (report,) = self.call("POST", "/api/v1/partners/reconciliations", headers=self.admin,
                              json={"partner": partner, "date": day})
        return report

    def partner(self, code: str) -> dict:
        return self.call("GET", f"/api/v1/partners/{code}", headers=self.admin)

    def wait_receipts_sent(self, partner: str, seconds: float = 20) -> None:
        """Receipts go out after the merchant's answer: wait until this instance has none pending for ``partner``."""
        deadline = time.monotonic() + seconds
        while self.partner(partner)["receipts_pending"]:
            assert time.monotonic() < deadline, f"{self.name} still has receipts pending for {partner}"
            time.sleep(0.1)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _pg_admin(url: str):
    import psycopg

    libpq = _with_database(url, "postgres")
    for prefix in ("postgres://", "postgresql+psycopg://"):
        if libpq.startswith(prefix):
            libpq = "postgresql://" + libpq[len(prefix):]
    return psycopg.connect(libpq, autocommit=True)


def _redis_urls(url: str) -> list[str]:
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return [urlunsplit(parts._replace(path=f"/{(base + offset) % 16}")) for offset in (1, 2)]


def _flush(urls: list[str]) -> None:
    import redis

    for url in urls:
        redis.Redis.from_url(url).flushdb()


@pytest.fixture(scope="module")
def cities(tmp_path_factory):
    root = tmp_path_factory.mktemp("two-cities")
    shaoxing = City("330600", "绍兴", "绍兴信用分", "v1", root / "shaoxing")
    hangzhou = City("330100", "杭州", "钱江分", "hangzhou-v1", root / "hangzhou")
    pair = (shaoxing, hangzhou)
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    databases: list[str] = []
    if database_url:
        with _pg_admin(database_url) as connection:
            for city in pair:
                name = f"xyf_two_cities_{os.getpid()}_{city.code}"
                connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
                connection.execute(f'CREATE DATABASE "{name}"')
                databases.append(name)
                city.database_url = _with_database(database_url, name)
    if redis_url:
        for city, url in zip(pair, _redis_urls(redis_url), strict=True):
            city.redis_url = url
        _flush([c.redis_url for c in pair])
    try:
        for city in pair:
            city.start()
        for city in pair:
            city.wait()
        yield {"shaoxing": shaoxing, "hangzhou": hangzhou}
    finally:
        for city in pair:
            city.stop()
        if databases:
            with _pg_admin(database_url) as connection:
                for name in databases:
                    connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                       "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
                    connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if redis_url:
            _flush([c.redis_url for c in pair])
