"""The 浙里办 H5 (zlb/, built into zlb/build/) in Chromium at a phone's size (Playwright's Pixel 7 profile: touch
events, which Vant listens to, and a phone viewport), signed in through the container stand-in at /zlb/standin/
against the real backend (/zlb/v1 and the stand-in of the province's SSO).

Screenshots of every page in both modes: tests/browser/screenshots/zlb-<page>-<normal|elder>.png (or under
$SCREENSHOTS_DIR). Skips with a reason when the H5 is not built; .ci/run builds it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.config import PROJECT_ROOT
from app.extensions import db
from app.scoring import service as scoring
from benefits.catalog import ensure_default_scenes
from tests.app.rights.conftest import Rights, image_bytes, seeded_calendar  # noqa: F401  (a fixture)
from tests.browser.cashier_helpers import open_shop, watch_for_script_trouble

BUILD = PROJECT_ROOT / "zlb" / "build" / "index.html"
PHONE_WIDTH = 360

pytestmark = pytest.mark.skipif(not BUILD.is_file(), reason="the 浙里办 H5 is not built: run "
                                "`(cd zlb && npm ci && npm run build)` (the README's install command; .ci/run does it)")


@pytest.fixture(autouse=True)
def _scenes(app):
    with app.app_context():
        ensure_default_scenes()


@pytest.fixture
def city(app, client, wechat, zlb_sso, seeded_calendar):  # noqa: F811  (seeded_calendar: the imported fixture)
    """王丽 (bound in WeChat too) and 陈强, a department that reports about them, staff: the rights tests' city."""
    return Rights(app, client)


@pytest.fixture
def phone(_playwright, browser):
    """phone(width=360) -> a new page in a Pixel 7 context (touch, mobile), zh-CN, at that width."""
    contexts = []
    device = {k: v for k, v in _playwright.devices["Pixel 7"].items() if k != "default_browser_type"}

    def make(width: int = PHONE_WIDTH):
        context = browser.new_context(**{**device, "viewport": {"width": width, "height": 800},
                                         "screen": {"width": width, "height": 800}}, locale="zh-CN")
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.trouble = watch_for_script_trouble(page)
        return page

    yield make
    for context in contexts:
        context.close()


def open_from_container(page, live_server, handle: str, elder: bool = False) -> None:
    """What a resident does in 浙里办: the container signs them in and opens the app."""
    page.goto(f"{live_server.url}/zlb/standin/")
    page.locator(f'li[data-handle="{handle}"]').tap()
    if elder:
        page.locator("#elder").check()
    page.locator("#open").tap()
    page.wait_for_url(re.compile(r"#/(home|consent)"))


def go(page, route: str) -> None:
    page.evaluate("route => { window.location.hash = route }", route)
    page.wait_for_function("route => window.location.hash === route", arg=route)
    page.wait_for_load_state("networkidle")


def overflow(page) -> dict:
    return page.evaluate("""() => {
        const root = document.documentElement, body = document.body;
        return {root: [root.scrollWidth, root.clientWidth], body: [body.scrollWidth, body.clientWidth]};
    }""")


def assert_fits(page, where: str) -> None:
    sizes = overflow(page)
    assert sizes["root"][0] <= sizes["root"][1], f"{where} overflows the screen: {sizes}"
    assert sizes["body"][0] <= sizes["body"][1], f"{where} overflows the screen: {sizes}"


def server_total(app, citizen_ref: str) -> int:
    from app.citizens.models import Citizen

    with app.app_context():
        citizen = db.session.scalar(db.select(Citizen).where(Citizen.ref == citizen_ref))
        total = scoring.current_score(citizen).total
        db.session.remove()
        return total


def png_file(tmp_path, name: str = "proof.png") -> str:
    path = tmp_path / name
    path.write_bytes(image_bytes("PNG", color=(30, 160, 60), size=(64, 48)))
    return str(path)


# -- the flows ------------------------------------------------------------------------------------------------

