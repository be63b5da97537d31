"""Offers by distance: branches carry GCJ-02 coordinates (set through the staff API or the console's merchant page);
GET /mp/v1/me/offers?lat=&lng= lists offers from the nearest branch out, each with the branch and its distance."""

from __future__ import annotations

from benefits import catalog, geo
from tests.app.console.helpers import page_token, staff_client
from tests.benefits.helpers import make_citizen, make_merchant, make_offer, mp_headers
from tests.factories import staff_headers

# 城市广场 in 越城区 (GCJ-02): where the citizen stands.
HERE = (30.00101, 120.58598)


def test_distance_of_known_points():
    assert geo.distance_m(*HERE, *HERE) == 0
    # 城市广场 → 柯桥轻纺城: about 12.5 km on a map.
    assert 12_000 < geo.distance_m(*HERE, 30.08203, 120.49588) < 13_000
    # One hundredth of a degree of latitude is about 1.11 km anywhere.
    assert geo.distance_m(30.0, 120.0, 30.01, 120.0) == 1112


def test_offers_sorted_by_the_nearest_branch(app, client, ctx):
    citizen = make_citizen("王丽", level=4)
    far, _, _ = make_merchant("柯桥轻纺城商户", branches=())
    catalog.add_branch(far, "轻纺城店", "柯桥区", 30.08203, 120.49588)
    near, _, _ = make_merchant("鲁迅故里商户", branches=())
    catalog.add_branch(near, "远店", "柯桥区", 30.08996, 120.49302)
    catalog.add_branch(near, "鲁迅中路店", "越城区", 29.99597, 120.58102)
    nowhere, _, _ = make_merchant("未标位置商户", branches=("老店",))
    for merchant in (far, near, nowhere):
        make_offer(merchant, title=f"{merchant.name}优惠")
    headers = mp_headers(citizen)

    answer = client.get("/mp/v1/me/offers", query_string={"lat": HERE[0], "lng": HERE[1]}, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    offers = answer.get_json()["qualified"]
    assert [o["merchant_name"] for o in offers] == ["鲁迅故里商户", "柯桥轻纺城商户", "未标位置商户"]
    first = offers[0]
    assert first["nearest_branch"] == "鲁迅中路店"
    assert first["distance_m"] == geo.distance_m(*HERE, 29.99597, 120.58102)
    assert 600 < first["distance_m"] < 800
    assert [b["name"] for b in first["branches"]] == ["鲁迅中路店", "远店"]
    assert 12_000 < offers[1]["distance_m"] < 13_000
    assert offers[2]["distance_m"] is None and offers[2]["nearest_branch"] is None

    # Without a location: the usual order, no distances.
    plain = client.get("/mp/v1/me/offers", headers=headers).get_json()["qualified"]
    assert {o["distance_m"] for o in plain} == {None}


def test_bad_coordinates_are_a_422(app, client, ctx):
    headers = mp_headers(make_citizen("王丽", level=3))
    for query in ({"lat": "abc", "lng": "120.5"}, {"lat": "95", "lng": "120.5"}, {"lat": "30", "lng": "181"},
                  {"lat": "30.0"}, {"lng": "120.5"}, {"lat": "nan", "lng": "120"}):
        response = client.get("/mp/v1/me/offers", query_string=query, headers=headers)
        assert response.status_code == 422, (query, response.get_json())
        assert response.get_json()["code"] == "validation_error"


def test_staff_set_coordinates_through_the_api_and_the_console(app, client, ctx):
    merchant, branches, _ = make_merchant()
    staff = staff_headers(client)
    url = f"/api/v1/merchants/{merchant.ref}/branches"
    created = client.post(url, headers=staff, json={"name": "北门游客中心", "address": "越城区禹陵路18号",
                                                    "lat": 29.98702, "lng": 120.61003})
    assert created.status_code == 201, created.get_json()
    assert (created.get_json()["lat"], created.get_json()["lng"]) == (29.98702, 120.61003)
    half = client.patch(f"{url}/{branches[0].ref}", headers=staff, json={"lat": 29.98})
    assert half.status_code == 422 and "lng" in str(half.get_json()["errors"])
    abroad = client.post(url, headers=staff, json={"name": "海外店", "lat": 48.85, "lng": 2.35})
    assert abroad.status_code == 422 and "lng" in str(abroad.get_json()["errors"])

    console = staff_client(app, "staff02")
    page = f"/console/merchants/{merchant.ref}"
    token = page_token(console, page)
    saved = console.post(f"{page}/branches/{branches[0].ref}/location",
                         data={"csrf_token": token, "lat": "29.98352", "lng": "120.61147"}, follow_redirects=True)
    assert saved.status_code == 200 and "已保存“南门售票处”的位置" in saved.get_data(as_text=True)
    assert 'value="29.98352"' in saved.get_data(as_text=True)
    bad = console.post(f"{page}/branches/{branches[0].ref}/location",
                       data={"csrf_token": token, "lat": "北纬30度", "lng": "120.6"})
    assert bad.status_code == 422 and 'data-field="lat"' in bad.get_data(as_text=True)
