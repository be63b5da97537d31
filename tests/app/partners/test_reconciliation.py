"""Reconciliation with a partner: keys, revocations, our outbox, their settlement counts against our receipts.

The partner's API is played by a function standing in for ``app.partners.client.call`` (the two-city tests do it
over HTTP with a real second instance); a partner that is down is a real closed port.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.partners import client as partner_client
from app.partners import service as registry
from app.partners import settlement
from app.partners.models import PulledRevocation, Receipt, ReceiptOutbox, ReconciliationReport
from app.scheduler.jobs import JOBS, run_guarded
from app.timeutil import city_today, utcnow
from tests.benefits.helpers import Shop
from tests.factories import staff_headers

DAY = date(2026, 11, 20)
_numbers = itertools.count(1)


class FakePartnerApi:
    """Answers our calls as 杭州's partner API would, and remembers what we sent."""

    def __init__(self) -> None:
        self.settlements = {"scenes": [{"scene": "you", "scene_name": "信易游", "count": 2}]}
        self.revocations = [{"jti": "revoked-jti-0001", "sub": "s" * 43, "revoked_at": "2026-11-20T02:00:00+00:00",
                             "reason": "restricted"}]
        self.receipts: list[dict] = []
        self.calls: list[tuple[str, dict | None]] = []

    def __call__(self, partner, method, path, what, *, params=None, json=None, timeout=None):
        self.calls.append((path, params))
        if path == "/revocations":
            since = (params or {}).get("since")
            items = [] if since == "c1" else self.revocations
            return {"items": items, "cursor": "c1", "has_more": False}
        if path == "/receipts":
            self.receipts.extend(json["receipts"])
            return {"accepted": len(json["receipts"]), "rejected": []}
        if path == "/settlements":
            return {"date": params["date"], "city_code": "330100", "partner": "330600", **self.settlements}
        raise AssertionError(path)


@pytest.fixture
def fake(monkeypatch):
    api = FakePartnerApi()
    monkeypatch.setattr(partner_client, "call", api)
    return api


@pytest.fixture
def configured(app, hangzhou):
    with app.app_context():
        registry.update_partner("330100", {"api_base_url": "http://hz.example/partner/v1"})
        db.session.commit()
    return hangzhou


def _receipts(app, scene_counts: dict[str, int], day=DAY):
    with app.app_context():
        partner = registry.find_partner("330100")
        for scene, count in scene_counts.items():
            for _ in range(count):
                number = next(_numbers)
                db.session.add(Receipt(partner_id=partner.id, receipt_id=f"hz-{scene}-{number}", kind="attestation",
                                       jti=f"jti-{scene}-{number:04d}", subject="s" * 43, scene_code=scene,
                                       scene_name="信易游", city_day=day, redeemed_at=utcnow(), status="redeemed"))
        db.session.commit()


