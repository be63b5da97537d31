"""The citizen's own redemption history."""

from __future__ import annotations

from tests.benefits.conftest import _scenes  # noqa: F401 - the 13 scenes, restored for every test
from tests.benefits.helpers import Shop, code_for, make_citizen, mp_headers


def test_citizen_sees_their_redemptions_newest_first_with_cancellations(app, client):
    with app.app_context():
        shop = Shop(client, title="大禹陵景区门票8折")
        headers = mp_headers(make_citizen("张三", level=3))
        other = mp_headers(make_citizen("李四", level=3))
    first = shop.verify(code_for(client, headers))
    second = shop.verify(code_for(client, headers))
    shop.verify(code_for(client, other))
    client.post(f"/merchant/v1/redemptions/{first['redemption_id']}/cancel", headers=shop.headers)

    page = client.get("/mp/v1/me/redemptions", headers=headers).get_json()
    assert page["total"] == 2
    assert [(r["redemption_id"], r["status"]) for r in page["items"]] == [
        (second["redemption_id"], "redeemed"), (first["redemption_id"], "cancelled")]
    item = page["items"][0]
    assert (item["offer_title"], item["scene_name"], item["merchant_name"], item["branch_name"]) == (
        "大禹陵景区门票8折", "信易游", "绍兴大禹陵景区", "南门售票处")
    assert item["redeemed_at"].endswith("+08:00")
    assert client.get("/mp/v1/me/redemptions?per_page=1", headers=headers).get_json()["items"][0][
        "redemption_id"] == second["redemption_id"]
    assert client.get("/mp/v1/me/redemptions").status_code == 401