def test_first_sign_in_asks_the_scoring_consent_then_home_shows_the_servers_total(app, zlb_sso, live_server, phone,
                                                                                 screenshot):
    from tests.factories import gen_citizen

    with app.app_context():
        citizen = gen_citizen("周敏", consent=False)
        handle = ref = citizen.ref  # the container lists demo citizens by their ref
        db.session.remove()
    page = phone()
    open_from_container(page, live_server, handle)
    expect(page).to_have_url(re.compile("#/consent"))
    expect(page.get_by_text("在为您计算和显示信用分之前，需要您的授权")).to_be_visible()
    screenshot(page, "zlb-consent-first-login")
    page.locator("[data-test=grant-scoring]").tap()
    total = page.locator("[data-test=score-total]")
    expect(total).to_have_text(re.compile(r"^\d+$"))  # the score is computed once consent is given
    assert int(total.inner_text()) == server_total(app, ref)
    expect(page.locator("[data-test=level-name]")).not_to_be_empty()
    for key in ("public", "law", "commitment", "honour"):
        expect(page.locator(f"[data-test=dimension-{key}]")).to_contain_text("/")
    expect(page.locator("[data-test=chart-last]")).to_have_text(total.inner_text())
    # page views reach the analytics script (the stand-in keeps them) once it has loaded
    page.wait_for_function("(window.zwlogPageViews || []).some(v => v.pageId === 'home')")
    assert page.trouble == []


def test_an_objection_with_a_photo_is_filed_and_shows_its_deadline(app, city, live_server, phone, tmp_path,
                                                                   screenshot):
    record = city.report("wang", "LA_PENALTY_GENERAL", days_ago=40)
    handle = enrol(app, city, "wang")
    page = phone()
    open_from_container(page, live_server, handle)
    go(page, "#/records")
    page.locator("[data-test=record]").first.tap()
    expect(page).to_have_url(re.compile(f"#/record\\?ref={record}"))
    page.locator("[data-test=object]").tap()
    page.get_by_text("事实有误").tap()
    page.locator("[data-test=reason-text] textarea").fill("该处罚已被复议机关撤销")
    uploader = page.locator(".van-uploader input[type=file]")
    text_file = tmp_path / "note.txt"
    text_file.write_text("不是图片", encoding="utf-8")
    uploader.set_input_files(str(text_file))
    expect(page.get_by_text("只能上传 JPG 或 PNG 格式的图片")).to_be_visible()
    expect(page.locator(".van-uploader__preview")).to_have_count(0)
    uploader.set_input_files(png_file(tmp_path))
    expect(page.locator(".van-uploader__preview")).to_have_count(1)
    expect(page.locator(".van-uploader__mask")).to_have_count(0)  # uploaded: no 上传中 / 上传失败 mask
    screenshot(page, "zlb-objection-filled")
    page.locator("[data-test=submit-objection]").tap()
    expect(page).to_have_url(re.compile("#/case\\?ref="))
    expect(page.locator("[data-test=case-state]")).to_contain_text("已受理")
    expect(page.locator("[data-test=case-deadline]")).to_contain_text("个工作日")
    screenshot(page, "zlb-case-after-objection")
    cases = city.client.get("/mp/v1/me/cases", headers=city.citizen).get_json()["items"]
    assert len(cases) == 1 and cases[0]["record"]["ref"] == record
    detail = city.client.get(f"/mp/v1/me/cases/{cases[0]['ref']}", headers=city.citizen).get_json()
    assert len(detail["evidence"]) == 1 and detail["evidence"][0]["content_type"] == "image/png"
    assert city.record(record)["status"] == "disputed"
    assert page.trouble == []


def test_a_repair_with_a_photo_and_the_signed_commitment(app, city, live_server, phone, tmp_path, screenshot):
    record = city.report("wang", "LA_PENALTY_GENERAL", days_ago=120)  # shown for its 90 days: repairable now
    handle = enrol(app, city, "wang")
    page = phone()
    open_from_container(page, live_server, handle)
    go(page, f"#/record?ref={record}")
    expect(page.locator("[data-test=repair-open]")).to_be_visible()
    page.locator("[data-test=repair]").tap()
    preview = city.client.get(f"/mp/v1/me/repairs/preview?record={record}", headers=city.citizen).get_json()
    expect(page.get_by_text(f"版本 {preview['commitment_version']}")).to_be_visible()
    expect(page.locator("[data-test=commitment-text]")).to_contain_text(preview["commitment_text"][:20])
    page.locator("textarea").fill("罚款已于11月缴清")
    page.locator(".van-uploader input[type=file]").set_input_files(png_file(tmp_path, "paid.png"))
    expect(page.locator(".van-uploader__preview")).to_have_count(1)
    expect(page.locator("[data-test=submit-repair]")).to_be_disabled()  # not before the commitment is signed
    page.locator("[data-test=accept]").tap()
    screenshot(page, "zlb-repair-filled")
    page.locator("[data-test=submit-repair]").tap()
    expect(page).to_have_url(re.compile("#/case\\?ref="))
    expect(page.locator("[data-test=case-deadline]")).to_contain_text("个工作日")
    cases = city.client.get("/mp/v1/me/cases?kind=repair", headers=city.citizen).get_json()["items"]
    assert len(cases) == 1 and cases[0]["record"]["ref"] == record
    detail = city.client.get(f"/mp/v1/me/cases/{cases[0]['ref']}", headers=city.citizen).get_json()
    assert detail["commitment_version"] == preview["commitment_version"]
    assert [e["content_type"] for e in detail["evidence"]] == ["image/png"]
    assert page.trouble == []