def test_matched_counts_make_a_matched_report(app, runner, configured, fake):
    _receipts(app, {"you": 2})
    result = runner.invoke(args=["partners", "reconcile", "--date", DAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "330100 杭州 2026-11-20: matched" in result.output
    with app.app_context():
        report = db.session.scalar(select(ReconciliationReport))
        assert (report.status, report.theirs_total, report.ours_total, report.errors) == ("matched", 2, 2, [])
        assert report.rows == [{"scene": "you", "scene_name": "信易游", "theirs": 2, "ours": 2, "status": "matched"}]
        assert report.revocations_pulled == 1
        revoked = db.session.scalar(select(PulledRevocation))
        assert (revoked.jti, revoked.reason) == ("revoked-jti-0001", "restricted")
        assert registry.find_partner("330100").revocations_cursor == "c1"


def test_a_difference_is_a_mismatched_row_and_a_rerun_replaces_the_report(app, runner, configured, fake):
    _receipts(app, {"you": 1})
    fake.settlements = {"scenes": [{"scene": "you", "scene_name": "信易游", "count": 2},
                                   {"scene": "ting", "scene_name": "信易停", "count": 1}]}
    assert "mismatched" in runner.invoke(args=["partners", "reconcile", "--date", DAY.isoformat()]).output
    with app.app_context():
        report = db.session.scalar(select(ReconciliationReport))
        assert [(r["scene"], r["theirs"], r["ours"], r["status"]) for r in report.rows] == [
            ("ting", 1, 0, "mismatched"), ("you", 2, 1, "mismatched")]
    _receipts(app, {"you": 1, "ting": 1})
    runner.invoke(args=["partners", "reconcile", "--date", DAY.isoformat()])
    with app.app_context():
        reports = db.session.scalars(select(ReconciliationReport)).all()
        assert [(r.status, r.runs) for r in reports] == [("matched", 2)]
        # The second run asked for revocations after the cursor the first one stored.
        assert ("/revocations", {"since": "c1"}) in fake.calls


def test_a_partner_that_is_down_gives_a_retry_report_not_a_crash(app, runner, hangzhou):
    with app.app_context():
        registry.update_partner("330100", {"api_base_url": "http://127.0.0.1:9/partner/v1",
                                           "jwks_url": "http://127.0.0.1:9/.well-known/jwks.json"})
        db.session.commit()
    result = runner.invoke(args=["partners", "reconcile", "--partner", "330100", "--date", DAY.isoformat()])
    assert result.exit_code == 2, result.output
    assert "retry" in result.output and "unreachable" in result.output
    with app.app_context():
        report = db.session.scalar(select(ReconciliationReport))
        assert report.status == "retry" and report.theirs_total is None
        assert [(e["step"], e["code"]) for e in report.errors] == [
            ("jwks", "unreachable"), ("revocations", "unreachable"), ("settlements", "unreachable")]
        assert registry.find_partner("330100").jwks  # the last good keys are kept


def test_our_outbox_is_flushed_to_them_and_marked_delivered(app, client, configured, fake):
    with app.app_context():
        shop = Shop(client, partner_allowed=True, partner_min_level=3)
    answer = shop.verify(configured.attestation())
    with app.app_context():
        # The test client never closed the answer, so the after-response send did not run: the outbox has it.
        assert settlement.pending_receipts(registry.find_partner("330100").id) == 1
        reports = settlement.reconcile("330100", city_today())
        assert reports[0].receipts_sent == 1
        assert db.session.scalar(select(func.count()).select_from(ReceiptOutbox)
                                 .where(ReceiptOutbox.delivered_at.is_(None))) == 0
    (receipt,) = fake.receipts
    assert receipt["id"] == answer["redemption_id"] and receipt["kind"] == "attestation"
    assert (receipt["scene"], receipt["status"], receipt["day"]) == ("you", "redeemed", city_today().isoformat())
    assert len(receipt["sub"]) > 8 and ":" not in receipt["jti"]


def test_an_undeliverable_receipt_stays_pending_with_its_attempt_counted(app, client, hangzhou):
    with app.app_context():
        registry.update_partner("330100", {"api_base_url": "http://127.0.0.1:9/partner/v1"})
        db.session.commit()
        shop = Shop(client, partner_allowed=True, partner_min_level=3)
    shop.verify(hangzhou.attestation())
    with app.app_context():
        partner = registry.find_partner("330100")
        with pytest.raises(partner_client.PartnerUnavailable):
            settlement.deliver_outbox(partner)
        row = db.session.scalar(select(ReceiptOutbox))
        assert row.delivered_at is None and row.attempts >= 1 and "无法连接" in row.last_error


def test_staff_run_and_read_reports(app, client, configured, fake):
    with app.app_context():
        admin = staff_headers(client, "admin01", "admin")
        staff = staff_headers(client, "staff01")
    _receipts(app, {"you": 2})
    response = client.post("/api/v1/partners/reconciliations", json={"date": DAY.isoformat()}, headers=admin)
    assert response.status_code == 200, response.get_json()
    (report,) = response.get_json()
    assert (report["partner"], report["date"], report["status"]) == ("330100", "2026-11-20", "matched")
    assert client.post("/api/v1/partners/reconciliations", json={}, headers=staff).status_code == 403
    listed = client.get("/api/v1/partners/reconciliations?partner=330100", headers=staff).get_json()
    assert [r["report_id"] for r in listed] == [report["report_id"]]
    assert client.get("/api/v1/partners/reconciliations?status=retry", headers=staff).get_json() == []
    unknown = client.post("/api/v1/partners/reconciliations", json={"partner": "330200"}, headers=admin)
    assert (unknown.status_code, unknown.get_json()["code"]) == (404, "partner_unknown")
    registry_suspend = client.post("/api/v1/partners/330100/suspend", headers=admin)
    assert registry_suspend.status_code == 200
    suspended = client.post("/api/v1/partners/reconciliations", json={"partner": "330100"}, headers=admin)
    assert (suspended.status_code, suspended.get_json()["code"]) == (409, "partner_suspended")


def test_default_day_is_yesterday_and_unconfigured_partners_are_skipped(app, configured, fake):
    with app.app_context():
        registry.seed_known_partners()  # 宁波 and 苏州: suspended, no API address
        db.session.commit()
        reports = settlement.reconcile()
        assert [(r.partner.city_code, r.city_day) for r in reports] == [("330100", city_today() - timedelta(days=1))]


def test_scheduled_jobs_reconcile_nightly_and_sync_often(app, configured, fake):
    assert JOBS["partners-reconcile"][1] == {"trigger": "cron", "hour": 3, "minute": 30}
    assert JOBS["partners-sync"][1]["trigger"] == "interval"
    from datetime import datetime

    assert run_guarded(app, "partners-reconcile", datetime(2026, 11, 21, 3, 30)) == 1
    assert run_guarded(app, "partners-reconcile", datetime(2026, 11, 21, 3, 30)) is None  # once per fire time
    with app.app_context():
        report = db.session.scalar(select(ReconciliationReport))
        report.status = "retry"
        db.session.commit()
    assert run_guarded(app, "partners-sync", datetime(2026, 11, 21, 3, 40)) >= 1
    with app.app_context():
        assert db.session.scalar(select(ReconciliationReport.status)) == "mismatched"  # ours 0, theirs 2


def test_a_receipt_goes_out_once_the_merchant_has_its_answer(app, client, configured, fake):
    with app.app_context():
        shop = Shop(client, partner_allowed=True, partner_min_level=3)
    body = {"code": configured.attestation(), "offer_id": shop.offer_ref, "branch_id": shop.branch_ref}
    with client.post("/merchant/v1/verifications", json=body, headers=shop.headers) as response:
        answer = response.get_json()
        assert answer["reason"] == "ok" and fake.receipts == []  # the cashier does not wait for 杭州
    assert [r["id"] for r in fake.receipts] == [answer["redemption_id"]]
    with app.app_context():
        assert settlement.pending_receipts(registry.find_partner("330100").id) == 0
    with client.post(f"/merchant/v1/redemptions/{answer['redemption_id']}/cancel", headers=shop.headers):
        pass
    assert [(r["id"], r["status"]) for r in fake.receipts][-1] == (answer["redemption_id"], "cancelled")
