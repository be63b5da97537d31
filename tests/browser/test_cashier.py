"""A cashier at the counter (/merchant/): signs in once with the terminal key, scans customers' codes with the
camera (a fake camera filming a real credit code's QR image) or a hand scanner typing into the box, reads the
answer, and cancels a slip within the window. Screenshots: cashier-*.png in the screenshots folder."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from app.citizens.models import Citizen
from app.extensions import db
from benefits import catalog
from benefits import credit_code as credit_codes
from benefits.catalog import ensure_default_scenes
from tests.benefits.helpers import make_merchant, make_offer
from tests.browser.cashier_helpers import (
    citizen_headers,
    credit_code,
    fake_camera_showing,
    open_shop,
    redeemed_count,
    watch_for_script_trouble,
)
from tests.browser.conftest import VIEWPORT

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402


def _sign_in(page, url: str, key: str) -> None:
    page.goto(f"{url}/merchant/")
    page.get_by_label("终端密钥").fill(key)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#desk")).to_be_visible(timeout=15_000)


def _send(page, code: str) -> None:
    """A hand scanner types the code into the focused box and presses Enter."""
    box = page.locator("#code-input")
    expect(box).to_be_focused()
    box.fill(code)
    box.press("Enter")


def test_camera_scan_of_a_customers_code_shows_a_large_green_pass(app, client, live_server, launch_chromium,
                                                                   screenshot, tmp_path):
    shop = open_shop(app, client)
    zhang = citizen_headers(app, "张三丰")

    def camera_pointed_at_a_fresh_code(attempt: int):
        shown = credit_code(client, zhang)
        folder = tmp_path / f"attempt-{attempt}"
        folder.mkdir()
        browser = launch_chromium(*fake_camera_showing(folder, shown["qr_png"]))
        context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
        context.set_default_timeout(15_000)
        page = context.new_page()
        trouble = watch_for_script_trouble(page)
        _sign_in(page, live_server.url, shop.key)
        expect(page.locator("#merchant-name")).to_have_text("绍兴大禹陵景区")
        expect(page.locator("#offer option:checked")).to_have_text("大禹陵景区门票8折（信易游）")
        expect(page.locator("#branch option:checked")).to_have_text("南门售票处")
        page.get_by_role("button", name="打开摄像头扫码").click()
        return browser, page, trouble

    # Chromium's fake camera now and then shows the page a picture its decoder never reads, the camera running
    # (seen in about one full browser run in four on PostgreSQL, never with a hand scanner): a fresh code
    # in a fresh browser tells that apart from a page that cannot scan at all, which fails both times.
    for attempt in range(2):
        browser, page, trouble = camera_pointed_at_a_fresh_code(attempt)
        result = page.locator("#result")
        try:
            expect(result).to_have_class(re.compile(r"\bresult--ok\b"), timeout=20_000)
            break
        except AssertionError:
            if attempt == 1:
                raise
            browser.close()
    expect(page.locator("#result-title")).to_have_text("核验通过")
    expect(page.locator("#result-person")).to_have_text("张** · 信用良好")
    expect(page.locator("#result-message")).to_contain_text("大禹陵景区门票8折")
    assert page.locator("#result-title").evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 48
    assert page.locator("#result").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(229, 246, 234)"
    rows = page.locator("#today-rows tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("已核销")
    expect(rows.first.get_by_role("button", name="撤销")).to_be_visible()
    screenshot(page, "cashier-camera-pass", full_page=False)

    # The code stays in front of the camera: it is not sent again (which would turn the screen red).
    page.wait_for_timeout(1500)
    expect(result).to_have_class(re.compile(r"\bresult--ok\b"))
    expect(rows).to_have_count(1)
    assert redeemed_count(app, shop.offer_ref) == 1

    page.get_by_role("button", name="关闭摄像头").click()
    expect(page.locator("#camera-off")).to_be_visible()
    assert trouble == []


def test_hand_scanner_pass_then_used_expired_and_too_low_show_the_red_reason(app, client, live_server, page,
                                                                             screenshot):
    shop = open_shop(app, client)
    zhang = citizen_headers(app, "张三丰")
    code = credit_code(client, zhang)["code"]
    trouble = watch_for_script_trouble(page)

    page.goto(f"{live_server.url}/merchant/")
    expect(page.get_by_role("heading", name="终端登录")).to_be_visible()
    page.get_by_label("终端密钥").fill("mk_not_a_key")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#signin-error")).to_have_text("终端密钥无效或已停用，请核对后重新输入。")
    expect(page.locator("#desk")).to_be_hidden()
    screenshot(page, "cashier-signin-unknown-key", full_page=False)

    page.get_by_label("终端密钥").fill(shop.key)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#desk")).to_be_visible()
    expect(page.locator("#today-empty")).to_have_text("今天还没有核销记录。")

    _send(page, code)
    expect(page.locator("#result")).to_have_class(re.compile(r"\bresult--ok\b"))
    expect(page.locator("#result-title")).to_have_text("核验通过")
    expect(page.locator("#code-input")).to_have_value("")

    _send(page, code)  # the same code again
    expect(page.locator("#result")).to_have_class(re.compile(r"\bresult--refused\b"))
    expect(page.locator("#result-title")).to_have_text("该信用码已使用，请顾客刷新后重新出示。")
    assert page.locator("#result").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(253, 234, 234)"
    screenshot(page, "cashier-box-already-used", full_page=False)

    with app.app_context():
        citizen = db.session.scalar(select(Citizen).where(Citizen.name == "张三丰"))
        short_lived = credit_codes.sign_code(citizen, ttl=1)[0]
        db.session.remove()
    time.sleep(2.1)
    _send(page, short_lived)
    expect(page.locator("#result-title")).to_have_text("信用码已过期，请顾客刷新后重新出示。")
    expect(page.locator("#result")).to_have_class(re.compile(r"\bresult--refused\b"))

    low = credit_code(client, citizen_headers(app, "李四", level=1))["code"]
    _send(page, low)
    expect(page.locator("#result-title")).to_have_text("顾客的信用等级未达到该权益的要求。")
    expect(page.locator("#result-person")).to_have_text("李* · 信用待提高")
    screenshot(page, "cashier-box-level-too-low", full_page=False)

    _send(page, "not a credit code")
    expect(page.locator("#result-title")).to_have_text("无法识别的信用码，请顾客在小程序中刷新后重新出示。")
    expect(page.locator("#today-rows tr")).to_have_count(1)  # refusals redeem nothing
    assert trouble == []


def test_cancel_within_the_window_and_the_key_stays_on_the_device_until_sign_out(app, client, live_server, page,
                                                                                 screenshot):
    shop = open_shop(app, client)
    zhang = citizen_headers(app, "王五")
    _sign_in(page, live_server.url, shop.key)
    for _ in range(2):
        _send(page, credit_code(client, zhang)["code"])
        expect(page.locator("#result-title")).to_have_text("核验通过")
    rows = page.locator("#today-rows tr")
    expect(rows).to_have_count(2)
    assert redeemed_count(app, shop.offer_ref) == 2

    page.reload()  # signed in once per device: the key is kept in the browser
    expect(page.locator("#desk")).to_be_visible()
    expect(rows).to_have_count(2)

    button = rows.first.get_by_role("button", name="撤销")
    button.click()
    confirm = rows.first.get_by_role("button", name="确认撤销")
    expect(confirm).to_be_visible()  # one tap is not enough
    assert redeemed_count(app, shop.offer_ref) == 2
    confirm.click()
    expect(page.locator("#today-message")).to_contain_text("次数和名额已退回")
    expect(rows.first).to_contain_text("已撤销")
    expect(rows.first.get_by_role("button")).to_have_count(0)
    expect(rows.nth(1).get_by_role("button", name="撤销")).to_be_visible()
    expect(page.locator("#today-summary")).to_contain_text("本终端 2 笔（有效 1 笔）")
    assert redeemed_count(app, shop.offer_ref) == 1
    screenshot(page, "cashier-cancelled", full_page=False)

    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("heading", name="终端登录")).to_be_visible()
    assert page.evaluate("localStorage.getItem('xyf.cashier.key')") is None
    page.reload()
    expect(page.get_by_role("heading", name="终端登录")).to_be_visible()
    expect(page.locator("#desk")).to_be_hidden()


def test_a_terminal_fixed_at_a_branch_sees_its_offers_and_a_revoked_key_signs_the_device_out(app, client,
                                                                                            live_server, page,
                                                                                            screenshot):
    with app.app_context():
        ensure_default_scenes()
        merchant, (south, north), _ = make_merchant(branches=("南门售票处", "北门游客中心"))
        make_offer(merchant, title="南门团队票9折", branch_ids=[south.ref])
        make_offer(merchant, title="讲解服务免费", branch_ids=[])
        make_offer(merchant, title="夜游票8折", status="paused")
        terminal, key = catalog.issue_terminal(merchant, "北门收银台", branch_ref=north.ref)
        db.session.commit()
        merchant_ref, terminal_ref = merchant.ref, terminal.ref
    _sign_in(page, live_server.url, key)
    expect(page.locator("#terminal-name")).to_have_text("北门收银台")
    expect(page.locator("#branch option")).to_have_text(["北门游客中心"])
    expect(page.locator("#branch")).to_be_disabled()
    # the south gate's offer is not offered at the north gate; a paused one is shown but cannot be chosen
    expect(page.locator("#offer option")).to_have_text(["讲解服务免费（信易游）", "夜游票8折（信易游） · 已暂停"])
    expect(page.locator("#offer option:checked")).to_have_text("讲解服务免费（信易游）")
    expect(page.locator("#offer option", has_text="夜游票8折")).to_be_disabled()

    with app.app_context():
        catalog.revoke_terminal(catalog.get_merchant(merchant_ref), terminal_ref)
        db.session.commit()
    _send(page, "XYF1.anything.at.all")
    expect(page.get_by_role("heading", name="终端登录")).to_be_visible()
    expect(page.locator("#signin-error")).to_have_text("终端接口密钥无效或已停用。")
    assert page.evaluate("localStorage.getItem('xyf.cashier.key')") is None
    screenshot(page, "cashier-signed-out-revoked-key", full_page=False)


def test_at_a_phones_width_the_header_holds_its_names_and_nothing_overflows(app, client, live_server, new_context,
                                                                            screenshot):
    """Most counters use a phone (issue 22, defect 5): at 360 px the title, the merchant and terminal names and the
    sign-out button stay inside the header, and the page never scrolls sideways."""
    shop = open_shop(app, client)
    page = new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                       device_scale_factor=2).new_page()
    _sign_in(page, live_server.url, shop.key)
    expect(page.locator("#merchant-name")).not_to_be_empty()
    page.evaluate("() => window.scrollTo(0, 0)")  # signing in focuses the scan box further down
    screenshot(page, "cashier-phone-360", full_page=False)
    spilled = page.evaluate("""() => {
        const header = document.querySelector('header.topbar').getBoundingClientRect();
        return [...document.querySelectorAll('header.topbar *')].filter(el => el.getClientRects().length)
            .map(el => [el.id || el.className || el.tagName, el.getBoundingClientRect()])
            .filter(([, r]) => r.top < header.top - 0.5 || r.bottom > header.bottom + 0.5 ||
                               r.left < header.left - 0.5 || r.right > header.right + 0.5)
            .map(([name]) => name);
    }""")
    assert spilled == [], spilled
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()
