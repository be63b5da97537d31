"""What the request layer refuses before any view: nesting too deep to parse, malformed JSON, bodies that are not
JSON where JSON is expected. Each answer is a coded 4xx with a Chinese message, never a 500 or English text."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("body", [b"[" * 3000 + b"]" * 3000, b'{"a":' * 3000 + b"1" + b"}" * 3000,
                                  b'{"username": ' + b"[" * 200 + b"]" * 200 + b"}"])
def test_deeply_nested_json_is_refused_not_a_crash(client, body):
    response = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)[:200]
    assert response.get_json()["code"] == "json_too_deep"
    assert "嵌套" in response.get_json()["message"]


def test_brackets_inside_strings_do_not_count_as_nesting(client):
    response = client.post("/api/v1/auth/token", json={"username": "[" * 64, "password": "{" * 256})
    assert response.status_code == 401


def test_malformed_json_is_answered_in_chinese(client):
    response = client.post("/api/v1/auth/token", data=b'{"username": ', content_type="application/json")
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "invalid_json" and "JSON" in body["message"]
    assert "Invalid JSON body" not in response.get_data(as_text=True)


def test_a_text_plain_body_where_json_is_expected_is_415(client):
    response = client.post("/api/v1/auth/token", data=b'{"username": "a", "password": "b"}',
                           content_type="text/plain")
    assert response.status_code == 415
    assert response.get_json()["code"] == "unsupported_media_type"
