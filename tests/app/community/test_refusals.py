"""Every refusal of issue 20, as the citizen or the desk sees it: a 4xx with a stable code and a Chinese message."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.community import counter, ledger, service
from app.community.models import Entry, Member
from app.errors import ApiError
from app.extensions import db
from app.rights.models import Message
from app.timeutil import CITY_TZ
from tests.app.community.helpers import ITEMS, make_village, photo, worker

TODAY = datetime(2026, 11, 20, 9, 0, tzinfo=CITY_TZ)
ON = "2026-11-19"


@pytest.fixture
def village(app, ctx):
    with time_machine.travel(TODAY, tick=True):
        yield make_village()


def _declare(client, headers, item_ref, quantity=1, photos=(), occurred_on=ON):
    data = {"item": item_ref, "quantity": str(quantity), "occurred_on": occurred_on}
    data["photos"] = [(__import__("io").BytesIO(blob), f"p{i}.png") for i, blob in enumerate(photos)]
    return client.post("/mp/v1/me/points/declarations", headers=headers, data=data,
                       content_type="multipart/form-data")


def _refused(call, status: int, code: str) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    assert (caught.value.status, caught.value.code) == (status, code), caught.value.message
    assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.message)
    return caught.value


def test_an_item_of_another_scheme_is_refused(village, client, citizen_headers):
    other = make_village("330602003001", prefix="cq", households={"张家": [("张伟", date(1980, 1, 1))]})
    headers = citizen_headers(village.citizens["李明"])
    response = _declare(client, headers, other.items["VOL"].ref)
    assert response.status_code == 422 and response.get_json()["code"] == "item_of_other_scheme"
    assert "不属于" in response.get_json()["message"]
    _refused(lambda: ledger.enter_on_behalf(worker(village, "grid"), village.people["李明"].ref,
                                            other.items["VOL"].ref, 1, date(2026, 11, 19), "", []),
             422, "item_of_other_scheme")


def test_a_member_of_another_scheme_cannot_be_entered_or_reviewed(village):
    other = make_village("330602003001", prefix="cq", households={"张家": [("张伟", date(1980, 1, 1))]})
    _refused(lambda: ledger.enter_on_behalf(worker(village, "grid"), other.people["张伟"].ref,
                                            village.items["VOL"].ref, 1, date(2026, 11, 19), "", []),
             404, "member_not_found")
    entry = ledger.enter_on_behalf(worker(other, "grid"), other.people["张伟"].ref, other.items["VOL"].ref, 1,
                                   date(2026, 11, 19), "", [])
    _refused(lambda: ledger.approve(worker(village, "reviewer2"), entry.ref), 404, "entry_not_found")


def test_over_the_cap_of_the_period_is_refused_and_says_what_is_left(village, client, citizen_headers):
    with time_machine.travel(TODAY, tick=True):
        headers = citizen_headers(village.citizens["李明"])
        assert _declare(client, headers, village.items["VOL"].ref, 15).status_code == 201
        response = _declare(client, headers, village.items["VOL"].ref, 6)
        assert response.status_code == 422 and response.get_json()["code"] == "over_cap"
        assert "还可申报 50 分" in response.get_json()["message"]
        assert _declare(client, headers, village.items["VOL"].ref, 5).status_code == 201
        # The next month has its own cap.
        assert _declare(client, headers, village.items["VOL"].ref, 6, occurred_on="2026-10-30").status_code == 201


def test_a_rejected_entry_frees_its_part_of_the_cap(village):
    with time_machine.travel(TODAY, tick=True):
        grid = worker(village, "grid")
        entry = ledger.enter_on_behalf(grid, village.people["李明"].ref, village.items["VOL"].ref, 20,
                                       date(2026, 11, 19), "", [])
        _refused(lambda: ledger.enter_on_behalf(grid, village.people["李明"].ref, village.items["VOL"].ref, 1,
                                                date(2026, 11, 19), "", []), 422, "over_cap")
        ledger.reject(worker(village, "reviewer2"), entry.ref, "时长无法核实")
        assert ledger.enter_on_behalf(grid, village.people["李明"].ref, village.items["VOL"].ref, 1,
                                      date(2026, 11, 19), "", []).state == "declared"


def test_evidence_missing_or_reused_is_refused(village, client, citizen_headers):
    with time_machine.travel(TODAY, tick=True):
        headers = citizen_headers(village.citizens["李明"])
        clean = village.items["CLEAN"].ref
        missing = _declare(client, headers, clean)
        assert missing.status_code == 422 and missing.get_json()["code"] == "evidence_required"
        assert _declare(client, headers, clean, photos=[photo(1)]).status_code == 201
        # The same file again, for the same or another person: one photo backs one entry.
        again = _declare(client, citizen_headers(village.citizens["王丽"]), clean, photos=[photo(1)])
        assert again.status_code == 409 and again.get_json()["code"] == "evidence_reused"
        # Re-saved as a smaller JPEG, the bytes differ but the picture is the same.
        resaved = _declare(client, headers, clean, photos=[photo(1, fmt="JPEG", quality=55, scale=0.8)])
        assert resaved.status_code == 409 and resaved.get_json()["code"] == "evidence_reused"
        # A different picture is fine; a file that is not an image is not.
        assert _declare(client, headers, clean, photos=[photo(2)]).status_code == 201
        fake = client.post("/mp/v1/me/points/declarations", headers=headers, content_type="multipart/form-data",
                           data={"item": clean, "occurred_on": ON,
                                 "photos": [(__import__("io").BytesIO(b"%PDF-1.4 not a photo"), "x.png")]})
        assert fake.status_code == 415 and fake.get_json()["code"] == "unsupported_file_type"
    assert db.session.scalar(select(db.func.count()).select_from(Entry)) == 2


def test_approving_ones_own_entry_or_household_is_refused(village):
    with time_machine.travel(TODAY, tick=True):
        reviewer = worker(village, "reviewer")  # lives in 王建国's household
        own = ledger.enter_on_behalf(reviewer, village.people["李明"].ref, village.items["VOL"].ref, 1,
                                     date(2026, 11, 19), "", [])
        _refused(lambda: ledger.approve(worker(village, "reviewer"), own.ref), 403, "own_entry")
        family = ledger.enter_on_behalf(worker(village, "grid"), village.people["王丽"].ref,
                                        village.items["VOL"].ref, 1, date(2026, 11, 19), "", [])
        _refused(lambda: ledger.approve(worker(village, "reviewer"), family.ref), 403, "own_household")
        # A grid worker or the counter cannot review at all; another reviewer can.
        _refused(lambda: ledger.approve(worker(village, "grid"), family.ref), 403, "role_forbidden")
        assert ledger.approve(worker(village, "reviewer2"), family.ref).state == "publicised"
        _refused(lambda: ledger.approve(worker(village, "reviewer2"), family.ref), 409, "entry_not_pending")


def test_a_deduction_is_told_to_the_person_who_may_object_during_publicity(village, client, citizen_headers):
    with time_machine.travel(TODAY, tick=True):
        ming = village.citizens["李明"]
        headers = citizen_headers(ming)
        # A member cannot declare a deduction; the grid worker enters it and another reviewer approves.
        refused = _declare(client, headers, village.items["LITTER"].ref)
        assert refused.status_code == 422 and refused.get_json()["code"] == "deduction_by_worker_only"
        entry = ledger.enter_on_behalf(worker(village, "grid"), village.people["李明"].ref,
                                       village.items["LITTER"].ref, 1, date(2026, 11, 19), "河边倾倒垃圾", [])
        ledger.approve(worker(village, "reviewer2"), entry.ref)
        told = db.session.scalar(select(Message).where(Message.citizen_id == ming.id))
        assert told.kind == "points_deduction" and "扣减 5 分" in told.body and "异议" in told.body
        objection = client.post(f"/mp/v1/me/points/publicity/{entry.ref}/objection", headers=headers,
                                json={"reason": "那天我在外地，有车票为证"})
        assert objection.status_code == 201, objection.get_json()
        twice = client.post(f"/mp/v1/me/points/publicity/{entry.ref}/objection", headers=headers,
                            json={"reason": "再次提出"})
        assert twice.status_code == 409 and twice.get_json()["code"] == "already_objected"
    with time_machine.travel(TODAY + timedelta(days=6), tick=True):
        assert ledger.post_due() == 0  # under objection: it waits for the reviewer
        _refused(lambda: ledger.decide_objection(worker(village, "grid"), entry.ref, True, ""), 403,
                 "role_forbidden")
        decided = ledger.decide_objection(worker(village, "reviewer2"), entry.ref, True, "核实当日不在村")
        assert decided.state == "rejected"
        assert db.session.scalar(select(Member.balance).where(Member.citizen_id == ming.id)) == 0


def test_objecting_after_publicity_is_refused(village, client, citizen_headers):
    with time_machine.travel(TODAY, tick=True):
        entry = ledger.enter_on_behalf(worker(village, "grid"), village.people["李秀英"].ref,
                                       village.items["VOL"].ref, 2, date(2026, 11, 19), "", [])
        ledger.approve(worker(village, "reviewer2"), entry.ref)
    with time_machine.travel(TODAY + timedelta(days=5, minutes=1), tick=True):
        headers = citizen_headers(village.citizens["李明"])
        late = client.post(f"/mp/v1/me/points/publicity/{entry.ref}/objection", headers=headers,
                           json={"reason": "她那天没有去"})
        assert late.status_code == 409 and late.get_json()["code"] == "publicity_over"
        assert "不在公示期" in late.get_json()["message"]


def test_redeeming_without_enough_points_or_stock_is_refused(village, client, citizen_headers):
    with time_machine.travel(TODAY, tick=True):
        for name in ("李明", "王丽"):
            entry = ledger.enter_on_behalf(worker(village, "grid"), village.people[name].ref,
                                           village.items["VOL"].ref, 6, date(2026, 11, 19), "", [])
            ledger.approve(worker(village, "reviewer2"), entry.ref)
        poor = citizen_headers(village.citizens["李秀英"])
        response = client.post("/mp/v1/me/points/redeem-codes", headers=poor,
                               json={"item": village.catalog["soap"].ref})
        assert response.status_code == 409 and response.get_json()["code"] == "not_enough_points"
    with time_machine.travel(TODAY + timedelta(days=6), tick=True):
        ledger.post_due()
        soap = village.catalog["soap"].ref  # one in stock
        codes = [client.post("/mp/v1/me/points/redeem-codes", headers=citizen_headers(village.citizens[name]),
                             json={"item": soap}).get_json()["code"] for name in ("李明", "王丽")]
        till = worker(village, "counter")
        assert counter.redeem(till, codes[0])["balance"] == 10
        _refused(lambda: counter.redeem(worker(village, "counter"), codes[1]), 409, "out_of_stock")
        _refused(lambda: counter.redeem(worker(village, "counter"), codes[0]), 409, "code_used")
        _refused(lambda: counter.redeem(worker(village, "counter"), "JF0000000000"), 404, "code_not_found")
        _refused(lambda: counter.redeem(worker(village, "grid"), codes[1]), 403, "role_forbidden")
        balances = dict(db.session.execute(select(Member.citizen_id, Member.balance)).all())
        assert balances[village.citizens["王丽"].id] == 60  # refused: nothing spent
        assert db.session.get(type(village.catalog["soap"]), village.catalog["soap"].id).stock == 0
        code = client.post("/mp/v1/me/points/redeem-codes", headers=citizen_headers(village.citizens["王丽"]),
                           json={"item": soap})
        assert code.status_code == 409 and code.get_json()["code"] == "out_of_stock"
    with time_machine.travel(TODAY + timedelta(days=6, minutes=11), tick=True):
        _refused(lambda: counter.redeem(worker(village, "counter"), codes[1]), 410, "code_expired")


def test_a_rulebook_takes_effect_only_once_approved(village, client, citizen_headers):
    items = [dict(ITEMS[0], code="VOL2", name="志愿服务（新）")]
    pending = service.propose_rulebook(village.scheme, date(2026, 11, 1), "村民代表会议", items)
    db.session.commit()
    with time_machine.travel(TODAY, tick=True):
        headers = citizen_headers(village.citizens["李明"])
        response = _declare(client, headers, pending.items[0].ref)
        assert response.status_code == 422 and response.get_json()["code"] == "item_not_in_force"
        service.decide_rulebook(pending, True, "staff01")
        db.session.commit()
        assert _declare(client, headers, pending.items[0].ref).status_code == 201
        # The old version's items are no longer in force.
        old = _declare(client, headers, village.items["VOL"].ref)
        assert old.status_code == 422 and old.get_json()["code"] == "item_not_in_force"


def test_a_person_outside_every_scheme_is_told_how_to_join(app, client, citizen_headers, ctx):
    from tests.factories import gen_citizen

    response = client.get("/mp/v1/me/points", headers=citizen_headers(gen_citizen("赵六")))
    assert response.status_code == 404 and response.get_json()["code"] == "not_a_member"
