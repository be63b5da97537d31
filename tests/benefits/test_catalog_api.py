"""Staff manage the 信易+ catalog: scenes, merchants (USCC checked), branches, terminal keys, offers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.security.secrets_util import digest
from benefits.catalog import DEFAULT_SCENES
from benefits.models import Terminal
from benefits.uscc import InvalidUscc, make_uscc, normalise_uscc
from tests.factories import bearer, staff_headers

VALID_USCC = "91110000600037341L"


@pytest.fixture
def staff(app, client):
    with app.app_context():
        return staff_headers(client, "xinyong02")


@pytest.fixture
def admin(app, client):
    with app.app_context():
        return staff_headers(client, "admin02", role="admin")


@pytest.fixture
def merchant(client, admin):
    response = client.post("/api/v1/merchants", headers=admin,
                           json={"name": "绍兴大禹陵景区", "uscc": VALID_USCC, "scenes": ["you"]})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_uscc_checksum():
    assert normalise_uscc(" 91110000600037341l ") == VALID_USCC
    for bad, fragment in [("91110000600037341N", "校验位"), ("9111000060003734", "18 位"),
                          ("91110000600037341I", "字符"), ("911100006000373O1L", "字符")]:
        with pytest.raises(InvalidUscc) as error:
            normalise_uscc(bad)
        assert fragment in error.value.message
    assert normalise_uscc(make_uscc("91330602MA2BCDEF0"))


def test_the_thirteen_scenes_are_there_and_staff_add_more(client, staff):
    scenes = client.get("/api/v1/scenes", headers=staff).get_json()
    assert [(s["code"], s["name"]) for s in scenes] == [(code, name) for code, name, _, _ in DEFAULT_SCENES]
    assert {s["provider"] for s in scenes if s["name"] in ("信易批", "信易管")} == {"government"}

    response = client.post("/api/v1/scenes", headers=staff,
                           json={"code": "jiu", "name": "信易就", "description": "为守信主体提供就业服务便利"})
    assert response.status_code == 201 and response.get_json()["sort_order"] > 130
    assert client.post("/api/v1/scenes", headers=staff, json={"code": "jiu2", "name": "信易就"}).status_code == 409
    bad = client.post("/api/v1/scenes", headers=staff, json={"code": "Bad Code", "name": "信易坏"})
    assert bad.status_code == 422 and "code" in bad.get_json()["errors"]
    assert len(client.get("/api/v1/scenes", headers=staff).get_json()) == 14

    assert client.patch("/api/v1/scenes/jiu", headers=staff, json={"active": False}).status_code == 200
    assert len(client.get("/api/v1/scenes", headers=staff).get_json()) == 13
    assert len(client.get("/api/v1/scenes?include_inactive=true", headers=staff).get_json()) == 14
    assert client.get("/api/v1/scenes").status_code == 401


def test_onboarding_a_merchant_is_for_admins_and_checks_the_uscc(client, staff, admin):
    body = {"name": "绍兴大禹陵景区", "uscc": VALID_USCC, "scenes": ["you"]}
    response = client.post("/api/v1/merchants", headers=staff, json=body)
    assert response.status_code == 403
    response = client.post("/api/v1/merchants", headers=admin, json={**body, "uscc": "91110000600037341N"})
    assert response.status_code == 422 and response.get_json()["code"] == "invalid_uscc"
    assert "校验位" in response.get_json()["message"]
    response = client.post("/api/v1/merchants", headers=admin, json={**body, "scenes": ["nope"]})
    assert response.status_code == 422 and response.get_json()["code"] == "scene_not_found"
    created = client.post("/api/v1/merchants", headers=admin, json=body)
    assert created.status_code == 201
    merchant = created.get_json()
    assert merchant["scenes"] == ["you"] and merchant["status"] == "active" and len(merchant["merchant_id"]) == 32
    assert client.post("/api/v1/merchants", headers=admin, json=body).status_code == 409

    listing = client.get("/api/v1/merchants?scene=you", headers=staff).get_json()
    assert listing["total"] == 1 and listing["items"][0]["name"] == "绍兴大禹陵景区"
    assert client.get("/api/v1/merchants?scene=xing", headers=staff).get_json()["total"] == 0
    suspended = client.patch(f"/api/v1/merchants/{merchant['merchant_id']}", headers=admin,
                             json={"status": "suspended", "scenes": ["you", "gou"]})
    assert suspended.get_json()["status"] == "suspended" and suspended.get_json()["scenes"] == ["you", "gou"]


def test_branches_and_terminal_keys(app, client, staff, admin, merchant):
    merchant_id = merchant["merchant_id"]
    branch = client.post(f"/api/v1/merchants/{merchant_id}/branches", headers=staff,
                         json={"name": "南门售票处", "address": "绍兴市越城区禹陵路"})
    assert branch.status_code == 201
    branch_id = branch.get_json()["branch_id"]

    assert client.post(f"/api/v1/merchants/{merchant_id}/terminals", headers=staff,
                       json={"name": "收银台1号"}).status_code == 403
    issued = client.post(f"/api/v1/merchants/{merchant_id}/terminals", headers=admin,
                         json={"name": "南门闸机", "branch_id": branch_id})
    assert issued.status_code == 201
    terminal = issued.get_json()
    assert terminal["key"].startswith("mk_") and terminal["branch_id"] == branch_id
    with app.app_context():
        stored = db.session.scalar(select(Terminal).where(Terminal.ref == terminal["terminal_id"]))
        assert stored.key_digest == digest(terminal["key"]) and terminal["key"] not in stored.key_digest
    listed = client.get(f"/api/v1/merchants/{merchant_id}/terminals", headers=staff).get_json()
    assert "key" not in listed[0]

    me = client.get("/merchant/v1/me", headers=bearer(terminal["key"]))
    assert me.status_code == 200 and me.get_json()["terminal_branch_id"] == branch_id
    revoked = client.delete(f"/api/v1/merchants/{merchant_id}/terminals/{terminal['terminal_id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"]
    assert client.get("/merchant/v1/me", headers=bearer(terminal["key"])).status_code == 401


def test_offers_are_validated_and_listed(client, staff, merchant):
    merchant_id = merchant["merchant_id"]
    branch_id = client.post(f"/api/v1/merchants/{merchant_id}/branches", headers=staff,
                            json={"name": "南门售票处"}).get_json()["branch_id"]
    body = {"merchant_id": merchant_id, "scene": "you", "title": "大禹陵景区门票8折",
            "description": "信用良好及以上的居民凭信用码购票享8折", "min_level": 3, "limit_per_day": 1,
            "quota": 5000, "valid_from": "2026-01-01", "valid_until": "2030-12-31", "branch_ids": [branch_id],
            "partner_allowed": True}
    created = client.post("/api/v1/offers", headers=staff, json=body)
    assert created.status_code == 201, created.get_json()
    offer = created.get_json()
    assert offer["partner_min_level"] == 3  # partners qualify from the same level unless told otherwise
    assert offer["state"] == "active" and offer["redeemed_count"] == 0
    assert [b["branch_id"] for b in offer["branches"]] == [branch_id]

    wrong_scene = client.post("/api/v1/offers", headers=staff, json={**body, "scene": "xing"})
    assert wrong_scene.status_code == 422 and wrong_scene.get_json()["code"] == "scene_not_of_merchant"
    dates = client.post("/api/v1/offers", headers=staff, json={**body, "valid_until": "2025-01-01"})
    assert dates.status_code == 422 and "valid_until" in dates.get_json()["errors"]
    level = client.post("/api/v1/offers", headers=staff, json={**body, "min_level": 0})
    assert level.status_code == 422
    foreign_branch = client.post("/api/v1/offers", headers=staff, json={**body, "branch_ids": ["f" * 32]})
    assert foreign_branch.status_code == 404 and foreign_branch.get_json()["code"] == "branch_not_found"

    paused = client.patch(f"/api/v1/offers/{offer['offer_id']}", headers=staff, json={"status": "paused"})
    assert paused.get_json()["state"] == "paused"
    listing = client.get(f"/api/v1/offers?merchant_id={merchant_id}", headers=staff).get_json()
    assert listing["total"] == 1 and listing["items"][0]["title"] == "大禹陵景区门票8折"
    assert client.get("/api/v1/offers/" + "0" * 32, headers=staff).status_code == 404


def test_numbers_too_big_for_the_database_are_refused_field_by_field(client, staff, merchant):
    huge = 10**20
    offer = client.post("/api/v1/offers", headers=staff, json={
        "merchant_id": merchant["merchant_id"], "scene": "you", "title": "大禹陵景区门票8折",
        "limit_per_month": huge, "quota": huge})
    assert offer.status_code == 422
    assert set(offer.get_json()["errors"]) == {"limit_per_month", "quota"}
    scene = client.patch("/api/v1/scenes/you", headers=staff, json={"sort_order": -huge})
    assert scene.status_code == 422 and set(scene.get_json()["errors"]) == {"sort_order"}
    for path in ("/api/v1/merchants", "/api/v1/offers", "/api/v1/redemptions", "/api/v1/verification-attempts"):
        page = client.get(f"{path}?page={huge}", headers=staff)
        assert page.status_code == 422 and set(page.get_json()["errors"]) == {"page"}, path
    assert client.get("/api/v1/offers?page=100000", headers=staff).get_json()["items"] == []


def test_openapi_documents_the_benefits_endpoints(client):
    spec = client.get("/openapi.json").get_json()
    for path in ("/api/v1/scenes", "/api/v1/merchants", "/api/v1/offers", "/merchant/v1/verifications",
                 "/merchant/v1/redemptions/{redemption_id}/cancel", "/merchant/v1/totals", "/.well-known/jwks.json",
                 "/mp/v1/me/offers", "/mp/v1/me/credit-code", "/mp/v1/me/redemptions"):
        assert path in spec["paths"], path
    assert "terminalKey" in spec["components"]["securitySchemes"]


def test_every_paged_list_has_one_shape(app, client):
    """Staff lists, the merchant's ledger and the citizen's lists answer {items, page, per_page, total, pages}."""
    from tests.benefits.helpers import Shop
    from tests.factories import staff_headers

    with app.app_context():
        headers = staff_headers(client)
        shop = Shop(client)
    paths = ("/api/v1/merchants", "/api/v1/offers", "/api/v1/redemptions", "/api/v1/verification-attempts")
    answers = [client.get(path, headers=headers, query_string={"per_page": 1}).get_json() for path in paths]
    merchant = client.get("/merchant/v1/redemptions", headers=shop.headers, query_string={"per_page": 1})
    answers.append(merchant.get_json())
    for answer in answers:
        assert set(answer) == {"items", "page", "per_page", "total", "pages"}, answer
        assert answer["per_page"] == 1 and answer["pages"] == answer["total"]
    assert answers[0]["total"] == 1 and answers[0]["pages"] == 1
