"""The 村社积分 desk in a real browser: a grid worker enters points for an old person, a reviewer approves and
sees the 公示, the counter (at a tablet's size) scans a member's code once, the year-end rating is previewed and
confirmed, and city staff see every scheme's figures and the dashboard chart drawn from the server's figures.

Screenshots go to tests/browser/screenshots/points-*.png."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from app.community import counter, ledger
from app.timeutil import CITY_TZ, utcnow
from tests.app.community.helpers import WORKER_PASSWORD, make_village
from tests.factories import STAFF_PASSWORD, gen_department, gen_staff

# Inside December, so the year-end run may be confirmed; the server thread and the test share the moved clock.
DAY = datetime(2026, 12, 10, 9, 0, tzinfo=CITY_TZ)


@pytest.fixture
def clock():
    with time_machine.travel(DAY, tick=True):
        yield


def sign_in(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/console/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button.primary")
    page.wait_for_url(lambda url: "/login" not in url)


def test_enter_review_publicity_counter_rating_and_staff_figures(clock, app, ctx, live_server, new_context,
                                                                  screenshot):
    gen_staff("staff01")
    gen_department("SX_CIVILITY", ("HN_STAR_HOUSEHOLD", "HN_HONEST_PERSON"), "绍兴市文明办")
    village = make_village()
    elder = village.people["李秀英"]

    grid = new_context().new_page()
    sign_in(grid, live_server, "fy-grid", WORKER_PASSWORD)
    expect(grid.locator(".brand")).to_contain_text("村社积分工作台")
    expect(grid.locator("[data-testid=members] tbody tr").first).to_contain_text("长者")
    expect(grid.locator("[data-testid=members] tbody tr").first).to_contain_text("李秀英")
    grid.select_option("select[name=member]", elder.ref)
    grid.select_option("select[name=item]", village.items["VOL"].ref)
    grid.fill("input[name=quantity]", "12")
    grid.fill("input[name=note]", "陪同邻居就医、村口垃圾分类督导")
    grid.click("[data-testid=enter-form] button.primary")
    expect(grid.locator(".alert-success")).to_contain_text("已登记 +120 分，等待审核员审核")
    screenshot(grid, "points-desk-enter")

    reviewer = new_context().new_page()
    sign_in(reviewer, live_server, "fy-review2", WORKER_PASSWORD)
    row = reviewer.locator("[data-testid=queue] tbody tr", has_text="李秀英")
    expect(row).to_contain_text("网格员代登")
    expect(row).to_contain_text("+120")
    screenshot(reviewer, "points-desk-review")
    row.get_by_role("button", name="通过并公示").click()
    expect(reviewer.locator(".alert-success")).to_contain_text("已审核通过，进入公示")
    reviewer.click("nav >> text=公示")
    publicity = reviewer.locator("[data-testid=publicity] tbody tr")
    expect(publicity).to_have_count(1)
    expect(publicity.first).to_contain_text("李*英")
    expect(publicity.first).to_contain_text("+120")
    screenshot(reviewer, "points-desk-publicity")

    # Five days pass (the scheduler's job with the clock moved on): it posts.
    assert ledger.post_due(utcnow() + timedelta(days=5, minutes=1)) == 1
    code = counter.issue_code(village.citizens["李秀英"].id, village.catalog["haircut"].ref).code

    till = new_context(viewport={"width": 800, "height": 1280}).new_page()  # the counter's tablet
    sign_in(till, live_server, "fy-counter", WORKER_PASSWORD)
    expect(till).to_have_url(f"{live_server.url}/console/points/counter")
    till.fill("input[name=code]", code)
    till.click("[data-testid=counter-form] button.primary")
    verdict = till.locator("[data-testid=verdict]")
    expect(verdict).to_contain_text("兑换成功")
    expect(verdict).to_contain_text("免费理发，扣减 30 分；居民剩余 90 分")
    screenshot(till, "points-counter-ok")
    till.fill("input[name=code]", code)
    till.click("[data-testid=counter-form] button.primary")
    expect(verdict).to_contain_text("不能兑换")
    expect(verdict).to_contain_text("该兑换码已使用")
    screenshot(till, "points-counter-used")
    # The same counter on a phone: the code box and the verdict fit the screen.
    phone = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    sign_in(phone, live_server, "fy-counter", WORKER_PASSWORD)
    phone.fill("input[name=code]", code)
    phone.click("[data-testid=counter-form] button.primary")
    expect(phone.locator("[data-testid=verdict]")).to_contain_text("该兑换码已使用")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    box = phone.locator("[data-testid=verdict]").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["width"] >= 330  # the page's width, no menu
    assert phone.locator("input[name=code]").bounding_box()["width"] >= 300
    screenshot(phone, "points-counter-phone")

    reviewer.goto(f"{live_server.url}/console/points/ratings?year=2026")
    expect(reviewer.locator("[data-testid=preview-people]")).to_contain_text("李秀英")
    expect(reviewer.locator("[data-testid=preview-people]")).to_contain_text("120")
    reviewer.click("[data-testid=confirm]")
    expect(reviewer.locator(".alert-success")).to_contain_text("新增 1 项评定，归集信用记录 1 条")
    expect(reviewer.locator("[data-testid=confirmed] tbody tr").first).to_contain_text("诚信人")
    screenshot(reviewer, "points-ratings")

    staff = new_context().new_page()
    sign_in(staff, live_server, "staff01", STAFF_PASSWORD)
    staff.goto(f"{live_server.url}/console/community")
    scheme_row = staff.locator("[data-testid=schemes] tbody tr", has_text="枫源村文明积分")
    expect(scheme_row).to_contain_text("诸暨市")
    screenshot(staff, "points-staff-overview")
    staff.goto(f"{live_server.url}/console/dashboard")
    card = staff.locator("[data-chart=community-schemes]")
    expect(card).to_have_attribute("data-state", "ready", timeout=15_000)
    served = staff.request.get(f"{live_server.url}/console/api/charts/community-schemes?"
                               f"from={card.locator('input[name=from]').input_value()}"
                               f"&to={card.locator('input[name=to]').input_value()}").json()
    drawn = staff.evaluate("(s) => { const o = echarts.getInstanceByDom(document.querySelector(s)).getOption();"
                           " return {x: o.xAxis[0].data, series: o.series.map(x => x.data)}; }",
                           "[data-chart=community-schemes] [data-part=main]")
    assert drawn["x"] == served["schemes"] == ["枫源村文明积分"]
    assert drawn["series"] == [s["counts"] for s in served["series"]]
    # Made and redeemed today; the posting is dated five days on (the moved clock), after the chart's range.
    assert [s["name"] for s in served["series"]] == ["登记/申报", "入账", "兑换"]
    assert drawn["series"] == [[1], [0], [1]]
    card.scroll_into_view_if_needed()
    screenshot(staff, "points-dashboard-chart", full_page=False)
