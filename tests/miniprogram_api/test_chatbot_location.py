"""The chatbot answers a shared location (WeChat's Location message, GCJ-02) with the three nearest offers the
follower can use; an unbound follower is told how to bind."""

from __future__ import annotations

import time

from benefits import geo

HERE = (30.00101, 120.58598)  # 城市广场, 越城区


def location_xml(official_account, person: str, lat, lng, label: str = "绍兴市越城区城市广场") -> str:
    official_account.counter += 1
    return (f"<xml><ToUserName><![CDATA[gh_5a0c1a000002]]></ToUserName>"
            f"<FromUserName><![CDATA[{official_account.openid(person)}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[location]]></MsgType>"
            f"<Location_X>{lat}</Location_X><Location_Y>{lng}</Location_Y><Scale>15</Scale>"
            f"<Label><![CDATA[{label}]]></Label><MsgId>{official_account.counter}</MsgId></xml>")


def _say(official_account, xml: str, secure: bool = False) -> str:
    post = official_account.post_secure if secure else official_account.post_plain
    return official_account.open_reply(post(xml))["Content"]


def _city(app):
    from benefits import catalog
    from benefits.catalog import ensure_default_scenes
    from tests.benefits.helpers import make_merchant, make_offer

    places = [("鲁迅故里商户", "鲁迅中路店", 29.99597, 120.58102), ("府山商户", "府山店", 30.00302, 120.57497),
              ("大禹陵商户", "南门", 29.98352, 120.61147), ("柯桥商户", "轻纺城店", 30.08203, 120.49588)]
    with app.app_context():
        ensure_default_scenes()
        for name, branch, lat, lng in places:
            merchant, _, _ = make_merchant(name, scenes=("you",), branches=())
            catalog.add_branch(merchant, branch, "绍兴", lat, lng)
            make_offer(merchant, title=f"{name}门票8折", min_level=3)
        # The nearest of all, but out of this follower's reach: never listed.
        vip, _, _ = make_merchant("城市广场商户", scenes=("you",), branches=())
        catalog.add_branch(vip, "广场店", "绍兴", 30.00111, 120.58608)
        make_offer(vip, title="城市广场VIP", min_level=5)
    return places


def test_location_answers_the_three_nearest_usable_offers(app, bound, official_account):
    places = _city(app)
    bound("wang", code="wang")
    content = _say(official_account, location_xml(official_account, "wang", *HERE), secure=True)
    lines = content.splitlines()
    assert lines[0] == "离您最近的 3 项您可以享受的信易+权益："
    nearest = sorted(places, key=lambda p: geo.distance_m(*HERE, p[2], p[3]))[:3]
    for line, (name, branch, lat, lng) in zip(lines[1:4], nearest, strict=True):
        metres = geo.distance_m(*HERE, lat, lng)
        assert metres < 5000  # all three are in 越城区; 柯桥 (12 km) is not among them
        said = f"约 {round(metres, -1)} 米" if metres < 1000 else f"约 {metres / 1000:.1f} 公里"
        assert line.endswith(f"{name}门票8折（{name}·{branch}，{said}）")
    assert "约 7" in lines[1] and "公里" in lines[2]  # 鲁迅中路店 0.7 km, 府山店 1.1 km
    assert "VIP" not in content and "柯桥" not in content
    assert 'data-miniprogram-path="pages/benefits/index"' in content


def test_unbound_follower_is_told_how_to_bind(app, official_account, wechat):
    _city(app)
    content = _say(official_account, location_xml(official_account, "stranger", *HERE))
    assert "还没有绑定本人身份" in content and 'data-miniprogram-path="pages/bind/index"' in content


def test_nothing_nearby_and_a_garbled_location(app, bound, official_account):
    bound("wang", code="wang")
    assert "附近暂无可以享受的信易+权益" in _say(official_account, location_xml(official_account, "wang", *HERE))
    garbled = _say(official_account, location_xml(official_account, "wang", "abc", "120.5"))
    assert garbled == "未能识别您发送的位置，请重新发送位置。"
