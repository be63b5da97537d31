"""What a bound citizen sees under /mp/v1/me: only their own data, paginated, and their consents obeyed."""

from datetime import UTC, date, datetime, timedelta

from app.timeutil import CITY_TZ, city_today


def test_withdrawing_scoring_consent_hides_the_score_and_stops_recomputes(client, bound, city):
    headers = bound("wang")
    assert client.get("/mp/v1/me/score", headers=headers).get_json()["total"] == 655

    response = client.delete("/mp/v1/me/consents/scoring", headers=headers)
    assert response.status_code == 200
    assert {c["kind"]: c["granted"] for c in response.get_json()["consents"]}["scoring"] is False
    for path in ("/mp/v1/me/score", "/mp/v1/me/score/history", "/mp/v1/me/hints"):
        response = client.get(path, headers=headers)
        assert response.status_code == 409 and response.get_json()["code"] == "no_scoring_consent", path

    # New records still arrive and are hers to see, but nothing is scored.
    city["report"]("wang", [{"type_code": "CM_KEPT_ENV", "days_ago": 5}])
    records = client.get("/mp/v1/me/records", headers=headers).get_json()
    assert records["total"] == 1 and records["items"][0]["scored"] is False
    assert records["items"][0]["points"] is None
    assert client.get("/mp/v1/me/score", headers=headers).status_code == 409

    # Granting again scores at once, with the records that came in meanwhile.
    response = client.put("/mp/v1/me/consents/scoring", headers=headers)
    assert {c["kind"]: c["granted"] for c in response.get_json()["consents"]}["scoring"] is True
    assert client.get("/mp/v1/me/score", headers=headers).get_json()["total"] == 655 + 15


def test_staff_no_longer_see_a_withdrawn_score(app, client, bound, city):
    from tests.factories import staff_headers

    headers = bound("wang")
    client.delete("/mp/v1/me/consents/scoring", headers=headers)
    with app.app_context():
        staff = staff_headers(client)
    response = client.get(f"/api/v1/citizens/{city['people']['wang']['ref']}/score", headers=staff)
    assert response.status_code == 409


def test_partner_sharing_consents(client, bound):
    headers = bound("wang")
    response = client.put("/mp/v1/me/consents/raw_score_sharing", headers=headers)
    assert response.status_code == 409 and response.get_json()["code"] == "partner_sharing_required"
    assert client.put("/mp/v1/me/consents/partner_sharing", headers=headers).status_code == 200
    granted = client.put("/mp/v1/me/consents/raw_score_sharing", headers=headers).get_json()["consents"]
    assert all(c["granted"] for c in granted)
    # Withdrawing partner sharing takes raw-score sharing with it.
    after = client.delete("/mp/v1/me/consents/partner_sharing", headers=headers).get_json()["consents"]
    assert {c["kind"]: c["granted"] for c in after} == {
        "scoring": True, "partner_sharing": False, "raw_score_sharing": False}
    assert client.put("/mp/v1/me/consents/telepathy", headers=headers).status_code == 404
    trail = client.get("/mp/v1/me/audit", headers=headers).get_json()["items"]
    assert [item["action_name"] for item in trail[:2]] == ["撤回授权", "授权"]


def test_records_are_paginated_and_filtered(client, bound, city):
    city["report"]("wang", [{"type_code": "HN_VOLUNTEER", "quantity": 10, "days_ago": day} for day in range(1, 23)]
                   + [{"type_code": "LA_PENALTY_GENERAL", "days_ago": 40},
                      {"type_code": "LA_PENALTY_GENERAL", "days_ago": 41, "status": "revoked"},
                      {"type_code": "LA_PENALTY_GENERAL", "days_ago": 500}])
    headers = bound("wang")
    first = client.get("/mp/v1/me/records", headers=headers, query_string={"per_page": 10}).get_json()
    assert (first["total"], first["pages"], len(first["items"])) == (25, 3, 10)
    last = client.get("/mp/v1/me/records", headers=headers, query_string={"per_page": 10, "page": 3}).get_json()
    assert len(last["items"]) == 5
    pages = [client.get("/mp/v1/me/records", headers=headers, query_string={"per_page": 10, "page": page})
             .get_json()["items"] for page in (1, 2, 3)]
    assert len({item["ref"] for page in pages for item in page}) == 25

    law = client.get("/mp/v1/me/records", headers=headers, query_string={"dimension": "law"}).get_json()
    assert law["total"] == 3 and {item["dimension_name"] for item in law["items"]} == {"遵纪守法"}
    old = next(item for item in law["items"] if item["occurred_at"] == (date.today() - timedelta(500)).isoformat())
    assert old["counted"] is False and old["not_counted_text"] == "已过有效期，不再计分"

    revoked = client.get("/mp/v1/me/records", headers=headers, query_string={"status": "revoked"}).get_json()
    assert revoked["total"] == 1 and revoked["items"][0]["status_name"] == "已撤销"
    assert revoked["items"][0]["points"] == 0 and revoked["items"][0]["counted"] is False

    honour = client.get("/mp/v1/me/records", headers=headers,
                        query_string={"dimension": "honour", "status": "active", "per_page": 100}).get_json()
    assert honour["total"] == 22
    # The volunteer sub-cap: only so many hours count; the rest say why.
    assert {item["not_counted_text"] for item in honour["items"] if not item["counted"]} <= {"同类加分已达上限"}

    for bad in ({"dimension": "wealth"}, {"status": "secret"}, {"page": 0}, {"per_page": 1000}):
        assert client.get("/mp/v1/me/records", headers=headers, query_string=bad).status_code == 422


