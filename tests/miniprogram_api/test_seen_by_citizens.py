"""What a citizen and a staff member read: the merchant that scanned a code is named with its branch, and a
malformed ID number at the counter is said to be malformed, not "not found"."""

from __future__ import annotations

import pytest

from tests.benefits.helpers import Shop, code_for, make_citizen, mp_headers
from tests.factories import staff_headers


@pytest.fixture(autouse=True)
def _scenes(app):
    from benefits.catalog import ensure_default_scenes

    with app.app_context():
        ensure_default_scenes()


def test_who_looked_at_my_data_names_the_merchant_and_branch(app, client):
    with app.app_context():
        shop = Shop(client)
        headers = mp_headers(make_citizen("张三丰", level=3))
    assert shop.verify(code_for(client, headers))["eligible"] is True
    trail = client.get("/mp/v1/me/audit", headers=headers).get_json()["items"]
    scan = next(item for item in trail if item["action"] == "benefits.verify")
    assert scan["who"] == "绍兴大禹陵景区（南门售票处）", scan
    assert scan["who_type"] == "merchant"


@pytest.mark.parametrize(("number", "code"), [("123", "id_number_length"), ("11010519491231002Y", "id_number_format"),
                                              ("110105194912310021", "id_number_checksum")])
def test_a_staff_lookup_of_a_malformed_id_number_says_so(app, client, number, code):
    with app.app_context():
        headers = staff_headers(client)
    response = client.post("/api/v1/citizens/lookup", json={"id_number": number, "reason": "窗口业务办理"},
                           headers=headers)
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["code"] == "invalid_id_number" and body["errors"]["id_number"] and "身份证" in body["message"]