def test_a_commitment_made_after_its_what_if(app, city, live_server, phone, screenshot):
    handle = enrol(app, city, "wang")
    page = phone()
    open_from_container(page, live_server, handle)
    go(page, "#/commitments")
    page.locator("[data-test=commitment-type]").first.tap()
    expect(page.locator("[data-test=commitment-text]")).not_to_be_empty()
    page.locator("[data-test=what-if]").tap()
    result = page.locator("[data-test=what-if-result]")
    expect(result).to_contain_text("守约后")
    before = city.score()
    expect(result).to_contain_text(str(before))
    screenshot(page, "zlb-commitment-what-if")
    page.locator("[data-test=accept]").tap()
    page.locator("[data-test=make-commitment]").tap()
    expect(page.locator("[data-test=my-commitment]")).to_have_count(1)
    expect(page.locator("[data-test=my-commitment]")).to_contain_text("还剩")
    mine = city.client.get("/mp/v1/me/commitments", headers=city.citizen).get_json()["items"]
    assert [c["status"] for c in mine] == ["active"]
    assert page.trouble == []


def _decode_canvas_qr(data_url: str) -> str:
    import base64
    import io

    import zxingcpp
    from PIL import Image, ImageOps

    drawn = Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGBA")
    on_white = Image.new("RGBA", drawn.size, "white")
    on_white.alpha_composite(drawn)  # a transparent background would read as black
    picture = ImageOps.expand(on_white.convert("L"), border=24, fill=255)  # a quiet zone around it
    found = zxingcpp.read_barcodes(picture)
    assert found, "no QR code in the page's canvas"
    return found[0].text


def test_the_credit_code_on_screen_is_verified_by_a_merchants_terminal(app, client, city, live_server, phone,
                                                                        screenshot):
    shop = open_shop(app, client)
    handle = enrol(app, city, "wang")
    page = phone()
    open_from_container(page, live_server, handle)
    go(page, "#/code")
    expect(page.locator("[data-test=countdown]")).to_contain_text("秒后自动刷新")
    # Read the QR the page drew, as a scanner would: the canvas's pixels, decoded by ZXing's C++ reader. (ZXing's JS
    # port, run in the page, now and then threw inside its grid sampler on the same picture: seen in CI.)
    code = _decode_canvas_qr(page.evaluate(
        "() => document.querySelector('[data-test=credit-qr]').toDataURL('image/png')"))
    screenshot(page, "zlb-code-shown")
    answer = shop.verify(code)
    assert answer["eligible"] is True and answer["reason"] == "ok"
    assert answer["masked_name"].startswith("王")
    assert shop.verify(code)["reason"] == "already_used"
    assert page.trouble == []


def test_messages_show_unread_and_turn_read_when_opened(app, city, live_server, phone, screenshot):
    city.report("wang", "LA_PENALTY_GENERAL", days_ago=30)  # 三书同达: a notice lands in the message centre
    unread = city.client.get("/mp/v1/me/messages/unread-count", headers=city.citizen).get_json()["unread"]
    assert unread >= 1
    handle = enrol(app, city, "wang")
    page = phone()
    open_from_container(page, live_server, handle)
    go(page, "#/messages")
    expect(page.locator("[data-test=unread-line]")).to_have_text(f"未读 {unread} 条")
    first = page.locator("[data-test=message]").first
    expect(first).to_contain_text("未读")
    screenshot(page, "zlb-messages-unread")
    first.tap()
    expect(first).to_contain_text("已读")
    expect(page.locator("[data-test=unread-line]")).to_have_text(f"未读 {unread - 1} 条")
    after = city.client.get("/mp/v1/me/messages/unread-count", headers=city.citizen).get_json()["unread"]
    assert after == unread - 1
    assert page.trouble == []


def enrol(app, city, person: str) -> str:
    """The container's handle of one of the rights fixture's citizens (the same person as their WeChat binding):
    the stand-in SSO vouches for them with their name and ID number."""
    ref, _, _ = city.people[person]
    return ref


