"""Shared fixtures: one app per test session, schema made by the migrations, state wiped after each test.

Runs on SQLite and fakeredis by default; set DATABASE_URL / REDIS_URL to run the same tests on PostgreSQL
and Redis (that is what .ci/run does).
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import delete

from app.config import TestConfig, _sqlalchemy_url
from app.extensions import db
from app.factory import create_app
from miniprogram_api.standin import StandInWeChat


def _test_overrides(tmp_dir) -> dict:
    database_url = os.environ.get("DATABASE_URL")
    return {
        "INSTANCE_PATH": tmp_dir,
        "KEYS_DIR": tmp_dir / "keys",
        "SQLALCHEMY_DATABASE_URI": _sqlalchemy_url(database_url) if database_url
        else f"sqlite:///{tmp_dir / 'test.db'}",
        "REDIS_URL": os.environ.get("REDIS_URL"),
    }


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    from flask_migrate import upgrade

    app = create_app(TestConfig, **_test_overrides(tmp_path_factory.mktemp("instance")))
    with app.app_context():
        upgrade()
    return app


@pytest.fixture(autouse=True)
def _clean_state(request):
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(delete(table))
        db.session.commit()
        app.extensions["kv_client"].flushdb()
        app.extensions["rate_limiter"].reset()  # its memory store on the embedded default


@pytest.fixture
def twin_app(app):
    """Makes other apps on the same keys and database as ``app``, with some settings changed (a store that does
    not answer, say); their connection pools are closed afterwards."""
    made = []

    def make(**overrides):
        same = {name: app.config[name] for name in ("INSTANCE_PATH", "KEYS_DIR", "SQLALCHEMY_DATABASE_URI")}
        twin = create_app(TestConfig, **{**same, **overrides})
        made.append(twin)
        return twin

    yield make
    for twin in made:
        with twin.app_context():
            db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An app context for tests that call services directly."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture(scope="session")
def _standin_server(app):
    """A real HTTP server speaking WeChat's JSON; the session's app reaches it through wechatpy."""
    config = app.config
    server = StandInWeChat({config["WECHAT_MP_APPID"]: config["WECHAT_MP_SECRET"],
                            config["WECHAT_OA_APPID"]: config["WECHAT_OA_SECRET"]}, slow_seconds=1.5).start()
    previous = config["WECHAT_API_BASE"]
    config["WECHAT_API_BASE"] = server.url
    yield server
    config["WECHAT_API_BASE"] = previous
    server.stop()


@pytest.fixture
def wechat(_standin_server):
    """The stand-in WeChat server, with its call counters and issued tokens cleared."""
    _standin_server.reset()
    return _standin_server


@pytest.fixture(scope="session")
def _zlb_standin_server(app):
    """A real HTTP server playing the province's SSO behind its signing gateway; the app reaches it as in production."""
    from zlb_api.demo import EXTENSION
    from zlb_api.standin import StandInZlbSso

    config = app.config
    server = StandInZlbSso({config["ZLB_ACCESS_KEY"]: config["ZLB_SECRET_KEY"]}, config["ZLB_APP_ID"],
                           slow_seconds=config["ZLB_TIMEOUT_SECONDS"] + 1).start()
    previous = config["ZLB_SSO_BASE"]
    config["ZLB_SSO_BASE"] = server.url
    app.extensions[EXTENSION] = server
    yield server
    config["ZLB_SSO_BASE"] = previous
    app.extensions.pop(EXTENSION, None)
    server.stop()


@pytest.fixture
def zlb_sso(_zlb_standin_server):
    """The stand-in 浙里办 SSO, with its tickets, tokens and counters cleared."""
    _zlb_standin_server.reset()
    return _zlb_standin_server