def test_history_is_chart_ready_for_the_last_twelve_months(app, client, bound, city):
    from app.extensions import db
    from app.scoring.models import ScoreHistory
    from miniprogram_api.models import WeChatAccount

    headers = bound("wang")
    # Noon in the city: the two entries of one day stay on that day whatever the hour the test runs.
    now = datetime.now(CITY_TZ).replace(hour=12, minute=0, second=0, microsecond=0).astimezone(UTC)
    with app.app_context():
        citizen_id = db.session.scalar(db.select(WeChatAccount.citizen_id).where(WeChatAccount.openid.like("%wang%")))

        def past(days: int, total: int, minute: int = 0):
            db.session.add(ScoreHistory(citizen_id=citizen_id, total=total, public=280, law=total - 355,
                                        commitment=75, honour=0, level=3, rules_version="v1",
                                        computed_at=now - timedelta(days=days, minutes=minute)))

        past(500, 600)  # before the window: the value in force at its start
        past(400, 610)
        past(100, 620, minute=30)
        past(100, 640, minute=10)  # later the same day: the day's last value wins
        db.session.commit()
    body = client.get("/mp/v1/me/score/history", headers=headers).get_json()
    today = city_today()
    assert body["to"] == today.isoformat() and body["from"] == today.replace(year=today.year - 1).isoformat()
    points = body["points"]
    assert points[0] == {"date": body["from"], "total": 610, "public": 280, "law": 255, "commitment": 75,
                         "honour": 0, "level": 3, "level_name": "良好"}
    day_100 = (now - timedelta(days=100, minutes=10)).astimezone(CITY_TZ).date().isoformat()
    assert [(p["date"], p["total"]) for p in points[1:]] == [(day_100, 640), (today.isoformat(), 655)]
    assert [d["key"] for d in body["dimensions"]] == ["public", "law", "commitment", "honour"]


def test_a_citizen_never_sees_another_citizens_data(client, bound, city):
    city["report"]("wang", [{"type_code": "LA_PENALTY_GENERAL", "days_ago": 10, "summary": "王丽的处罚"}])
    city["report"]("chen", [{"type_code": "HN_BLOOD_DONATION", "days_ago": 10, "summary": "陈强的献血"}])
    wang, chen = bound("wang"), bound("chen")

    def everything(headers) -> str:
        paths = ("/mp/v1/me", "/mp/v1/me/score", "/mp/v1/me/score/history", "/mp/v1/me/records",
                 "/mp/v1/me/hints", "/mp/v1/me/consents", "/mp/v1/me/audit")
        return "\n".join(client.get(path, headers=headers).get_data(as_text=True) for path in paths)

    seen_by_wang, seen_by_chen = everything(wang), everything(chen)
    assert "王丽的处罚" in seen_by_wang and "陈强的献血" not in seen_by_wang
    assert "陈强的献血" in seen_by_chen and "王丽的处罚" not in seen_by_chen
    assert client.get("/mp/v1/me", headers=wang).get_json()["masked_name"] == "王*"
    assert client.get("/mp/v1/me", headers=chen).get_json()["masked_name"] == "陈*"
    wang_refs = {item["ref"] for item in client.get("/mp/v1/me/records", headers=wang).get_json()["items"]}
    chen_refs = {item["ref"] for item in client.get("/mp/v1/me/records", headers=chen).get_json()["items"]}
    assert wang_refs and chen_refs and not wang_refs & chen_refs
    assert client.get("/mp/v1/me/score", headers=wang).get_json()["total"] == 625
    assert client.get("/mp/v1/me/score", headers=chen).get_json()["total"] != 625


