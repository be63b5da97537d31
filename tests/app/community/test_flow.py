"""The whole path of issue 20: a grid worker enters points for an old person, a reviewer approves, 公示 passes
when the clock moves, the member redeems at the counter, and the year-end run turns a rating into a credit record
that changes the person's score by the rules file's amount."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import time_machine
from sqlalchemy import select

from app.citizens.models import Citizen
from app.community import counter, ledger, ratings
from app.community.models import Member
from app.extensions import db
from app.records.models import Record
from app.scheduler.jobs import JOBS
from app.scoring import service as scoring
from app.timeutil import CITY_TZ
from tests.app.community.helpers import make_village, worker
from tests.factories import gen_department

START = datetime(2026, 11, 20, 9, 0, tzinfo=CITY_TZ)


def test_enter_for_an_elder_review_publicity_counter_and_year_end_rating(app, client, ctx, citizen_headers):
    with time_machine.travel(START, tick=True):
        gen_department("SX_CIVILITY", ("HN_STAR_HOUSEHOLD", "HN_HONEST_PERSON"), "绍兴市文明办")
        village = make_village()
        elder = village.citizens["李秀英"]
        grid = worker(village, "grid")

        # The grid worker's list puts the elderly first; 李秀英 (84) cannot use the app herself.
        listed = ledger.grid_members(grid)
        assert [row["name"] for row in listed][:1] == ["李秀英"] and listed[0]["elderly"]

        entry = ledger.enter_on_behalf(grid, village.people["李秀英"].ref, village.items["VOL"].ref, 12,
                                       date(2026, 11, 19), "村口垃圾分类督导", [])
        assert (entry.state, entry.points) == ("declared", 120)
        approved = ledger.approve(worker(village, "reviewer2"), entry.ref)
        assert approved.state == "publicised"

        # Her neighbour sees the 公示 with her name masked; her balance has not moved yet.
        neighbour = citizen_headers(village.citizens["李明"])
        shown = client.get("/mp/v1/me/points/publicity", headers=neighbour).get_json()
        assert [(row["name"], row["points"], row["state_name"]) for row in shown] == [("李*英", 120, "公示中")]
        elder_headers = citizen_headers(elder)
        assert client.get("/mp/v1/me/points", headers=elder_headers).get_json()["balance"] == 0

    # Four days on: still in 公示, nothing posts.
    with time_machine.travel(START + timedelta(days=4), tick=True):
        assert ledger.post_due() == 0
    # Five days on, the scheduler's job posts it.
    with time_machine.travel(START + timedelta(days=5, minutes=1), tick=True):
        function, trigger = JOBS["community-publicity"]
        assert function() == 1
        elder_headers = citizen_headers(elder)  # a new session: the one of five days ago has expired
        mine = client.get("/mp/v1/me/points", headers=elder_headers).get_json()
        assert mine["balance"] == 120 and mine["household"]["balance"] == 120
        ledger_rows = client.get("/mp/v1/me/points/ledger", headers=elder_headers).get_json()
        assert [(row["state"], row["points"]) for row in ledger_rows["items"]] == [("posted", 120)]

        # She redeems a free haircut at the counter with the code her grandson's phone shows.
        catalog = client.get("/mp/v1/me/points/catalog", headers=elder_headers).get_json()
        haircut = next(row for row in catalog if row["name"] == "免费理发")
        code = client.post("/mp/v1/me/points/redeem-codes", headers=elder_headers, json={"item": haircut["ref"]})
        assert code.status_code == 201, code.get_json()
        result = counter.redeem(worker(village, "counter"), code.get_json()["code"])
        assert (result["points"], result["balance"]) == (30, 90)
        assert client.get("/mp/v1/me/points", headers=elder_headers).get_json()["balance"] == 90

    # Year end: the rating run makes her 诚信人 (120 points, no deduction) — a credit record through app/records.
    with time_machine.travel(datetime(2026, 12, 20, 10, 0, tzinfo=CITY_TZ), tick=True):
        elder = db.session.get(Citizen, elder.id)
        scoring.recompute_citizen(elder)
        before = scoring.current_score(elder).total
        preview = ratings.preview(village.scheme, 2026)
        assert [row["name"] for row in preview["people"]] == ["李秀英"]
        assert preview["households"] == []  # 120 points for the household is below three stars (200)
        outcome = ratings.confirm(village.scheme, 2026, "fy-review2")
        assert outcome["accepted"] == 1
        record = db.session.scalar(select(Record).where(Record.citizen_id == elder.id))
        assert (record.type_code, record.department.code) == ("HN_HONEST_PERSON", "SX_CIVILITY")
        after = scoring.current_score(db.session.get(Citizen, elder.id)).total
        assert after - before == scoring.rules().catalog["HN_HONEST_PERSON"].points
        # A second confirmation adds nothing and pushes nothing new; spending never lowered the score.
        assert ratings.confirm(village.scheme, 2026, "fy-review2")["accepted"] == 0
        assert db.session.scalar(select(Member.balance).where(Member.citizen_id == elder.id)) == 90


def test_star_household_counts_per_star_for_every_adult_member(app, ctx):
    with time_machine.travel(START, tick=True):
        gen_department("SX_CIVILITY", ("HN_STAR_HOUSEHOLD", "HN_HONEST_PERSON"), "绍兴市文明办")
        village = make_village()
        for name, hours in (("王建国", 20), ("王丽", 20)):
            entry = ledger.enter_on_behalf(worker(village, "grid"), village.people[name].ref,
                                           village.items["VOL"].ref, hours, date(2026, 11, 19), "", [])
            ledger.approve(worker(village, "reviewer2"), entry.ref)
    with time_machine.travel(datetime(2026, 12, 20, 10, 0, tzinfo=CITY_TZ), tick=True):
        ledger.post_due()
        preview = ratings.preview(village.scheme, 2026)
        assert [(row["name"], row["points"], row["stars"]) for row in preview["households"]] == [("王建国户", 400, 4)]
        ratings.confirm(village.scheme, 2026, "fy-review2")
        records = db.session.execute(select(Record.type_code, Record.quantity, Record.citizen_id)
                                     .where(Record.type_code == "HN_STAR_HOUSEHOLD")).all()
        assert sorted(row.citizen_id for row in records) == sorted(
            village.citizens[name].id for name in ("王建国", "王丽"))
        assert {row.quantity for row in records} == {4}
        explained = scoring.explain(db.session.get(Citizen, village.citizens["王丽"].id))
        star = next(item for item in explained.contributions if item.type_code == "HN_STAR_HOUSEHOLD")
        assert star.points == 4 * scoring.rules().catalog["HN_STAR_HOUSEHOLD"].points
