"""The console in a real browser (system Chromium): a person signs in, sees the dashboard's charts drawn from the
server's figures, looks up a citizen, creates an offer; a department uploads a CSV with a bad row.

Screenshots go to tests/browser/screenshots/ (or $SCREENSHOTS_DIR)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.extensions import db
from benefits.catalog import ensure_default_scenes
from tests.app.console.helpers import DESK_PASSWORD, desk_account
from tests.app.rights.conftest import image_bytes, rights, seeded_calendar  # noqa: F401  (fixtures)
from tests.benefits.helpers import Shop, code_for, make_citizen, mp_headers
from tests.factories import STAFF_PASSWORD, gen_citizen, gen_staff, new_id_number

CHARTS = ("score-distribution", "levels-monthly", "redemptions-by-scene", "redemptions-by-day",
          "records-by-department")


@pytest.fixture(autouse=True)
def _scenes(app):
    with app.app_context():
        ensure_default_scenes()


@pytest.fixture
def watched(page):
    """The page, with every console message kept (a CSP violation shows up there)."""
    messages: list[str] = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    page.messages = messages
    return page


def sign_in(page, live_server, username: str, password: str = STAFF_PASSWORD) -> None:
    page.goto(f"{live_server.url}/console/")
    expect(page.locator("h1")).to_contain_text("信用分")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button.primary")
    page.wait_for_url(lambda url: "/login" not in url)


def _no_csp_violations(page) -> None:
    violations = [m for m in page.messages if "Content Security Policy" in m or "Refused to" in m]
    assert violations == []


def test_dashboard_charts_show_the_servers_figures(app, ctx, client, live_server, watched, screenshot):
    gen_staff("staff01")
    for level in (1, 2, 3, 3, 4):
        make_citizen(level=level)
    shop = Shop(client)
    shop.verify(code_for(client, mp_headers(make_citizen("顾客", level=4))))
    page = watched
    sign_in(page, live_server, "staff01")
    cards = page.locator("[data-chart]")
    assert cards.count() >= len(CHARTS)
    expect(page.locator("[data-chart][data-state=ready]")).to_have_count(cards.count(), timeout=15_000)
    screenshot(page, "console-dashboard")

    def option(selector: str) -> dict:
        return page.evaluate("(s) => { const o = echarts.getInstanceByDom(document.querySelector(s)).getOption();"
                             " return {x: o.xAxis ? o.xAxis[0].data : null,"
                             " series: o.series.map(x => ({name: x.name, data: x.data}))}; }", selector)

    def served(name: str) -> dict:
        card = page.locator(f"[data-chart={name}]")
        date_from = card.locator("input[name=from]").input_value()
        date_to = card.locator("input[name=to]").input_value()
        response = page.request.get(f"{live_server.url}/console/api/charts/{name}?from={date_from}&to={date_to}")
        assert response.ok
        return response.json()

    distribution = served("score-distribution")
    bands = option("[data-chart=score-distribution] [data-part=bands]")
    assert bands["x"] == [band["label"] for band in distribution["bands"]]
    assert bands["series"][0]["data"] == [band["count"] for band in distribution["bands"]]
    assert sum(bands["series"][0]["data"]) == 6
    levels = option("[data-chart=score-distribution] [data-part=levels]")
    assert [(d["name"], d["value"]) for d in levels["series"][0]["data"]] == [
        (f"L{entry['level']} {entry['name']}", entry["count"]) for entry in distribution["levels"]]

    monthly = served("levels-monthly")
    drawn = option("[data-chart=levels-monthly] [data-part=main]")
    assert drawn["x"] == monthly["months"]
    assert [s["data"] for s in drawn["series"]] == [s["counts"] for s in monthly["series"]]
    assert sum(s["counts"][-1] for s in monthly["series"]) == 6

    by_scene = served("redemptions-by-scene")
    drawn = option("[data-chart=redemptions-by-scene] [data-part=main]")
    assert drawn["x"] == [s["name"] for s in by_scene["scenes"]]
    assert drawn["series"][0]["data"] == [s["count"] for s in by_scene["scenes"]]
    assert dict(zip(drawn["x"], drawn["series"][0]["data"], strict=True))["信易游"] == 1

    by_day = served("redemptions-by-day")
    drawn = option("[data-chart=redemptions-by-day] [data-part=main]")
    assert drawn["x"] == by_day["days"] and drawn["series"][0]["data"] == by_day["counts"]
    assert drawn["series"][0]["data"][-1] == 1

    pushed = served("records-by-department")
    drawn = option("[data-chart=records-by-department] [data-part=main]")
    assert [s["data"] for s in drawn["series"]] == [d["counts"] for d in pushed["departments"]]
    assert [s["name"] for s in drawn["series"]] == [d["name"] for d in pushed["departments"]]

    # A chart with nothing in its range says so; one with figures does not.
    no_data = "所选时间段暂无数据"
    cases = served("rights-cases")
    assert not any(count for series in cases["series"] for count in series["counts"])
    expect(page.locator("[data-chart=rights-cases] [data-part=main]")).to_contain_text(no_data)
    expect(page.locator("[data-chart=redemptions-by-day] [data-part=main]")).not_to_contain_text(no_data)
    expect(page.locator("[data-chart=score-distribution] [data-part=bands]")).not_to_contain_text(no_data)

    # Another range redraws the chart from the server
    card = page.locator("[data-chart=redemptions-by-day]")
    card.locator("input[name=from]").fill("2026-01-01")
    card.locator("input[name=to]").fill("2026-01-07")
    card.locator("button[type=submit]").click()
    expect(card).to_have_attribute("data-state", "ready")
    assert option("[data-chart=redemptions-by-day] [data-part=main]")["x"][0] == "2026-01-01"
    assert len(option("[data-chart=redemptions-by-day] [data-part=main]")["x"]) == 7
    expect(card.locator("[data-part=main]")).to_contain_text(no_data)
    screenshot(page, "console-dashboard-empty-range")
    _no_csp_violations(page)


def test_a_citizen_is_looked_up_with_a_reason_and_the_read_is_in_their_trail(app, ctx, live_server, watched,
                                                                              screenshot):
    gen_staff("staff01")
    id_number = new_id_number()
    citizen = gen_citizen("李晓明", id_number)
    page = watched
    sign_in(page, live_server, "staff01")
    page.click("text=居民信用档案")
    page.fill("#id_number", id_number)
    page.click("button.primary")
    expect(page.locator(".field-error[data-field=reason]")).to_be_visible()
    assert id_number not in page.url
    page.fill("#id_number", id_number)
    page.fill("#reason", "窗口业务办理核验")
    page.click("button.primary")
    expect(page.locator("h1")).to_have_text("李晓明 的信用档案")
    assert id_number not in page.url and id_number not in page.content()
    expect(page.locator("[data-testid=masked-id]")).to_have_text(citizen.id_masked)
    trail = page.locator("[data-testid=audit-trail] tbody tr").first
    expect(trail).to_contain_text("窗口业务办理核验")
    expect(trail.locator("td").nth(1)).to_have_text("staff01")  # the staff member, by name
    expect(page.locator("#history-chart[data-state=ready]")).to_have_count(1)
    screenshot(page, "console-citizen-file")
    _no_csp_violations(page)


def test_staff_create_an_offer_through_the_form(app, ctx, client, live_server, watched, screenshot):
    gen_staff("staff01")
    shop = Shop(client)
    page = watched
    sign_in(page, live_server, "staff01")
    page.goto(f"{live_server.url}/console/offers/new")
    page.select_option("#o-merchant", shop.merchant_ref)
    page.select_option("#o-scene", "you")
    page.fill("#o-quota", "-1")
    page.click("button.primary")
    expect(page.locator(".field-error[data-field=title]")).to_be_visible()
    expect(page.locator(".field-error[data-field=quota]")).to_be_visible()
    screenshot(page, "console-offer-form-errors")
    page.fill("#o-title", "会稽山景区门票半价")
    page.fill("#o-quota", "500")
    page.select_option("#o-min-level", "4")
    page.click("button.primary")
    expect(page.locator(".alert-success")).to_contain_text("会稽山景区门票半价")
    row = page.locator("[data-testid=offers] tr", has_text="会稽山景区门票半价")
    expect(row).to_contain_text("L4")
    expect(row).to_contain_text("500")
    screenshot(page, "console-offers")
    _no_csp_violations(page)


def test_a_department_uploads_a_csv_with_a_bad_row(app, ctx, live_server, watched, screenshot, tmp_path):
    department, _, user = desk_account("SX_AMR")
    id_number = new_id_number()
    gen_citizen("钱多多", id_number)
    db.session.commit()
    lines = ["external_id,id_number,type_code,occurred_at,summary"]
    lines += [f"AMR-{n},{id_number},LA_PENALTY_GENERAL,2026-0{1 + n % 9}-15,一般行政处罚" for n in range(1, 5)]
    lines.append(f"AMR-BAD,{id_number},LA_PENALTY_GENERAL,2026-02-30,日期不存在")
    path = tmp_path / "amr-records.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    page = watched
    sign_in(page, live_server, user.username, DESK_PASSWORD)
    expect(page.locator("h1")).to_contain_text("已报送记录")
    page.click("text=上传 CSV")
    page.set_input_files("#file", str(path))
    screenshot(page, "console-desk-upload")
    page.click("button.primary")
    page.wait_for_url("**/console/desk/batches/**")
    expect(page.locator("[data-testid=accepted]")).to_have_text("4")
    expect(page.locator("[data-testid=rejected]")).to_have_text("1")
    bad = page.locator("[data-testid=rejected-rows] tbody tr")
    expect(bad).to_have_count(1)
    expect(bad).to_contain_text("AMR-BAD")
    expect(bad).to_contain_text("日期 2026-02-30 不存在")
    expect(bad.locator("td").first).to_have_text("6")  # the file's line number
    screenshot(page, "console-desk-batch")
    page.click("text=已报送记录")
    expect(page.locator("[data-testid=records] tbody tr")).to_have_count(4)
    screenshot(page, "console-desk-records")
    _no_csp_violations(page)


def test_the_login_page_and_a_refused_page_read_in_chinese(app, ctx, live_server, watched, screenshot):
    desk_account("SX_AMR")
    page = watched
    page.goto(f"{live_server.url}/console/dashboard")
    expect(page.locator(".subtitle")).to_contain_text("部门工作台")
    screenshot(page, "console-login")
    sign_in(page, live_server, "sx_amr", DESK_PASSWORD)
    response = page.goto(f"{live_server.url}/console/dashboard")
    assert response.status == 403
    expect(page.locator(".error-message")).to_have_text("您的账号没有访问该页面的权限。")
    screenshot(page, "console-forbidden")


def test_the_audit_chain_is_linked_and_verified_in_place(app, ctx, live_server, watched, screenshot):
    gen_staff("staff01")
    gen_citizen("周九", new_id_number())
    page = watched
    sign_in(page, live_server, "staff01")
    page.click("text=留痕审计")
    expect(page.locator("[data-testid=chain-result]")).to_have_count(0)
    page.click("button.primary")
    expect(page.locator("[data-testid=chain-result]")).to_contain_text("哈希链完整")
    assert page.url.endswith("/console/audit")
    screenshot(page, "console-audit")
    _no_csp_violations(page)


def test_staff_decide_an_objection_in_the_browser(app, ctx, rights, live_server, watched, screenshot):  # noqa: F811
    record = rights.report()
    case = rights.object(record, files=[("proof.jpg", image_bytes(size=(120, 90)))]).get_json()
    page = watched
    sign_in(page, live_server, "staff01")
    page.click("text=信用异议")
    row = page.locator("[data-testid=cases] tbody tr").first
    expect(row).to_contain_text("剩 5 个工作日")
    screenshot(page, "console-objections-queue")
    row.locator("text=办理").click()
    expect(page.locator("[data-testid=case-state]")).to_have_text("已受理")
    expect(page.locator("img.evidence")).to_have_count(1)
    assert page.evaluate("() => document.querySelector('img.evidence').naturalWidth") == 120
    page.check("input[value=upheld]")
    page.fill("#reason", "经核查，该处罚已被复议机关撤销")
    screenshot(page, "console-objection-case")
    page.click("button.primary")
    expect(page.locator("[data-testid=case-state]")).to_have_text("异议成立")
    expect(page.locator("[data-testid=timeline]")).to_contain_text("经核查，该处罚已被复议机关撤销")
    assert rights.record(record)["status"] == "revoked"
    assert case["ref"] in page.url
    _no_csp_violations(page)
