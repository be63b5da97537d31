"""What the public, staff and operators see: the opt-in 红榜 (no blacklist), unusual reviewers flagged, the staff
API for schemes and rulebooks, the divisions import, and the audit trail of every step."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import time_machine
from sqlalchemy import select

from app.audit.models import AuditEntry, PendingAuditEntry
from app.community import counter, ledger, service, stats
from app.community.models import Household, Member
from app.extensions import db
from app.timeutil import CITY_TZ
from tests.app.community.helpers import ITEMS, make_village, worker
from tests.factories import staff_headers

TODAY = datetime(2026, 11, 20, 9, 0, tzinfo=CITY_TZ)


def _posted(village, name: str, hours: int) -> None:
    entry = ledger.enter_on_behalf(worker(village, "grid"), village.people[name].ref, village.items["VOL"].ref,
                                   hours, date(2026, 11, 19), "", [])
    ledger.approve(worker(village, "reviewer2"), entry.ref)


def test_the_honour_board_shows_only_people_who_opted_in_and_there_is_no_blacklist(app, client, ctx):
    with time_machine.travel(TODAY, tick=True):
        village = make_village()
        for name, hours in (("李明", 15), ("王丽", 10), ("李秀英", 5)):
            _posted(village, name, hours)
    with time_machine.travel(TODAY + timedelta(days=6), tick=True):
        ledger.post_due()
        for name in ("王丽", "李秀英"):
            db.session.get(Member, village.people[name].id).show_on_honour_board = True
        db.session.get(Household, village.people["李秀英"].household_id).show_on_honour_board = True
        db.session.commit()
        board = client.get(f"/api/v1/community/schemes/{village.scheme.ref}/honour-board?year=2026").get_json()
        assert [(row["rank"], row["name"], row["points"]) for row in board["people"]] == [(1, "王*", 100),
                                                                                         (2, "李*英", 50)]
        assert [(row["name"], row["points"]) for row in board["households"]] == [("李*英户", 200)]
        for path in ("blacklist", "black-list", "lowest"):
            assert client.get(f"/api/v1/community/schemes/{village.scheme.ref}/{path}").status_code == 404


def test_a_reviewer_who_approves_too_much_of_their_own_grid_is_flagged(app, ctx):
    with time_machine.travel(TODAY, tick=True):
        village = make_village()
        busy = worker(village, "reviewer2")
        busy.grid = "二网格"  # 李家's grid
        other = worker(village, "reviewer")
        db.session.commit()
        for day in range(12):
            entry = ledger.enter_on_behalf(worker(village, "grid"), village.people["李明"].ref,
                                           village.items["VOL"].ref, 1, date(2026, 11, 19) - timedelta(days=day),
                                           "", [])
            ledger.approve(worker(village, "reviewer2"), entry.ref)
        entry = ledger.enter_on_behalf(worker(village, "grid"), village.people["李秀英"].ref,
                                       village.items["VOL"].ref, 1, date(2026, 11, 19), "", [])
        ledger.approve(other, entry.ref)
        third = service.create_worker(village.scheme, "fy-review3", "grid-worker-password", "reviewer", "审核员钱三")
        db.session.commit()
        entry = ledger.enter_on_behalf(worker(village, "grid"), village.people["王丽"].ref,
                                       village.items["VOL"].ref, 1, date(2026, 11, 19), "", [])
        ledger.approve(third, entry.ref)
        flags = stats.reviewer_flags()
        assert [flag["username"] for flag in flags] == ["fy-review2"]
        reasons = " ".join(flags[0]["reasons"])
        assert "100% 的审核对象在本人网格（二网格）" in reasons and "100% 的审核集中在 3 人以内" in reasons
        assert "审核量 12 条，为本村（社区）审核员中位数的 12.0 倍" in reasons
        figures = {row["name"]: row for row in stats.scheme_figures()}
        assert figures["枫源村文明积分"]["flagged_reviewers"] == 1
        assert figures["枫源村文明积分"]["publicised"] == 14


def test_staff_create_a_scheme_propose_and_approve_a_rulebook_over_the_api(app, client, ctx):
    service.import_divisions("code,name,kind,town,county\n330602004002,北海社区,社区,北海街道,越城区\n")
    headers = staff_headers(client)
    assert client.post("/api/v1/community/schemes", json={"division_code": "330602004002"}).status_code == 401
    created = client.post("/api/v1/community/schemes", headers=headers,
                          json={"division_code": "330602004002", "publicity_days": 7})
    assert created.status_code == 201 and created.get_json()["name"] == "北海社区信用积分"
    again = client.post("/api/v1/community/schemes", headers=headers, json={"division_code": "330602004002"})
    assert again.status_code == 409 and again.get_json()["code"] == "scheme_exists"
    missing = client.post("/api/v1/community/schemes", headers=headers, json={"division_code": "330602999999"})
    assert missing.status_code == 404 and missing.get_json()["code"] == "division_not_found"
    ref = created.get_json()["ref"]
    bad = client.post(f"/api/v1/community/schemes/{ref}/rulebooks", headers=headers, json={
        "adopted_on": "2026-11-01", "adopted_by": "居民会议", "items": [dict(ITEMS[0], points=0)]})
    assert bad.status_code == 422 and bad.get_json()["code"] == "zero_points"
    proposed = client.post(f"/api/v1/community/schemes/{ref}/rulebooks", headers=headers, json={
        "adopted_on": "2026-11-01", "adopted_by": "居民会议", "items": ITEMS})
    assert proposed.status_code == 201 and proposed.get_json()["state"] == "pending"
    pending = client.get("/api/v1/community/rulebooks", headers=headers).get_json()
    assert [r["ref"] for r in pending] == [proposed.get_json()["ref"]]
    decided = client.post(f"/api/v1/community/rulebooks/{pending[0]['ref']}/decision", headers=headers,
                          json={"approve": True})
    assert decided.get_json()["state"] == "approved"
    twice = client.post(f"/api/v1/community/rulebooks/{pending[0]['ref']}/decision", headers=headers,
                        json={"approve": False})
    assert twice.status_code == 409 and twice.get_json()["code"] == "rulebook_decided"
    figures = client.get("/api/v1/community/figures", headers=headers).get_json()
    assert [s["name"] for s in figures["schemes"]] == ["北海社区信用积分"] and figures["flagged_reviewers"] == []


def test_divisions_import_keeps_good_rows_and_reports_bad_ones(app, runner, tmp_path, ctx):
    path = tmp_path / "divisions.csv"
    path.write_text("code,name,kind,town,county\n330681106201,枫源村,村,枫桥镇,诸暨市\n"
                    "33068110620,短码村,村,枫桥镇,诸暨市\n330681106202,枫溪村,镇,枫桥镇,诸暨市\n"
                    "330602003001,仓桥社区,社区,府山街道,越城区\n", encoding="utf-8")
    result = runner.invoke(args=["community", "divisions", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "added 2, updated 0, unchanged 0, rejected 2" in result.output
    assert "line 3" in result.output and "12 位数字" in result.output and "line 4" in result.output
    again = runner.invoke(args=["community", "divisions", "import", str(path)])
    assert "added 0, updated 0, unchanged 2" in again.output


def test_every_step_is_in_the_audit_trail(app, client, ctx, citizen_headers):
    with time_machine.travel(TODAY, tick=True):
        village = make_village()
        entry = ledger.enter_on_behalf(worker(village, "grid"), village.people["李明"].ref,
                                       village.items["VOL"].ref, 6, date(2026, 11, 19), "", [])
        ledger.approve(worker(village, "reviewer2"), entry.ref)
        headers = citizen_headers(village.citizens["王丽"])
        client.post(f"/mp/v1/me/points/publicity/{entry.ref}/objection", headers=headers, json={"reason": "请核实时长"})
        ledger.decide_objection(worker(village, "reviewer2"), entry.ref, False, "已核实")
        code = counter.issue_code(village.citizens["李明"].id, village.catalog["haircut"].ref).code
        counter.redeem(worker(village, "counter"), code)
    actions = set(db.session.scalars(select(PendingAuditEntry.action))) | set(
        db.session.scalars(select(AuditEntry.action)))
    assert {"community.entry.enter", "community.entry.approve", "community.entry.object",
            "community.objection.decide", "community.redeem", "community.rulebook.decide"} <= actions
    subjects = set(db.session.scalars(select(PendingAuditEntry.subject_id).where(
        PendingAuditEntry.action.like("community.%"))))
    assert village.citizens["李明"].id in subjects
