"""Flask serves the built 浙里办 H5 at /zlb/ and, in the tests and the demo only, the container stand-in."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Config
from app.extensions import db


@pytest.fixture
def fake_build(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text('<!doctype html><div id="app"></div>', encoding="utf-8")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)", encoding="utf-8")
    return tmp_path


def test_the_built_app_is_served_at_zlb_with_relative_assets(twin_app, fake_build):
    client = twin_app(ZLB_BUILD_DIR=str(fake_build)).test_client()
    page = client.get("/zlb/")
    assert page.status_code == 200
    assert '<div id="app">' in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    asset = client.get("/zlb/assets/index-abc123.js")
    assert asset.status_code == 200 and asset.get_data(as_text=True) == "console.log(1)"
    assert client.get("/zlb/assets/../index.html").status_code == 404
    assert client.get("/zlb").status_code in (301, 308)


def test_a_missing_build_says_how_to_build_it(twin_app, tmp_path):
    client = twin_app(ZLB_BUILD_DIR=str(tmp_path / "nothing")).test_client()
    answer = client.get("/zlb/")
    assert answer.status_code == 503
    assert "npm run build" in answer.get_data(as_text=True)


def test_the_container_stand_in_exists_in_tests_and_demo_only(app, twin_app, fake_build):
    tests = app.test_client()
    assert tests.get("/zlb/standin/").status_code == 200
    assert "演示容器" in tests.get("/zlb/standin/").get_data(as_text=True)
    assert b"ZWJSBridge" in tests.get("/zlb/standin/zwjsbridge.js").data

    class Production(Config):
        pass

    same = {name: app.config[name] for name in ("INSTANCE_PATH", "KEYS_DIR", "SQLALCHEMY_DATABASE_URI")}
    from app.factory import create_app

    production = create_app(Production, **same, ZLB_BUILD_DIR=str(fake_build), REDIS_URL=app.config.get("REDIS_URL"))
    client = production.test_client()
    assert client.get("/zlb/").status_code == 200
    for path in ("/zlb/standin/", "/zlb/standin/zwjsbridge.js", "/zlb/standin/zwlog.js"):
        assert client.get(path).status_code == 404, path
    with production.app_context():
        db.engine.dispose()
