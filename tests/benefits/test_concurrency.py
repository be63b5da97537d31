"""Races a busy counter produces: many scanners at once, on real threads, against one or two app servers.

Each thread has its own test client (so its own app context, database session and connection). Half of the
scanners of one code go to a second app instance sharing the database (and, on CI, Redis): the "different app
servers" of the issue. With the embedded in-process store each app has its own store, so there the database's
unique constraint alone must hold the line — a harder test than production's.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from app.citizens import service as citizens
from app.config import TestConfig
from app.extensions import db
from app.factory import create_app
from benefits import catalog, credit_code
from benefits.models import Redemption
from tests.benefits.helpers import Shop, make_citizen, make_merchant, make_offer


@pytest.fixture(scope="module")
def second_app(app):
    """Another app server: same database, same keys, same Redis (when REDIS_URL is set)."""
    overrides = {name: app.config[name] for name in ("INSTANCE_PATH", "KEYS_DIR", "SQLALCHEMY_DATABASE_URI",
                                                     "REDIS_URL")}
    return create_app(TestConfig, **overrides)


def race(jobs) -> list:
    """Run every job on its own thread, released together; return their results in order."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)
    errors: list = []

    def run(index, job):
        try:
            barrier.wait(timeout=30)
            results[index] = job()
        except Exception as error:  # noqa: BLE001 - reported below with the job's index
            errors.append((index, repr(error)))

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not errors, errors
    return results


def scan(app, key, code, offer_ref, branch_ref):
    def job():
        response = app.test_client().post("/merchant/v1/verifications", headers={"Authorization": f"Bearer {key}"},
                                          json={"code": code, "offer_id": offer_ref, "branch_id": branch_ref})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    return job


def _codes(app, people, per_citizen=1):
    with app.app_context():
        return [credit_code.sign_code(citizens.get_by_ref(ref))[0] for ref in people for _ in range(per_citizen)]


def _redemptions(app, offer_ref) -> tuple[int, int]:
    with app.app_context():
        offer = catalog.get_offer(offer_ref)
        count = db.session.scalar(select(func.count()).select_from(Redemption)
                                  .where(Redemption.offer_id == offer.id, Redemption.cancelled_at.is_(None)))
        return count, offer.redeemed_count


def test_fifty_scanners_of_one_code_on_two_app_servers_redeem_it_once(app, second_app, client):
    with app.app_context():
        shop = Shop(client)
        ref = make_citizen("孙悟空").ref
    (code,) = _codes(app, [ref])
    jobs = [scan(app if i % 2 else second_app, shop.key, code, shop.offer_ref, shop.branch_ref) for i in range(50)]
    answers = race(jobs)
    reasons = Counter(answer["reason"] for answer in answers)
    assert reasons == {"ok": 1, "already_used": 49}, reasons
    assert _redemptions(app, shop.offer_ref) == (1, 1)


def test_one_code_at_two_merchants_at_once_redeems_once(app, second_app, client):
    with app.app_context():
        first = Shop(client)
        other, branches, other_key = make_merchant("绍兴鲁迅故里景区")
        other_offer = make_offer(other, title="鲁迅故里讲解服务免费")
        other_offer_ref, other_branch_ref = other_offer.ref, branches[0].ref
        ref = make_citizen("猪八戒").ref
    (code,) = _codes(app, [ref])
    jobs = []
    for i in range(20):
        server = app if i % 2 else second_app
        jobs.append(scan(server, first.key, code, first.offer_ref, first.branch_ref) if i % 4 < 2
                    else scan(server, other_key, code, other_offer_ref, other_branch_ref))
    reasons = Counter(answer["reason"] for answer in race(jobs))
    assert reasons == {"ok": 1, "already_used": 19}, reasons
    assert _redemptions(app, first.offer_ref)[0] + _redemptions(app, other_offer_ref)[0] == 1


def test_thirty_citizens_racing_for_ten_places_get_exactly_ten(app, second_app, client):
    with app.app_context():
        shop = Shop(client, quota=10)
        refs = [make_citizen(f"沙和尚{i:02d}").ref for i in range(30)]
    codes = _codes(app, refs)
    jobs = [scan(app if i % 2 else second_app, shop.key, code, shop.offer_ref, shop.branch_ref)
            for i, code in enumerate(codes)]
    reasons = Counter(answer["reason"] for answer in race(jobs))
    assert reasons == {"ok": 10, "quota_exhausted": 20}, reasons
    assert _redemptions(app, shop.offer_ref) == (10, 10)


def test_one_citizen_with_many_codes_cannot_beat_the_daily_limit(app, second_app, client):
    with app.app_context():
        shop = Shop(client, limit_per_day=3)
        ref = make_citizen("唐三藏").ref
    codes = _codes(app, [ref], per_citizen=12)
    jobs = [scan(app if i % 2 else second_app, shop.key, code, shop.offer_ref, shop.branch_ref)
            for i, code in enumerate(codes)]
    reasons = Counter(answer["reason"] for answer in race(jobs))
    assert reasons == {"ok": 3, "limit_reached": 9}, reasons
    assert _redemptions(app, shop.offer_ref) == (3, 3)


def test_cancels_racing_with_redemptions_keep_the_count_right(app, second_app, client):
    with app.app_context():
        shop = Shop(client, quota=5)
        refs = [make_citizen(f"白龙马{i}").ref for i in range(12)]
    codes = _codes(app, refs)
    first = [scan(app, shop.key, code, shop.offer_ref, shop.branch_ref)() for code in codes[:5]]
    assert all(answer["reason"] == "ok" for answer in first)

    def cancel(server, redemption_id):
        def job():
            response = server.test_client().post(f"/merchant/v1/redemptions/{redemption_id}/cancel",
                                                 headers={"Authorization": f"Bearer {shop.key}"})
            assert response.status_code == 200, response.get_json()
            return {"reason": "cancelled"}

        return job

    jobs = [cancel(app if i % 2 else second_app, answer["redemption_id"]) for i, answer in enumerate(first[:3])]
    jobs += [cancel(second_app, first[0]["redemption_id"])]  # a retried cancel must not give a place back twice
    jobs += [scan(app if i % 2 else second_app, shop.key, code, shop.offer_ref, shop.branch_ref)
             for i, code in enumerate(codes[5:])]
    race(jobs)
    live, counted = _redemptions(app, shop.offer_ref)
    assert live == counted and live <= 5
