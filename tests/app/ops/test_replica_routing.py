"""Which reads go to the replica (app/replica.py), seen from outside.

The "replica" here is a database with the schema and none of the data, so where a read went shows in the
answer: a citizen's records list read there is empty. The real streaming replica is in test_replica_streaming.py.
"""

from __future__ import annotations

import re
import time

import pytest
from flask_migrate import upgrade

from app.config import TestConfig
from app.extensions import db
from app.factory import create_app
from app.rights import calendar
from tests.app.rights.conftest import Rights

# Short windows so a test can outwait a person's own write (binding is one).
FAST = {"REPLICA_MAX_LAG_SECONDS": 0.2, "REPLICA_CHECK_SECONDS": 0.2, "REPLICA_STICKY_SECONDS": 0.6}


def _outwait_own_writes() -> None:
    time.sleep(FAST["REPLICA_STICKY_SECONDS"] + 0.1)


@pytest.fixture
def seeded_calendar(app):
    with app.app_context():
        calendar.seed()
        db.session.remove()


@pytest.fixture(scope="module")
def empty_replica_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("replica")
    url = f"sqlite:///{folder / 'replica.db'}"
    schema_only = create_app(TestConfig, INSTANCE_PATH=folder, KEYS_DIR=folder / "keys", SQLALCHEMY_DATABASE_URI=url)
    with schema_only.app_context():
        upgrade()
    return url


@pytest.fixture
def routed(app, twin_app, wechat, seeded_calendar, empty_replica_url):
    """Rights flows on an app server whose replica is the empty copy; everything else shared with ``app``."""
    server = twin_app(DATABASE_REPLICA_URL=empty_replica_url, REDIS_URL=app.config["REDIS_URL"],
                      WECHAT_API_BASE=app.config["WECHAT_API_BASE"], **FAST)
    if app.config["REDIS_URL"] is None:  # the embedded store lives in one app: share the session app's
        server.extensions["kv_client"] = app.extensions["kv_client"]
    return Rights(server, server.test_client())


def _records_total(rights: Rights, headers: dict) -> int:
    response = rights.client.get("/mp/v1/me/records", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["total"]


COUNTS = [("replica", "ok"), ("primary", "own_write"), ("primary", "unavailable"), ("primary", "lagging")]


def _replica_reads(client, target: str, reason: str) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    match = re.search(rf'xyf_replica_reads_total{{reason="{reason}",target="{target}"}} ([0-9.e+]+)', text)
    return float(match.group(1)) if match else 0.0


def test_a_marked_read_goes_to_the_replica_and_an_unmarked_one_to_the_primary(routed):
    routed.report("wang")
    routed.report("chen")
    chen = routed.bind("chen")
    _outwait_own_writes()
    before = _replica_reads(routed.client, "replica", "ok")

    assert _records_total(routed, chen) == 0  # the empty copy answered
    assert _replica_reads(routed.client, "replica", "ok") == before + 1
    # My applications are not marked: the primary answers, whatever the replica holds.
    assert routed.client.get("/mp/v1/me/cases", headers=chen).status_code == 200
    assert routed.client.get("/mp/v1/me/messages", headers=chen).get_json()["total"] >= 1


def test_after_my_own_write_my_reads_stay_on_the_primary_and_others_do_not(routed):
    record = routed.report("wang")
    routed.report("chen")
    chen = routed.bind("chen")
    _outwait_own_writes()
    before = _replica_reads(routed.client, "primary", "own_write")

    response = routed.object(record)
    assert response.status_code == 201, response.get_json()

    assert routed.record(record)["status"] == "disputed"  # read straight after filing: the primary's answer
    assert _replica_reads(routed.client, "primary", "own_write") == before + 1
    assert _records_total(routed, chen) == 0  # someone who wrote nothing still reads the replica


def test_an_unreachable_replica_is_skipped_and_counted(app, twin_app, wechat, seeded_calendar):
    server = twin_app(DATABASE_REPLICA_URL="postgresql://postgres@127.0.0.1:9/none", REDIS_URL=app.config["REDIS_URL"],
                      WECHAT_API_BASE=app.config["WECHAT_API_BASE"], REPLICA_CONNECT_TIMEOUT_SECONDS=1, **FAST)
    if app.config["REDIS_URL"] is None:
        server.extensions["kv_client"] = app.extensions["kv_client"]
    rights = Rights(server, server.test_client())
    rights.report("chen")
    chen = rights.bind("chen")
    _outwait_own_writes()
    before = _replica_reads(rights.client, "primary", "unavailable")

    assert _records_total(rights, chen) == 1
    assert _records_total(rights, chen) == 1  # the second read does not try again within the retry interval
    assert _replica_reads(rights.client, "primary", "unavailable") == before + 2


def test_without_a_replica_nothing_is_routed_or_counted(client, app, wechat, seeded_calendar):
    rights = Rights(app, client)
    rights.report("wang")
    before = client.get("/metrics").get_data(as_text=True).count("xyf_replica_reads_total{")
    counted = [_replica_reads(client, target, reason) for target, reason in COUNTS]

    assert _records_total(rights, rights.citizen) == 1
    assert client.get("/metrics").get_data(as_text=True).count("xyf_replica_reads_total{") == before
    assert [_replica_reads(client, target, reason) for target, reason in COUNTS] == counted


def test_a_write_in_one_channel_keeps_the_next_read_in_the_other_on_the_primary(routed):
    """The same person in WeChat and in 浙里办: an objection filed in the mini-program, read straight away in the
    浙里办 app (another account, the same citizen file)."""
    from app.citizens import service as citizens
    from tests.benefits.helpers import zlb_headers

    record = routed.report("wang")
    with routed.app.app_context():
        zlb = zlb_headers(citizens.get_by_ref(routed.people["wang"][0]))
    _outwait_own_writes()
    assert routed.client.get("/zlb/v1/me/records", headers=zlb).get_json()["total"] == 0  # the empty copy

    assert routed.object(record).status_code == 201
    items = routed.client.get("/zlb/v1/me/records", headers=zlb).get_json()["items"]
    assert [item["status"] for item in items if item["ref"] == record] == ["disputed"]
