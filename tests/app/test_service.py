"""The service shell: health, readiness, JSON errors, OpenAPI."""

import re
from pathlib import Path

from app.config import TestConfig
from app.factory import create_app


def test_healthz_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_ready_when_database_and_store_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "kv": "ok"}


def test_readyz_names_what_is_down(tmp_path: Path):
    broken = create_app(TestConfig, INSTANCE_PATH=tmp_path, KEYS_DIR=tmp_path / "keys",
                        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none",
                        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 1}},
                        REDIS_URL="redis://127.0.0.1:1/0")
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["code"] == "not_ready"
    assert body["checks"] == {"database": "unavailable", "kv": "unavailable"}
    assert "database" in body["message"] and "kv" in body["message"]


def test_unknown_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"
    assert response.get_json()["status"] == 404


def test_wrong_method_is_json_405_with_allow_header(client):
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert response.get_json()["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_oversized_body_is_json_413(app, client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/api/v1/auth/token", data=b"x" * (limit + 1), content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["code"] == "payload_too_large"
    assert "分批" in response.get_json()["message"]


def test_validation_errors_are_422_with_field_messages_in_chinese(client):
    response = client.post("/api/v1/auth/token", json={"username": "", "extra": 1})
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "validation_error"
    assert body["errors"]["password"] == ["此项为必填。"]
    assert body["errors"]["username"] == ["长度应在 1 到 64 之间。"]
    assert body["errors"]["extra"] == ["不认识的字段。"]


def test_malformed_json_is_a_clear_400(client):
    response = client.post("/api/v1/auth/token", data=b"{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_json"


def test_a_caller_without_credentials_hears_401_before_its_input_is_judged(client):
    """Every operation the OpenAPI document marks as needing a key or token, called without one and with input
    that fails validation, answers 401: an outsider learns nothing about the API's fields, and a large body from
    an unknown caller is not parsed."""
    spec = client.get("/openapi.json").get_json()
    secured = [(path, method) for path, operations in spec["paths"].items()
               for method, operation in operations.items()
               if method in ("get", "post", "put", "patch", "delete") and operation.get("security")]
    assert len(secured) > 40  # the staff, department, terminal, partner and citizen APIs
    answers = {}
    # A path variable gets a value of its documented shape (a fixed path must not be read as one).
    shapes = {"city_code": "330100", "ref": "0" * 32, "day": "2026-01-01"}
    for path, method in secured:
        url = re.sub(r"\{([^}]+)\}", lambda m: shapes.get(m.group(1), "x"), path)
        url += "?page=zero&per_page=-1&date_from=nope&scene="
        response = client.open(url, method=method.upper(), json=[])
        answers[f"{method.upper()} {path}"] = (response.status_code, (response.get_json() or {}).get("code"))
    assert {k: v for k, v in answers.items() if v[0] != 401} == {}
    assert {code for _, code in answers.values()} == {"unauthorized"}


def test_a_lone_surrogate_in_json_is_a_400_and_a_paired_one_is_ordinary_text(client):
    lone = client.post("/api/v1/auth/token", data=b'{"username": "a\\ud800", "password": "x"}',
                       content_type="application/json")
    assert lone.status_code == 400
    assert lone.get_json()["code"] == "invalid_characters"
    emoji = client.post("/api/v1/auth/token", data=b'{"username": "\\ud83d\\ude00", "password": "xxxxxxxx"}',
                        content_type="application/json")
    assert emoji.status_code == 401  # an emoji is text like any other: this is just an unknown user


def test_a_nul_character_in_json_or_in_the_url_is_a_400(client):
    """PostgreSQL text cannot hold NUL: refused up front on every backend, not a 500 on PostgreSQL only."""
    in_json = client.post("/api/v1/auth/token", data=b'{"username": "a\\u0000b", "password": "xxxxxxxx"}',
                          content_type="application/json")
    in_query = client.get("/mp/v1/me/offers?scene=%00")
    in_path = client.post("/merchant/v1/redemptions/a%00b/cancel")
    for response in (in_json, in_query, in_path):
        assert response.status_code == 400
        assert response.get_json()["code"] == "invalid_characters"


def test_openapi_lists_the_api_and_docs_page_is_served(client):
    spec = client.get("/openapi.json").get_json()
    for path in ("/api/v1/records/batch", "/api/v1/citizens/lookup", "/api/v1/citizens/{ref}/score",
                 "/api/v1/auth/token", "/healthz", "/readyz"):
        assert path in spec["paths"], path
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert b"/docs/assets/swagger-ui-bundle.js" in docs.data  # served by us: works without a CDN
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_request_id_is_echoed(client):
    response = client.get("/healthz", headers={"X-Request-Id": "abc123"})
    assert response.headers["X-Request-Id"] == "abc123"


def test_a_pooled_connection_that_died_while_idle_is_replaced_before_use(tmp_path: Path):
    """The pool pings a connection idle longer than DB_PING_AFTER_IDLE_SECONDS; a dead one never reaches a request."""
    import os

    import psycopg
    import pytest
    from sqlalchemy import text

    from app.extensions import db
    from tests.conftest import _test_overrides

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("needs PostgreSQL: a SQLite connection cannot be killed from outside")
    app = create_app(TestConfig, **{**_test_overrides(tmp_path), "DB_PING_AFTER_IDLE_SECONDS": 0})
    with app.app_context():
        first_pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.remove()  # back to the pool
        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", (first_pid,))
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    with app.app_context():
        assert db.session.scalar(text("SELECT pg_backend_pid()")) != first_pid
        db.engine.dispose()


def test_a_database_that_does_not_answer_is_a_503_to_retry_not_a_500(twin_app):
    cut_off = twin_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none",
                        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 1}}).test_client()
    for response in (cut_off.post("/api/v1/auth/token", json={"username": "staff01", "password": "x" * 12}),
                     cut_off.post("/merchant/v1/verifications", headers={"Authorization": "Bearer mk_anything"},
                                  json={"code": "XYF1.a.b.c", "offer_id": "x"})):
        assert response.status_code == 503
        assert response.get_json() == {"code": "service_unavailable", "status": 503,
                                       "message": "服务暂时不可用，请稍后再试。"}
        assert response.headers["Retry-After"] == "5"

