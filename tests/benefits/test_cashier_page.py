"""The cashier's page as served (HTML, headers, its own assets) and the merchant API call behind its
"today's redemptions" list. What the cashier sees in a browser is in tests/browser/test_cashier.py."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser

import pytest

from app.extensions import db
from benefits import catalog, credit_code
from tests.benefits.helpers import Shop, code_for, make_citizen, mp_headers
from tests.factories import bearer


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


def test_page_is_chinese_and_loads_only_own_assets_under_a_strict_policy(client):
    response = client.get("/merchant/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "default-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "camera=(self)" in response.headers["Permissions-Policy"]
    html = response.get_data(as_text=True)
    parsed = _parse(html)
    assert "终端登录" in html and "扫码枪 / 手工输入" in html and "今日核销" in html
    scripts = [attrs for tag, attrs in parsed.tags if tag == "script"]
    assert scripts and all(attrs.get("src", "").startswith("/") for attrs in scripts)  # no inline code
    assert not any("style" in attrs or any(name.startswith("on") for name in attrs) for _, attrs in parsed.tags)
    assert "<style" not in html
    sources = [a["src"] for a in scripts] + [a["href"] for t, a in parsed.tags if t == "link" and "href" in a]
    assert "/assets/vendor/zxing-browser.min.js" in sources
    for source in sources:
        if source.startswith("/assets/vendor/") and client.get(source).status_code == 503:
            continue  # npm ci not run on this machine: the asset says so (tests/browser/test_assets.py)
        assert client.get(source).status_code == 200, source


def test_page_needs_no_session_and_the_terminal_key_never_travels_in_the_url(client):
    # The key lives in the browser; the page is the same for everyone and never cached.
    response = client.get("/merchant/")
    assert "no-store" in response.headers["Cache-Control"]
    assert "Set-Cookie" not in response.headers
    script = client.get("/merchant/static/cashier.js").get_data(as_text=True)
    assert "Authorization" in script and "localStorage" in script
    assert not re.search(r"[?&]key=", script)


@pytest.fixture
def shop(app, client):
    with app.app_context():
        return Shop(client, limit_per_day=None)


def _citizen_headers(app, name="张三丰"):
    with app.app_context():
        return mp_headers(make_citizen(name, level=3))


def test_today_lists_this_terminals_redemptions_newest_first_with_the_cancel_deadline(app, client, shop,
                                                                                       monkeypatch):
    citizen = _citizen_headers(app)
    first = shop.verify(code_for(client, citizen))["redemption_id"]
    second = shop.verify(code_for(client, citizen))["redemption_id"]
    with app.app_context():
        merchant = catalog.get_merchant(shop.merchant_ref)
        _, other_key = catalog.issue_terminal(merchant, "收银台2号")
        db.session.commit()
    other = shop.verify(code_for(client, citizen), headers=bearer(other_key))["redemption_id"]
    assert client.post(f"/merchant/v1/redemptions/{first}/cancel", headers=shop.headers).status_code == 200

    response = client.get("/merchant/v1/me/redemptions", headers=shop.headers)
    assert response.status_code == 200
    today = response.get_json()
    assert today["total"] == 2 and [i["redemption_id"] for i in today["items"]] == [second, first]
    latest, cancelled = today["items"]
    assert latest["status"] == "redeemed" and latest["offer_title"] == "大禹陵景区门票8折"
    assert latest["branch_name"] == "南门售票处"
    assert latest["cancellable_until"] > latest["redeemed_at"]
    assert latest["cancellable_until"].endswith("+08:00")
    assert cancelled["status"] == "cancelled" and cancelled["cancellable_until"] is None
    assert "masked_name" not in latest and "citizen" not in str(latest)
    mine = client.get("/merchant/v1/me/redemptions", headers=bearer(other_key)).get_json()
    assert [i["redemption_id"] for i in mine["items"]] == [other]

    monkeypatch.setattr(credit_code, "clock", lambda: time.time() + 31 * 60)
    later = client.get("/merchant/v1/me/redemptions", headers=shop.headers).get_json()
    if later["day"] == today["day"]:  # past the window, still today: listed, no longer cancellable
        assert [i["cancellable_until"] for i in later["items"]] == [None, None]
    monkeypatch.setattr(credit_code, "clock", lambda: time.time() + 24 * 3600)
    assert client.get("/merchant/v1/me/redemptions", headers=shop.headers).get_json()["items"] == []


def test_today_needs_a_valid_terminal_key(client):
    for headers in ({}, bearer("mk_nope")):
        response = client.get("/merchant/v1/me/redemptions", headers=headers)
        assert response.status_code == 401
        body = response.get_json()
        assert body["code"] == "unauthorized" and body["message"] == "终端接口密钥无效或已停用。"
