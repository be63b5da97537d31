"""The ledger: a merchant sees its own totals by offer and day, staff see everyone's, reads are audited."""

from __future__ import annotations

from app.audit.service import entries_for_subject
from app.timeutil import city_today
from tests.benefits.helpers import Shop, code_for, make_citizen, make_offer, mp_headers
from tests.factories import staff_headers


def _two_shops(app, client):
    with app.app_context():
        yuling = Shop(client)
        second_offer = make_offer(yuling.merchant_ref, title="大禹陵讲解服务免费").ref
        xianheng = Shop(client)
        people = [make_citizen(name, level=3) for name in ("张三", "李四")]
        return yuling, second_offer, xianheng, [(p.id, mp_headers(p)) for p in people]


def test_merchant_sees_only_its_own_totals_and_redemptions(app, client):
    yuling, second_offer, xianheng, people = _two_shops(app, client)
    (_, a), (_, b) = people
    first = yuling.verify(code_for(client, a))
    yuling.verify(code_for(client, b))
    yuling.verify(code_for(client, a), offer_ref=second_offer)
    xianheng.verify(code_for(client, b))
    client.post(f"/merchant/v1/redemptions/{first['redemption_id']}/cancel", headers=yuling.headers)

    totals = client.get("/merchant/v1/totals", headers=yuling.headers).get_json()
    today = city_today().isoformat()
    assert sorted((t["day"], t["offer_title"], t["redeemed"], t["cancelled"]) for t in totals) == [
        (today, "大禹陵景区门票8折", 1, 1), (today, "大禹陵讲解服务免费", 1, 0)]
    assert {t["merchant_id"] for t in totals} == {yuling.merchant_ref}

    own = client.get("/merchant/v1/redemptions", headers=yuling.headers).get_json()
    assert own["total"] == 3 and all("citizen" not in key for item in own["items"] for key in item)
    filtered = client.get(f"/merchant/v1/redemptions?offer_id={second_offer}&from={today}&to={today}",
                          headers=yuling.headers).get_json()
    assert filtered["total"] == 1
    assert client.get("/merchant/v1/totals?from=2000-01-01&to=2000-01-31", headers=yuling.headers).get_json() == []
    reversed_period = client.get("/merchant/v1/totals?from=2000-01-31&to=2000-01-01", headers=yuling.headers)
    assert reversed_period.status_code == 422
    assert reversed_period.get_json()["errors"] == {"to": ["起始日期不能晚于结束日期。"]}

    me = client.get("/merchant/v1/me", headers=yuling.headers).get_json()
    assert me["merchant_name"] == "绍兴大禹陵景区" and len(me["offers"]) == 2 and len(me["branches"]) == 1


def test_staff_see_all_totals_attempts_and_redemptions(app, client):
    yuling, _, xianheng, people = _two_shops(app, client)
    (_, a), (_, b) = people
    yuling.verify(code_for(client, a))
    xianheng.verify(code_for(client, b))
    xianheng.verify("garbage")
    with app.app_context():
        staff = staff_headers(client)
    totals = client.get("/api/v1/redemptions/totals", headers=staff).get_json()
    assert sum(t["redeemed"] for t in totals["redemptions"]) == 2
    assert {t["merchant_id"] for t in totals["redemptions"]} == {yuling.merchant_ref, xianheng.merchant_ref}
    assert {(t["reason"], t["count"]) for t in totals["attempts"]} == {("ok", 2), ("malformed", 1)}
    only = client.get(f"/api/v1/redemptions/totals?merchant_id={xianheng.merchant_ref}", headers=staff).get_json()
    assert sum(t["redeemed"] for t in only["redemptions"]) == 1

    listing = client.get("/api/v1/redemptions", headers=staff).get_json()
    assert listing["total"] == 2
    refused = client.get("/api/v1/verification-attempts?reason=malformed", headers=staff).get_json()
    assert refused["total"] == 1 and refused["items"][0]["merchant_id"] == xianheng.merchant_ref
    assert client.get("/api/v1/verification-attempts?reason=nonsense", headers=staff).status_code == 422
    assert client.get("/api/v1/redemptions").status_code == 401


def test_staff_reading_one_citizens_redemptions_is_in_their_trail(app, client):
    yuling, _, _, people = _two_shops(app, client)
    (citizen_id, headers), _ = people
    yuling.verify(code_for(client, headers))
    with app.app_context():
        staff = staff_headers(client)
        from app.citizens.models import Citizen
        from app.extensions import db

        ref = db.session.get(Citizen, citizen_id).ref
    assert client.get(f"/api/v1/citizens/{ref}/redemptions", headers=staff).status_code == 422  # reason required
    page = client.get(f"/api/v1/citizens/{ref}/redemptions?reason=处理居民投诉", headers=staff).get_json()
    assert page["total"] == 1
    with app.app_context():
        entries, _ = entries_for_subject(citizen_id, 1, 10)
        assert entries[0].action == "benefits.redemptions.read" and entries[0].reason == "处理居民投诉"
        assert entries[0].actor_type == "staff"


def test_the_database_refuses_a_count_beyond_the_quota(app, client):
    """Second line of defence behind the conditional reservation: CHECK (redeemed_count <= quota)."""
    import pytest
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    from app.extensions import db
    from benefits import catalog
    from benefits.models import Offer

    with app.app_context():
        shop = Shop(client, quota=1)
        offer_id = catalog.get_offer(shop.offer_ref).id
        db.session.execute(update(Offer).where(Offer.id == offer_id).values(redeemed_count=1))
        with pytest.raises(IntegrityError):
            db.session.execute(update(Offer).where(Offer.id == offer_id).values(redeemed_count=2))
            db.session.flush()
        db.session.rollback()
