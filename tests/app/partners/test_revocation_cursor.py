"""The revocation feed's cursor: a forged huge position is a 422, and ``since=0`` or an empty ``since`` start over."""

from __future__ import annotations

import base64

import pytest


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("since", [_cursor("r1:" + "9" * 30), _cursor("r1:2147483648"), _cursor("r1:-1")])
def test_an_out_of_range_cursor_is_refused_not_a_crash(client, hangzhou, since):
    response = client.get("/partner/v1/revocations", query_string={"since": since}, headers=hangzhou.headers())
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["code"] == "bad_cursor"


@pytest.mark.parametrize("since", ["0", ""])
def test_zero_or_empty_since_reads_from_the_start(client, hangzhou, since):
    response = client.get("/partner/v1/revocations", query_string={"since": since}, headers=hangzhou.headers())
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["items"] == []


def test_the_largest_position_is_still_a_cursor(client, hangzhou):
    since = _cursor("r1:2147483647")
    response = client.get("/partner/v1/revocations", query_string={"since": since}, headers=hangzhou.headers())
    assert response.status_code == 200 and response.get_json()["cursor"] == since