def test_audit_view_is_paginated_and_names_who(app, client, bound, city):
    from tests.factories import staff_headers

    headers = bound("wang")
    with app.app_context():
        staff = staff_headers(client)
    for reason in ("窗口咨询一", "窗口咨询二", "窗口咨询三"):
        client.get(f"/api/v1/citizens/{city['people']['wang']['ref']}/score", query_string={"reason": reason},
                   headers=staff)
    first = client.get("/mp/v1/me/audit", headers=headers, query_string={"per_page": 2}).get_json()
    assert first["per_page"] == 2 and len(first["items"]) == 2 and first["total"] >= 5
    assert [item["reason"] for item in first["items"]] == ["窗口咨询三", "窗口咨询二"]
    assert first["items"][0]["who"] == "staff01" and first["items"][0]["occurred_at"].endswith("+08:00")
    # Her own reads are not in her trail.
    client.get("/mp/v1/me/score", headers=headers)
    assert client.get("/mp/v1/me/audit", headers=headers).get_json()["total"] == first["total"]


def test_the_score_shown_follows_every_change_at_once(app, client, bound, city):
    """Score answers are cached; a new record, a staff correction or a counter withdrawal shows on the next read."""
    from tests.factories import staff_headers

    headers = bound("wang")
    assert client.get("/mp/v1/me/score", headers=headers).get_json()["total"] == 655
    assert client.get("/mp/v1/me/score", headers=headers).get_json()["total"] == 655  # now from the cache

    city["report"]("wang", [{"type_code": "LA_PENALTY_GENERAL", "days_ago": 10}])
    assert client.get("/mp/v1/me/score", headers=headers).get_json()["total"] == 625

    with app.app_context():
        staff = staff_headers(client)
    ref = client.get("/mp/v1/me/records", headers=headers).get_json()["items"][0]["ref"]
    response = client.patch(f"/api/v1/records/{ref}", headers=staff, json={"status": "revoked", "reason": "错误记录"})
    assert response.status_code == 200
    assert client.get("/mp/v1/me/score", headers=headers).get_json()["total"] == 655

    citizen = city["people"]["wang"]["ref"]
    assert client.delete(f"/api/v1/citizens/{citizen}/consents/scoring", headers=staff).status_code == 200
    assert client.get("/mp/v1/me/score", headers=headers).get_json()["code"] == "no_scoring_consent"
    assert client.put(f"/api/v1/citizens/{citizen}/consents/scoring", headers=staff).status_code == 200
    assert client.get("/mp/v1/me/score", headers=headers).get_json()["total"] == 655


def test_unbinding_revokes_tokens_on_the_cached_score_path_too(client, logged_in, city):
    from tests.miniprogram_api.conftest import auth

    session = logged_in("wang-phone")
    wang = city["people"]["wang"]
    client.post("/mp/v1/binding", headers=auth(session),
                json={"name": wang["name"], "id_number": wang["id_number"], "phone": "13712345678"})
    assert client.get("/mp/v1/me/score", headers=auth(session)).status_code == 200
    assert client.delete("/mp/v1/binding", headers=auth(session)).status_code == 204
    response = client.get("/mp/v1/me/score", headers=auth(session))
    assert response.status_code == 401 and response.get_json()["code"] == "unauthorized"


def test_a_score_changed_by_the_recompute_job_shows_at_once(app, client, runner, bound, city):
    """Large batches are rescored later by the recompute job, in bulk; the cached answer must follow it too."""
    headers = bound("wang")
    assert client.get("/mp/v1/me/score", headers=headers).get_json()["total"] == 655
    app.config["BATCH_INLINE_RECOMPUTE_MAX"] = 0
    try:
        city["report"]("wang", [{"type_code": "LA_PENALTY_GENERAL", "days_ago": 3}])
    finally:
        app.config["BATCH_INLINE_RECOMPUTE_MAX"] = 500
    assert client.get("/mp/v1/me/score", headers=headers).get_json()["total"] == 655  # queued, not yet rescored
    result = runner.invoke(args=["scores", "recompute", "--changed"])
    assert "changed=1" in result.output
    assert client.get("/mp/v1/me/score", headers=headers).get_json()["total"] == 625
