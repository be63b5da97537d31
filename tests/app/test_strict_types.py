"""JSON bodies are read with JSON's own types: a number is not a boolean, a fraction is not an integer, and a PATCH
that changes nothing is a mistake the caller hears about."""

from __future__ import annotations

import pytest

from benefits.catalog import ensure_default_scenes
from tests.factories import staff_headers

VALID_USCC = "91110000600037341L"


@pytest.fixture
def admin(app, client):
    with app.app_context():
        ensure_default_scenes()
        return staff_headers(client, "admin-strict", role="admin")


@pytest.fixture
def targets(app, client, admin, tmp_path):
    from tests.app.partners.conftest import PartnerCity

    merchant = client.post("/api/v1/merchants", headers=admin,
                           json={"name": "绍兴大禹陵景区", "uscc": VALID_USCC, "scenes": ["you"]}).get_json()
    branch = client.post(f"/api/v1/merchants/{merchant['merchant_id']}/branches", headers=admin,
                         json={"name": "东门"}).get_json()
    with app.app_context():
        PartnerCity(tmp_path / "hz").register()
    return ["/api/v1/scenes/you", f"/api/v1/merchants/{merchant['merchant_id']}",
            f"/api/v1/merchants/{merchant['merchant_id']}/branches/{branch['branch_id']}", "/api/v1/partners/330100"]


def test_a_patch_without_a_body_or_with_an_empty_one_is_refused(client, admin, targets):
    for url in targets:
        for kwargs in ({}, {"json": {}}):
            response = client.patch(url, headers=admin, **kwargs)
            assert response.status_code == 422, (url, kwargs, response.get_json())
            body = response.get_json()
            assert body["code"] == "validation_error" and "修改" in str(body["errors"]), body


@pytest.mark.parametrize("value", [0, 1, "yes", "0", None])
def test_active_must_be_true_or_false(client, admin, value):
    response = client.patch("/api/v1/scenes/you", headers=admin, json={"active": value})
    assert response.status_code == 422, response.get_json()
    assert "active" in response.get_json()["errors"]


@pytest.mark.parametrize("value", [2.6e-42, 2.5, 3.0, True, "2"])
def test_integers_must_be_integers(client, admin, value):
    response = client.patch("/api/v1/scenes/you", headers=admin, json={"sort_order": value})
    assert response.status_code == 422, response.get_json()
    assert "sort_order" in response.get_json()["errors"]


def test_true_false_and_whole_numbers_still_work(client, admin):
    response = client.patch("/api/v1/scenes/you", headers=admin, json={"active": False, "sort_order": 7})
    assert response.status_code == 200, response.get_json()
    # A query string is text by nature: its booleans and numbers are still read from text.
    listed = client.get("/api/v1/scenes?include_inactive=true", headers=admin)
    assert listed.status_code == 200 and any(scene["code"] == "you" for scene in listed.get_json())
