"""The points desk in the console through its forms: a worker sees only their scheme, their role's pages, and a
refusal as a message on the page (never an error page for a wrong code at the counter)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import time_machine

from app.community import ledger
from app.timeutil import CITY_TZ
from tests.app.community.helpers import WORKER_PASSWORD, make_village, worker
from tests.app.console.helpers import login, page_token, staff_client

TODAY = datetime(2026, 11, 20, 9, 0, tzinfo=CITY_TZ)


def _desk(app, username):
    client = app.test_client()
    response = login(client, username, WORKER_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/"), response.status_code
    return client


def test_grid_worker_enters_reviewer_approves_counter_refuses_and_serves(app, ctx):
    with time_machine.travel(TODAY, tick=True):
        village = make_village()
        other = make_village("330602003001", prefix="cq", households={"张家": [("张伟", datetime(1980, 1, 1).date())]})
        grid = _desk(app, "fy-grid")
        page = grid.get("/console/points/enter").get_data(as_text=True)
        assert "【长者】李秀英" in page and "张伟" not in page  # own grid, oldest first; no other scheme's people
        assert page.index("李秀英") < page.index("李明")
        token = page_token(grid, "/console/points/enter")
        form = {"csrf_token": token, "member": village.people["李秀英"].ref, "item": village.items["VOL"].ref,
                "quantity": "3", "occurred_on": "2026-11-19", "note": "陪护邻居就医",
                "idempotency_key": re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)}
        response = grid.post("/console/points/enter", follow_redirects=True, data=form)
        assert "已登记 +30 分，等待审核员审核" in response.get_data(as_text=True)
        grid.post("/console/points/enter", data=form)  # the same form sent twice (a double click): one entry
        assert len(ledger.review_queue(worker(village, "reviewer2"))) == 1
        refused = grid.post("/console/points/enter", follow_redirects=True, data={
            "csrf_token": token, "member": village.people["李秀英"].ref, "item": other.items["VOL"].ref,
            "quantity": "1", "occurred_on": "2026-11-19"})
        assert "不属于本村（社区）" in refused.get_data(as_text=True)
        assert grid.get("/console/points/review").status_code == 200  # the page opens, the actions refuse
        assert grid.get("/console/points/counter").status_code == 200
        assert grid.get("/console/dashboard").status_code == 403

        reviewer = _desk(app, "fy-review2")
        queue = reviewer.get("/console/points/review").get_data(as_text=True)
        entry_ref = ledger.review_queue(worker(village, "reviewer2"))[0]["ref"]
        assert "李秀英" in queue and "网格员代登" in queue
        approved = reviewer.post(f"/console/points/entries/{entry_ref}/approve", follow_redirects=True,
                                 data={"csrf_token": page_token(reviewer, "/console/points/review")})
        assert "已审核通过，进入公示" in approved.get_data(as_text=True)
        shown = reviewer.get("/console/points/publicity").get_data(as_text=True)
        assert "李*英" in shown and "李秀英" not in shown.split("<main")[1]
        # Another scheme's reviewer cannot touch it.
        outsider = _desk(app, "cq-review2")
        foreign = outsider.post(f"/console/points/entries/{entry_ref}/approve", follow_redirects=True,
                                data={"csrf_token": page_token(outsider, "/console/points/review")})
        assert "未找到该积分记录" in foreign.get_data(as_text=True)

    with time_machine.travel(TODAY + timedelta(days=6), tick=True):
        ledger.post_due()
        till = _desk(app, "fy-counter")
        token = page_token(till, "/console/points/counter")
        wrong = till.post("/console/points/counter", data={"csrf_token": token, "code": "JF1234567890"})
        assert wrong.status_code == 404 and "兑换码无效" in wrong.get_data(as_text=True)
        from app.community import counter

        code = counter.issue_code(village.citizens["李秀英"].id, village.catalog["haircut"].ref).code
        served = till.post("/console/points/counter", data={"csrf_token": token, "code": code.lower()})
        assert served.status_code == 200 and "兑换成功" in served.get_data(as_text=True)
        assert "剩余 0 分" in served.get_data(as_text=True)
        again = till.post("/console/points/counter", data={"csrf_token": token, "code": code})
        assert again.status_code == 409 and "已使用" in again.get_data(as_text=True)


def test_staff_approve_rulebooks_and_see_every_schemes_figures(app, ctx):
    from datetime import date

    from app.community import service
    from tests.app.community.helpers import ITEMS

    village = make_village()
    pending = service.propose_rulebook(village.scheme, date(2026, 11, 1), "村民会议", ITEMS[:1])
    from app.extensions import db

    db.session.commit()
    staff = staff_client(app)
    page = staff.get("/console/community").get_data(as_text=True)
    assert "枫源村文明积分" in page and "村民会议" in page
    decided = staff.post(f"/console/community/rulebooks/{pending.ref}", follow_redirects=True,
                         data={"csrf_token": page_token(staff, "/console/community"), "approve": "1"})
    assert "第 2 版已批准生效" in decided.get_data(as_text=True)
    assert service.current_rulebook(village.scheme.id).version == 2
    chart = staff.get("/console/api/charts/community-schemes").get_json()
    assert chart["series"][0]["name"] == "登记/申报"
    # A desk worker is not staff.
    assert _desk(app, "fy-grid").get("/console/community").status_code == 403


def test_a_reviewer_sees_the_photos_behind_an_entry_and_another_scheme_cannot(app, ctx):
    import io

    from tests.app.community.helpers import photo

    with time_machine.travel(TODAY, tick=True):
        village = make_village()
        make_village("330602003001", prefix="cq", households={"张家": [("张伟", datetime(1980, 1, 1).date())]})
        blob = photo(7)
        grid = _desk(app, "fy-grid")
        response = grid.post("/console/points/enter", follow_redirects=True, content_type="multipart/form-data",
                             data={"csrf_token": page_token(grid, "/console/points/enter"),
                                   "member": village.people["李明"].ref, "item": village.items["CLEAN"].ref,
                                   "quantity": "1", "occurred_on": "2026-11-19",
                                   "photos": [(io.BytesIO(blob), "yard.png")]})
        assert "已登记 +5 分" in response.get_data(as_text=True)
        photo_ref = ledger.review_queue(worker(village, "reviewer2"))[0]["photos"][0]
        reviewer = _desk(app, "fy-review2")
        assert f"/console/points/photos/{photo_ref}" in reviewer.get("/console/points/review").get_data(as_text=True)
        shown = reviewer.get(f"/console/points/photos/{photo_ref}")
        assert shown.status_code == 200 and shown.mimetype == "image/png" and shown.data == blob
        assert _desk(app, "cq-review2").get(f"/console/points/photos/{photo_ref}").status_code == 404
