"""On a real PostgreSQL streaming replica (a primary and a hot standby made here with initdb and pg_basebackup,
configured from deploy/postgresql/): a citizen reads their own objection straight after filing it, and a replica
whose replay stopped is skipped once it lags more than allowed.

Skipped on a machine without PostgreSQL's server programs (CI has them: its PostgreSQL is Debian's).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from flask_migrate import upgrade

from app.config import TestConfig, _sqlalchemy_url
from app.extensions import db
from app.factory import create_app
from app.rights import calendar
from bench.shape import make_primary, make_replica, postgres_available, wait_replayed
from miniprogram_api.standin import StandInWeChat
from tests.app.ops.test_replica_routing import _records_total, _replica_reads
from tests.app.rights.conftest import Rights

pytestmark = pytest.mark.skipif(not postgres_available() or (os.geteuid() == 0 and not shutil.which("runuser")),
                                reason="needs PostgreSQL's server programs (initdb, pg_ctl, pg_basebackup)")

MAX_LAG = 1.0


@pytest.fixture(scope="module")
def pair():
    # Not under pytest's own temporary folder: that one is private to root, and PostgreSQL runs as postgres.
    scratch = Path(tempfile.mkdtemp(prefix="xyf-replica-"))
    scratch.chmod(0o755)
    primary = make_primary(scratch / "pg")
    replica = make_replica(primary, scratch / "pg")
    yield primary, replica
    replica.stop("immediate")
    primary.stop("immediate")
    shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(scope="module")
def streamed(pair, tmp_path_factory):
    primary, replica = pair
    folder = tmp_path_factory.mktemp("streamed")
    wechat = None
    server = create_app(TestConfig, INSTANCE_PATH=folder, KEYS_DIR=folder / "keys",
                        SQLALCHEMY_DATABASE_URI=_sqlalchemy_url(primary.url), DATABASE_REPLICA_URL=replica.url,
                        REDIS_URL=os.environ.get("REDIS_URL"), REPLICA_MAX_LAG_SECONDS=MAX_LAG,
                        REPLICA_CHECK_SECONDS=0.2, REPLICA_STICKY_SECONDS=3)
    wechat = StandInWeChat({server.config["WECHAT_MP_APPID"]: server.config["WECHAT_MP_SECRET"]}).start()
    server.config["WECHAT_API_BASE"] = wechat.url
    with server.app_context():
        upgrade()
        calendar.seed()
        db.session.commit()
        db.session.remove()
    yield server
    wechat.stop()
    with server.app_context():
        db.engine.dispose()
    server.extensions["replica"].engine.dispose()


@pytest.fixture(autouse=True)
def _wiped(streamed):
    yield
    from sqlalchemy import delete

    with streamed.app_context():
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            if table.name not in ("holiday", "calendar_year"):
                db.session.execute(delete(table))
        db.session.commit()
        db.session.remove()
        streamed.extensions["kv_client"].flushdb()


def test_a_citizen_reads_their_objection_straight_after_filing_it(pair, streamed):
    primary, replica = pair
    rights = Rights(streamed, streamed.test_client())
    record = rights.report("wang")
    rights.report("chen")
    chen = rights.bind("chen")
    wait_replayed(primary, replica)
    time.sleep(3.1)  # past the stickiness of 王丽's and 陈强's bindings
    assert _records_total(rights, chen) == 1  # the replica has everything so far
    replica.psql("SELECT pg_wal_replay_pause()")  # from now on the replica holds still
    try:
        before = _replica_reads(rights.client, "primary", "own_write")
        response = rights.object(record)
        assert response.status_code == 201, response.get_json()

        assert rights.record(record)["status"] == "disputed"  # the replica still says otherwise
        assert _replica_reads(rights.client, "primary", "own_write") == before + 1
        stale = replica.psql("SELECT count(*) FROM rights_case", database="xyf")
        assert stale == "0"  # what the citizen would have seen without the rule
    finally:
        replica.psql("SELECT pg_wal_replay_resume()")


def test_a_replica_lagging_more_than_allowed_is_skipped(pair, streamed):
    primary, replica = pair
    rights = Rights(streamed, streamed.test_client())
    rights.report("chen")
    chen = rights.bind("chen")
    wait_replayed(primary, replica)
    time.sleep(3.1)
    replica.psql("SELECT pg_wal_replay_pause()")
    try:
        rights.report("chen", type_code="CM_KEPT_ENV")  # a department's write the replica will not replay
        time.sleep(MAX_LAG + 0.5)
        before = _replica_reads(rights.client, "primary", "lagging")

        assert _records_total(rights, chen) == 2  # the primary answered: the replica would say 1
        assert _replica_reads(rights.client, "primary", "lagging") == before + 1
    finally:
        replica.psql("SELECT pg_wal_replay_resume()")
    wait_replayed(primary, replica)
    time.sleep(0.5)
    assert _records_total(rights, chen) == 2
    assert _replica_reads(rights.client, "replica", "ok") >= 1
