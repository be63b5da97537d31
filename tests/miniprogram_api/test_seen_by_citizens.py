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


def test_the_console_citizen_file_names_who_looked(app, client):
    """The staff's view of the same trail (issue 22, defect 6): names, not ``merchant:<32 hex>`` or usernames."""
    import re

    from app.audit import service as audit
    from app.auth.service import create_staff
    from app.extensions import db
    from tests.app.console.helpers import login, page_token
    from tests.factories import STAFF_PASSWORD, gen_department
    from tests.miniprogram_api.conftest import _plain_id

    with app.app_context():
        shop = Shop(client)
        citizen = make_citizen("张三丰", level=3)
        headers = mp_headers(citizen)
        department, _ = gen_department("SX_AMR", name="绍兴市市场监督管理局")
        audit.log(citizen.id, "rights.case.view", "部门查看信用异议", actor=audit.Actor("department", department.code))
        create_staff("wangfang", STAFF_PASSWORD, display_name="王芳")
        db.session.commit()
        id_number = _plain_id(citizen)
    assert shop.verify(code_for(client, headers))["eligible"] is True
    console = app.test_client()
    assert login(console, "wangfang").status_code == 302
    token = page_token(console, "/console/citizens")
    html = console.post("/console/citizens/file", data={"id_number": id_number, "reason": "窗口业务办理",
                                                         "csrf_token": token}).get_data(as_text=True)
    trail = html.split('data-testid="audit-trail"')[1].split("</table>")[0]
    assert "绍兴大禹陵景区（南门售票处）" in trail
    assert "绍兴市市场监督管理局" in trail and "王芳" in trail
    assert not re.search(r"[0-9a-f]{32}", trail), trail
    assert "SX_AMR" not in trail and "wangfang" not in trail