# -- every page, both modes -----------------------------------------------------------------------------------

def _pages(record: str, case: str, commitment_type: str) -> list[tuple[str, str, str]]:
    """(name, route, a text the page shows once loaded)"""
    return [
        ("home", "#/home", "四个维度"),
        ("records", "#/records", "全部维度"),
        ("record", f"#/record?ref={record}", "起可申请信用修复"),  # 40 days old, shown for 90 first
        ("objection", f"#/objection?record={record}", "异议理由"),
        ("repair", f"#/repair?record={record}", "起可申请信用修复"),
        ("cases", "#/cases", "我的申请"),
        ("case", f"#/case?ref={case}", "办理进度"),
        ("commitments", "#/commitments", "可作承诺"),
        ("commitment", f"#/commitment?type={commitment_type}", "分数测算"),
        ("voluntary", "#/voluntary", "信息真实性承诺书"),
        ("code", "#/code", "秒后自动刷新"),
        ("offers", "#/offers", "我的信用等级"),
        ("messages", "#/messages", "未读"),
        ("mine", "#/mine", "我的授权"),
        ("consents", "#/consents", "信用评分"),
        ("audit", "#/audit", "除您本人外"),
        ("attestations", "#/attestations", "出具记录"),
        ("redemptions", "#/redemptions", "权益使用记录"),
        ("consent", "#/consent", "同意并查看我的信用分"),
    ]


def _font_px(page, selector: str) -> float:
    return page.evaluate("s => parseFloat(getComputedStyle(document.querySelector(s)).fontSize)", selector)


def test_every_page_fits_a_360px_screen_in_both_modes_and_elder_mode_is_larger(app, client, city, live_server,
                                                                              phone, screenshot):
    open_shop(app, client)
    record = city.report("wang", "LA_PENALTY_GENERAL", days_ago=40)
    other = city.report("wang", "LA_PENALTY_SERIOUS", days_ago=60)
    response = city.object(other)
    assert response.status_code == 201, response.get_json()
    case = response.get_json()["ref"]
    types = city.client.get("/mp/v1/me/commitment-types", headers=city.citizen).get_json()
    handle = enrol(app, city, "wang")
    pages = _pages(record, case, types[0]["code"])
    sizes = {}
    for mode in ("normal", "elder"):
        page = phone()
        open_from_container(page, live_server, handle, elder=mode == "elder")
        assert page.evaluate("document.documentElement.dataset.ui") == mode
        for name, route, marker in pages:
            go(page, route)
            expect(page.get_by_text(marker).first).to_be_visible()
            page.wait_for_timeout(150)  # transitions (tabs' underline, progress bars) settle
            assert_fits(page, f"{name} ({mode})")
            screenshot(page, f"zlb-{name}-{mode}")
            if name == "mine":
                sizes[mode] = {"body": _font_px(page, "body"), "cell": _font_px(page, ".van-cell__title"),
                               "target": page.locator(".van-cell").first.bounding_box()["height"]}
        go(page, "#/offers")
        page.get_by_role("tab", name="附近").tap()
        expect(page.locator("[data-test=nearby-where]")).to_contain_text("当前位置")  # the container's 绍兴 point
        assert_fits(page, f"offers nearby ({mode})")
        screenshot(page, f"zlb-offers-nearby-{mode}")
        assert page.trouble == []
    assert sizes["elder"]["body"] >= 1.25 * sizes["normal"]["body"], sizes
    assert sizes["elder"]["cell"] >= 1.25 * sizes["normal"]["cell"], sizes
    assert sizes["elder"]["target"] >= 1.25 * sizes["normal"]["target"], sizes


def test_offers_nearby_are_sorted_from_the_containers_location(app, city, live_server, phone, screenshot):
    from benefits import catalog
    from tests.benefits.helpers import make_merchant, make_offer

    with app.app_context():
        far, _, _ = make_merchant("柯桥轻纺城商户", branches=())
        catalog.add_branch(far, "轻纺城店", "柯桥区", 30.08203, 120.49588)
        near, _, _ = make_merchant("鲁迅故里商户", branches=())
        catalog.add_branch(near, "鲁迅中路店", "越城区", 29.99597, 120.58102)
        for merchant in (far, near):
            make_offer(merchant, title=f"{merchant.name}优惠")
        db.session.remove()
    page = phone()
    open_from_container(page, live_server, enrol(app, city, "wang"))
    go(page, "#/offers")
    expect(page.locator("[data-test=offer]")).to_have_count(2)
    page.get_by_role("tab", name="附近").tap()
    expect(page.locator("[data-test=nearby-where]")).to_contain_text("当前位置")
    offers = page.locator("[data-test=offer]")
    expect(offers.first).to_contain_text("鲁迅故里商户优惠")
    expect(offers.first).to_contain_text(re.compile(r"鲁迅中路店（\d+ 米）"))  # the stand-in's point in 越城区
    expect(offers.nth(1)).to_contain_text(re.compile(r"轻纺城店（1\d\.\d 公里）"))
    screenshot(page, "zlb-offers-nearby-sorted")
    assert page.trouble == []


