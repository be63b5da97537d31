"""The database connection dying in the middle of a request: the caller gets the JSON 503 with Retry-After the
README promises, never a bare 500 from the server (the session's rollback at teardown meets the same dead link)."""

from __future__ import annotations

import os

import psycopg
import pytest
from sqlalchemy import text

from app.extensions import db

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                                reason="needs PostgreSQL: a SQLite connection cannot be killed from outside")


def _kill_own_backend() -> None:
    pid = db.session.scalar(text("SELECT pg_backend_pid()"))
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", (pid,))


@pytest.fixture
def dying_app(app, twin_app):
    twin = twin_app(REDIS_URL=app.config["REDIS_URL"])

    def dies_then_queries():
        _kill_own_backend()
        db.session.scalar(text("SELECT 1"))
        return {"ok": True}

    def dies_after_answering():
        _kill_own_backend()
        return {"ok": True}

    twin.add_url_rule("/test-only/dies-then-queries", view_func=dies_then_queries)
    twin.add_url_rule("/test-only/dies-after-answering", view_func=dies_after_answering)
    return twin


def test_a_backend_killed_mid_request_is_a_json_503(dying_app):
    response = dying_app.test_client().get("/test-only/dies-then-queries")
    assert response.status_code == 503
    assert response.get_json()["code"] == "service_unavailable"
    assert response.headers["Retry-After"] == "5"


def test_a_backend_killed_after_the_work_keeps_the_answer(dying_app):
    response = dying_app.test_client().get("/test-only/dies-after-answering")
    assert response.status_code == 200 and response.get_json() == {"ok": True}


def test_the_next_request_gets_a_live_connection(dying_app):
    client = dying_app.test_client()
    client.get("/test-only/dies-then-queries")
    assert client.get("/readyz").status_code == 200
