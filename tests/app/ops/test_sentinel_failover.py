"""A Redis failover under a burst of merchant verifications, on real Redis processes: a primary, its replica and
three sentinels started here from deploy/redis/. The primary is killed mid-burst; Sentinel promotes the replica.

Every answer must be an ok, a coded refusal, or a 503 with a code; no code may be redeemed twice; every ok has
its redemption row; and verifications work again once the sentinels have switched.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.security.signing import b64url_decode, keyring
from bench.shape import RedisShape
from benefits import codes, credit_code
from benefits.catalog import ensure_default_scenes
from benefits.models import Redemption
from tests.benefits.helpers import Shop, make_citizen

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


@pytest.fixture
def redis_shape():
    scratch = Path(tempfile.mkdtemp(prefix="xyf-sentinel-"))
    shape = RedisShape(scratch).start()
    shape.wait_ready()
    yield shape
    shape.stop()
    shutil.rmtree(scratch, ignore_errors=True)


def _mint(app, count: int) -> list[str]:
    """Codes of three L3 citizens, signed with the city's key as the mini-program would (no issuing limit)."""
    with app.app_context():
        people = [make_citizen(name) for name in ("王丽", "陈强", "李娜")]
        subjects = [b64url_decode(credit_code.ensure_subject(citizen)) for citizen in people]
        db.session.commit()
        key = keyring().current()
        now = int(time.time())
        return [codes.encode(kid=key.kid, sign=key.sign, code_id=codes.new_code_id(), subject=subjects[i % 3],
                             level=3, issuer=app.config["CITY_CODE"], issued_at=now, expires_at=now + 600)
                for i in range(count)]


def test_a_redis_failover_during_a_verification_burst_loses_and_doubles_nothing(app, client, twin_app, redis_shape):
    with app.app_context():
        ensure_default_scenes()  # the migration made them, but an earlier test's wipe may have removed them
        shop = Shop(client)
    server = twin_app(REDIS_URL=None, REDIS_SENTINELS=redis_shape.sentinels, REDIS_SENTINEL_SERVICE="xyf")
    minted = _mint(app, 3000)
    answers: list[tuple[str, int, dict]] = []
    lock = threading.Lock()
    cursor = iter(range(len(minted) * 2))
    stop = threading.Event()

    def scanner():
        scanning = server.test_client()
        for index in cursor:
            if stop.is_set():
                return
            code = minted[index // 2]  # every code is scanned twice, by two scanners about the same moment
            response = scanning.post("/merchant/v1/verifications", headers=shop.headers,
                                     json={"code": code, "offer_id": shop.offer_ref, "branch_id": shop.branch_ref})
            with lock:
                answers.append((code, response.status_code, response.get_json() or {}))
            time.sleep(0.02)

    threads = [threading.Thread(target=scanner) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    killed = redis_shape.kill_primary()
    deadline = time.monotonic() + 30
    while redis_shape.primary_port() == killed and time.monotonic() < deadline:
        time.sleep(0.2)
    promoted = redis_shape.primary_port() != killed
    time.sleep(2.0)  # scanning goes on across the switch and after it
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    assert promoted  # Sentinel promoted the replica
    scanned_after_kill = len(answers)

    statuses = Counter(status for _, status, _ in answers)
    assert set(statuses) <= {200, 503}, statuses
    assert all(body.get("code") == "service_unavailable" for _, status, body in answers if status == 503)
    ok = Counter(code for code, status, body in answers if status == 200 and body.get("reason") == "ok")
    assert ok and max(ok.values()) == 1  # no code redeemed twice
    assert scanned_after_kill > 100
    with app.app_context():
        rows = db.session.scalar(select(func.count()).select_from(Redemption))
        doubled = db.session.scalar(select(func.count()).select_from(
            select(Redemption.code_id).group_by(Redemption.code_id).having(func.count() > 1).subquery()))
    assert doubled == 0
    assert rows == sum(ok.values())  # every ok answer has its row, and no row lacks its answer

    # After the switch, a fresh code goes through on the promoted primary.
    fresh = _mint(app, 1)[0]
    deadline = time.monotonic() + 30
    while True:
        response = server.test_client().post("/merchant/v1/verifications", headers=shop.headers,
                                             json={"code": fresh, "offer_id": shop.offer_ref,
                                                   "branch_id": shop.branch_ref})
        if response.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert response.status_code == 200 and response.get_json()["reason"] == "ok", response.get_json()