def test_a_voluntary_report_with_a_photo(app, city, live_server, phone, tmp_path, screenshot):
    page = phone()
    open_from_container(page, live_server, enrol(app, city, "wang"))
    go(page, "#/commitments?tab=voluntary")
    page.locator("[data-test=voluntary-new]").tap()
    page.get_by_text("无偿献血").tap()
    page.locator("[data-test=occurred-at] input").fill("2026-11-01")
    page.get_by_placeholder("例如：绍兴市志愿者协会").fill("绍兴市中心血站")
    page.locator(".van-uploader input[type=file]").set_input_files(png_file(tmp_path, "blood.png"))
    expect(page.locator(".van-uploader__preview")).to_have_count(1)
    page.locator("[data-test=accept]").tap()
    screenshot(page, "zlb-voluntary-filled")
    page.locator("[data-test=submit-voluntary]").tap()
    report = page.locator("[data-test=voluntary-report]")
    expect(report).to_have_count(1)
    expect(report).to_contain_text("无偿献血")
    mine = city.client.get("/mp/v1/me/voluntary-reports", headers=city.citizen).get_json()["items"]
    assert [(r["name"], r["issuer"], r["state"]) for r in mine] == [("无偿献血", "绍兴市中心血站", "submitted")]
    assert [e["content_type"] for e in mine[0]["evidence"]] == ["image/png"]
    assert page.trouble == []


def test_withdrawing_the_scoring_consent_explains_first_then_the_score_is_gone(app, city, live_server, phone,
                                                                             screenshot):
    page = phone()
    open_from_container(page, live_server, enrol(app, city, "wang"))
    go(page, "#/consents")
    switch = page.locator("[data-test=consent-scoring] .van-switch")
    expect(switch).to_have_class(re.compile("van-switch--on"))
    switch.tap()
    dialog = page.locator(".van-dialog")
    expect(dialog).to_contain_text("撤回后，信用中心将停止计算您的信用分")
    screenshot(page, "zlb-consents-withdraw-dialog")
    dialog.get_by_role("button", name="再想想").tap()
    expect(switch).to_have_class(re.compile("van-switch--on"))
    assert city.client.get("/mp/v1/me/score", headers=city.citizen).status_code == 200
    switch.tap()
    page.locator(".van-dialog").get_by_role("button", name="确定撤回").tap()
    expect(switch).not_to_have_class(re.compile("van-switch--on"))
    answer = city.client.get("/mp/v1/me/score", headers=city.citizen)
    assert answer.status_code == 409 and answer.get_json()["code"] == "no_scoring_consent"
    go(page, "#/home")
    expect(page).to_have_url(re.compile("#/consent"))  # asked again before any score
    assert page.trouble == []


def test_a_token_the_server_refuses_signs_in_again_with_a_fresh_ticket(app, city, live_server, phone):
    page = phone()
    open_from_container(page, live_server, enrol(app, city, "wang"))
    expect(page.locator("[data-test=chart-last]")).to_be_visible()
    page.wait_for_load_state("networkidle")  # the home page's calls are all answered
    sessions_before = city.client.application.extensions["zlb_sso_standin"].calls["access_token"]
    page.evaluate("""() => {
        const s = JSON.parse(sessionStorage.getItem('zlb.session'));
        sessionStorage.setItem('zlb.session', JSON.stringify({...s, access_token: s.access_token + 'x'}));
    }""")
    page.evaluate("window.location.hash = '#/mine'")  # its calls are refused: the app signs in again
    expect(page.locator("[data-test=masked-name]")).to_have_text("王*")  # refused once, then a new ticket
    expect(page).to_have_url(re.compile("#/mine"))
    assert city.client.application.extensions["zlb_sso_standin"].calls["access_token"] == sessions_before + 1
    assert page.trouble == []
