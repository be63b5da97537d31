"""The citizen's list of offers: what they qualify for now, and for the rest what they lack."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.timeutil import city_today
from tests.benefits.conftest import _scenes  # noqa: F401 - the 13 scenes, restored for every test
from tests.benefits.helpers import Shop, code_for, make_citizen, make_merchant, make_offer, mp_headers
from tests.factories import bearer


@pytest.fixture
def catalog_city(app, client):
    """A scenic spot with three offers and a bike-sharing offer."""
    with app.app_context():
        today = city_today()
        shop = Shop(client, title="大禹陵景区门票8折", min_level=3, limit_per_day=1)
        make_offer(shop.merchant_ref, title="大禹陵VIP通道", min_level=4)
        make_offer(shop.merchant_ref, title="春季特惠", min_level=2, valid_from=today + timedelta(days=5))
        make_offer(shop.merchant_ref, title="去年的活动", min_level=1, valid_until=today - timedelta(days=1))
        bikes, stations, key = make_merchant("绍兴公共自行车", scenes=("xing",), branches=("城市广场站", "鲁迅故里站"))
        deposit = make_offer(bikes, title="公共自行车免押金", scene="xing", min_level=2, quota=1)
        shop.bikes = {"key": key, "offer_ref": deposit.ref, "branch_ref": stations[0].ref}
        return shop


def _by_title(listing: dict) -> dict:
    return {offer["title"]: offer for offer in listing["qualified"] + listing["others"]}


def test_l3_citizen_sees_what_they_qualify_for_and_what_they_lack(app, client, catalog_city):
    with app.app_context():
        headers = mp_headers(make_citizen("张三", level=3))
    listing = client.get("/mp/v1/me/offers", headers=headers).get_json()
    assert (listing["level"], listing["level_name"]) == (3, "良好")
    assert [offer["title"] for offer in listing["qualified"]] == ["大禹陵景区门票8折", "公共自行车免押金"]
    offers = _by_title(listing)
    assert "去年的活动" not in offers  # ended offers are not shown
    vip = offers["大禹陵VIP通道"]
    assert vip["eligible"] is False and [lack["code"] for lack in vip["lacks"]] == ["level"]
    assert vip["lacks"][0]["message"] == "需要信用等级“优秀”及以上，您目前为“良好”。"
    spring = offers["春季特惠"]
    assert [lack["code"] for lack in spring["lacks"]] == ["not_yet_valid"]
    bikes = offers["公共自行车免押金"]
    assert bikes["scene"] == {"code": "xing", "name": "信易行"} and bikes["quota_left"] == 1
    assert [b["name"] for b in bikes["branches"]] == ["城市广场站", "鲁迅故里站"]
    assert bikes["min_level_name"] == "一般"


def test_used_up_limit_and_gone_quota_are_what_they_lack(app, client, catalog_city):
    shop = catalog_city
    with app.app_context():
        headers = mp_headers(make_citizen("张三", level=3))
    assert shop.verify(code_for(client, headers))["reason"] == "ok"
    offers = _by_title(client.get("/mp/v1/me/offers", headers=headers).get_json())
    ticket = offers["大禹陵景区门票8折"]
    assert [lack["code"] for lack in ticket["lacks"]] == ["limit_day"]
    assert ticket["used"] == {"today": 1, "this_month": 1, "total": 1}

    with app.app_context():
        other = mp_headers(make_citizen("李四", level=3))
    bikes = shop.bikes  # the one place goes to the first citizen
    assert shop.verify(code_for(client, headers), offer_ref=bikes["offer_ref"], branch_ref=bikes["branch_ref"],
                       headers=bearer(bikes["key"]))["reason"] == "ok"
    offers = _by_title(client.get("/mp/v1/me/offers", headers=other).get_json())
    assert [lack["code"] for lack in offers["公共自行车免押金"]["lacks"]] == ["quota_gone"]
    assert offers["公共自行车免押金"]["quota_left"] == 0


def test_filter_by_scene_and_unknown_scene(app, client, catalog_city):
    with app.app_context():
        headers = mp_headers(make_citizen("张三", level=3))
    listing = client.get("/mp/v1/me/offers?scene=xing", headers=headers).get_json()
    assert [offer["title"] for offer in listing["qualified"] + listing["others"]] == ["公共自行车免押金"]
    response = client.get("/mp/v1/me/offers?scene=nope", headers=headers)
    assert response.status_code == 404 and response.get_json()["code"] == "scene_not_found"


def test_without_consent_or_when_restricted_every_offer_says_why(app, client, catalog_city):
    with app.app_context():
        no_consent = mp_headers(make_citizen("赵六", consent=False))
        restricted = mp_headers(make_citizen("钱七", level=0))
    listing = client.get("/mp/v1/me/offers", headers=no_consent).get_json()
    assert listing["qualified"] == [] and listing["level"] is None
    assert all("no_scoring_consent" in [lack["code"] for lack in o["lacks"]] for o in listing["others"])
    listing = client.get("/mp/v1/me/offers", headers=restricted).get_json()
    assert listing["qualified"] == [] and listing["level_name"] == "受限"
    assert all("restricted" in [lack["code"] for lack in o["lacks"]] for o in listing["others"])
