"""Two counters scan one member's code at the same moment: exactly one spends it, the other is told it was used,
and the balance and stock move once. Half the scans go to a second app server on the same database; with the
embedded in-process store each app has its own store, so there the database alone must hold the line."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.community import counter, ledger
from app.community.models import CatalogItem, Entry, Member, Worker
from app.config import TestConfig
from app.errors import ApiError
from app.extensions import db
from app.factory import create_app
from app.timeutil import CITY_TZ
from tests.app.community.helpers import make_village, worker

TODAY = datetime(2026, 11, 20, 9, 0, tzinfo=CITY_TZ)


@pytest.fixture(scope="module")
def second_app(app):
    overrides = {name: app.config[name] for name in ("INSTANCE_PATH", "KEYS_DIR", "SQLALCHEMY_DATABASE_URI",
                                                     "REDIS_URL")}
    return create_app(TestConfig, **overrides)


def _scan(app, worker_id: int, code: str, barrier: threading.Barrier, results: list, index: int):
    with app.app_context():
        till = db.session.get(Worker, worker_id)
        barrier.wait(timeout=30)
        try:
            results[index] = counter.redeem(till, code)["redemption"]
        except ApiError as refusal:
            results[index] = refusal.code
        except Exception as error:  # noqa: BLE001 - a crash is what the test must report
            results[index] = repr(error)
        finally:
            db.session.remove()


def test_two_counters_one_code_one_spending(app, second_app, client, ctx, citizen_headers):
    with time_machine.travel(TODAY, tick=True):
        village = make_village()
        entry = ledger.enter_on_behalf(worker(village, "grid"), village.people["李明"].ref,
                                       village.items["VOL"].ref, 20, date(2026, 11, 19), "", [])
        ledger.approve(worker(village, "reviewer2"), entry.ref)
    with time_machine.travel(TODAY + timedelta(days=6), tick=True):
        ledger.post_due()
        headers = citizen_headers(village.citizens["李明"])
        second_till = worker(village, "reviewer2")
        second_till.role = "manager"  # a manager may run the counter too
        db.session.commit()
        tills = (village.workers["counter"].id, second_till.id)
        rounds = 4
        for _ in range(rounds):
            code = client.post("/mp/v1/me/points/redeem-codes", headers=headers,
                               json={"item": village.catalog["haircut"].ref}).get_json()["code"]
            results: list = [None, None]
            barrier = threading.Barrier(2)
            threads = [threading.Thread(target=_scan, args=(each_app, tills[i], code, barrier, results, i))
                       for i, each_app in enumerate((app, second_app))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert sorted(result == "code_used" for result in results) == [False, True], results
        db.session.expire_all()
        assert db.session.scalar(select(Member.balance).where(Member.id == village.people["李明"].id)) \
            == 200 - rounds * 30
        assert db.session.scalar(select(func.count()).select_from(Entry).where(Entry.kind == "spend")) == rounds
        assert db.session.get(CatalogItem, village.catalog["haircut"].id).stock is None
