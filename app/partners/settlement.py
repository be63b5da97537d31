"""Receipts, settlement counts and reconciliation between partner cities.

When one of our merchants redeems a partner citizen's token, the redemption goes into our ledger and a row into
the receipt outbox in the same transaction. After the answer has gone back to the merchant we try to send the
home city its receipt (``POST /partner/v1/receipts``); the outbox keeps what did not get through, and the
reconciliation job retries it. So the home city holds its own record of its citizens' redemptions abroad.

Reconciliation, per active partner and day: refresh their keys, pull their revocations, flush our outbox to them,
ask for their count of redemptions there by our citizens (``GET /partner/v1/settlements?date=D``), and compare it,
scene by scene, with the receipts they sent us. The report of that partner and day is replaced on every run; a
partner that is down gives a report in ``retry`` with the error, never an exception.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta
from types import SimpleNamespace

from flask import after_this_request, current_app, has_request_context
from sqlalchemy import and_, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.audit import service as audit
from app.audit.service import Actor
from app.errors import ApiError
from app.extensions import db
from app.partners import client
from app.partners import service as registry
from app.partners.models import (
    Attestation,
    Partner,
    PulledRevocation,
    Receipt,
    ReceiptOutbox,
    ReconciliationReport,
)
from app.signals import partner_redeemed, partner_redemption_cancelled, partner_redemptions_committed
from app.timeutil import city_today, utcnow
from benefits import visitors

log = logging.getLogger(__name__)

OUTBOX_BATCH = 200
REVOCATION_PAGES_MAX = 200
_TOKEN_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_OUTBOX = ReceiptOutbox.__table__


# -- outbound receipts (we are the host) --------------------------------------------------------------------

def queue_receipt(connection, partner_id: int, redemption_id: int, kind: str) -> None:
    """In the redemption's own transaction: the home city must hear of it (kind: attestation | credit_code)."""
    connection.execute(insert(_OUTBOX), {"partner_id": partner_id, "redemption_id": redemption_id,
                                         "token_kind": kind, "created_at": utcnow(), "attempts": 0})


def requeue_receipt(redemption_id: int) -> int | None:
    """A cancelled redemption: send its receipt again (now saying cancelled). Returns the partner id, if any."""
    row = db.session.execute(select(_OUTBOX.c.partner_id).where(_OUTBOX.c.redemption_id == redemption_id)).first()
    if row is None:
        return None
    db.session.execute(update(_OUTBOX).where(_OUTBOX.c.redemption_id == redemption_id).values(delivered_at=None))
    return row.partner_id


def deliver_after_response(partner_id: int) -> None:
    """Send the partner's pending receipts once the merchant has its answer (or now, outside a request)."""
    app = current_app._get_current_object()

    def send() -> None:
        with app.app_context():
            try:
                partner = db.session.get(Partner, partner_id)
                if partner is not None and partner.status == "active" and partner.api_base_url:
                    deliver_outbox(partner, timeout=app.config["PARTNER_RECEIPT_TIMEOUT_SECONDS"], max_batches=1)
            except client.PartnerUnavailable as error:
                log.info("receipt stays in the outbox", extra={"fields": {"partner": partner_id,
                                                                           "error": error.code}})
            except Exception:  # noqa: BLE001 - best effort: the outbox and the job have it
                log.exception("sending a receipt failed; it stays in the outbox")
            finally:
                db.session.remove()

    if has_request_context():
        @after_this_request
        def _later(response):
            response.call_on_close(send)
            return response
    else:
        send()


# What benefits announces of a partner citizen's redemption (app/signals.py): the receipt is queued in the
# redemption's transaction and sent once the merchant has its answer.

def _on_partner_redeemed(_app, connection, holder: visitors.PartnerHolder, redemption_id: int, **_) -> None:
    queue_receipt(connection, holder.partner_id, redemption_id, holder.kind)


def _on_partner_redemption_cancelled(_app, redemption_id: int, **_) -> None:
    requeue_receipt(redemption_id)


def _on_partner_redemptions_committed(_app, partner_id: int, **_) -> None:
    deliver_after_response(partner_id)


partner_redeemed.connect(_on_partner_redeemed)
partner_redemption_cancelled.connect(_on_partner_redemption_cancelled)
partner_redemptions_committed.connect(_on_partner_redemptions_committed)


def _receipt_rows(partner_id: int, limit: int) -> list[SimpleNamespace]:
    pending = db.session.execute(
        select(_OUTBOX.c.id, _OUTBOX.c.token_kind, _OUTBOX.c.redemption_id)
        .where(_OUTBOX.c.partner_id == partner_id, _OUTBOX.c.delivered_at.is_(None))
        .order_by(_OUTBOX.c.id).limit(limit)).all()
    details = visitors.receipt_details([row.redemption_id for row in pending])
    return [SimpleNamespace(outbox_id=row.id, token_kind=row.token_kind, **details[row.redemption_id]._mapping)
            for row in pending]


def _receipt(row) -> dict:
    return {"id": row.ref, "kind": row.token_kind, "jti": row.code_id.split(":", 1)[1], "sub": row.partner_subject,
            "scene": row.scene_code, "scene_name": row.scene_name, "merchant_name": row.merchant_name,
            "offer_title": row.title, "day": row.city_day.isoformat(),
            "redeemed_at": row.redeemed_at.isoformat(timespec="seconds"),
            "status": "cancelled" if row.cancelled_at else "redeemed"}


def deliver_outbox(partner: Partner, timeout: float | None = None, max_batches: int = 50) -> int:
    """Send pending receipts in batches; returns how many the partner took. Raises PartnerUnavailable (the rows
    stay pending, with the attempt counted)."""
    sent = 0
    for _ in range(max_batches):
        rows = _receipt_rows(partner.id, OUTBOX_BATCH)
        if not rows:
            break
        ids = [row.outbox_id for row in rows]
        now = utcnow()
        try:
            answer = client.call(partner, "POST", "/receipts", "回传信易+核销凭证",
                                 json={"receipts": [_receipt(row) for row in rows]}, timeout=timeout)
        except client.PartnerUnavailable as error:
            db.session.rollback()
            db.session.execute(update(_OUTBOX).where(_OUTBOX.c.id.in_(ids))
                               .values(attempts=_OUTBOX.c.attempts + 1, last_attempt_at=now,
                                       last_error=error.message[:200]))
            db.session.commit()
            raise
        rejected = {item.get("id"): item.get("code", "rejected") for item in (answer or {}).get("rejected", [])
                    if isinstance(item, dict)}
        # A receipt the partner rejects is not retried forever: it is kept as delivered with the reason, and the
        # day's reconciliation shows the difference.
        for row in rows:
            db.session.execute(update(_OUTBOX).where(_OUTBOX.c.id == row.outbox_id).values(
                attempts=_OUTBOX.c.attempts + 1, last_attempt_at=now, delivered_at=now,
                last_error=f"rejected: {rejected[row.ref]}"[:200] if row.ref in rejected else None))
        db.session.commit()
        sent += len(rows) - len(rejected)
    return sent


def pending_receipts(partner_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(_OUTBOX).where(
        _OUTBOX.c.partner_id == partner_id, _OUTBOX.c.delivered_at.is_(None))) or 0


# -- inbound receipts (we are the home city) ----------------------------------------------------------------

def _citizen_for(partner: Partner, receipt: dict) -> tuple[int | None, str | None]:
    """Our citizen behind a receipt, or the reason it is not one of our tokens for this partner."""
    if receipt["kind"] == "attestation":
        row = db.session.execute(select(Attestation.citizen_id, Attestation.subject).where(
            Attestation.jti == receipt["jti"], Attestation.partner_id == partner.id)).first()
        if row is None:
            return None, "unknown_attestation"
        if row.subject != receipt["sub"]:
            return None, "subject_mismatch"
        return row.citizen_id, None
    citizen_id = visitors.citizen_of_subject(receipt["sub"])
    return (citizen_id, None) if citizen_id is not None else (None, "unknown_subject")


_RECEIPT_FIELDS = ("kind", "jti", "subject", "citizen_id", "scene_code", "scene_name", "merchant_name",
                   "offer_title", "city_day", "redeemed_at", "status")


def accept_receipts(partner: Partner, receipts: list[dict]) -> dict:
    """Keep a partner's receipts for our citizens' redemptions there (idempotent on their redemption id)."""
    for attempt in (1, 2):
        try:
            return _accept_receipts(partner, receipts)
        except IntegrityError:
            db.session.rollback()  # the same receipt arrived twice at once: the second pass updates it
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _accept_receipts(partner: Partner, receipts: list[dict]) -> dict:
    existing = {row.receipt_id: row for row in db.session.scalars(select(Receipt).where(
        Receipt.partner_id == partner.id, Receipt.receipt_id.in_([r["id"] for r in receipts])))}
    accepted, rejected, citizens = 0, [], []
    for item in receipts:
        citizen_id, problem = _citizen_for(partner, item)
        if problem:
            rejected.append({"id": item["id"], "code": problem})
            continue
        values = {"kind": item["kind"], "jti": item["jti"], "subject": item["sub"], "citizen_id": citizen_id,
                  "scene_code": item["scene"], "scene_name": item.get("scene_name") or "",
                  "merchant_name": item.get("merchant_name") or "", "offer_title": item.get("offer_title") or "",
                  "city_day": item["day"], "redeemed_at": item["redeemed_at"], "status": item["status"]}
        row = existing.get(item["id"])
        if row is None:
            row = Receipt(partner_id=partner.id, receipt_id=item["id"], **values)
            db.session.add(row)
            existing[item["id"]] = row
        else:
            for name in _RECEIPT_FIELDS:
                setattr(row, name, values[name])
        accepted += 1
        citizens.append(citizen_id)
    db.session.flush()
    if citizens:
        audit.append(citizens, "partners.receipt", f"{partner.city_name}回传本人在当地使用信易+权益的记录",
                     {"partner": partner.city_code}, actor=Actor("partner", partner.city_code))
    db.session.commit()
    return {"accepted": accepted, "rejected": rejected}


# -- settlement counts ----------------------------------------------------------------------------------

def settlement_counts(partner: Partner, day: date) -> dict:
    """Redemptions here on ``day`` by ``partner``'s citizens (net of cancellations), by scene: what they ask us."""
    rows = visitors.partner_redemption_counts(partner.id, day)
    scenes = [{"scene": code, "scene_name": name, "count": count} for code, name, count in rows]
    return {"date": day, "city_code": current_app.config["CITY_CODE"], "partner": partner.city_code,
            "scenes": scenes, "total": sum(s["count"] for s in scenes)}


def _our_receipt_counts(partner: Partner, day: date) -> dict[str, tuple[str, int]]:
    rows = db.session.execute(
        select(Receipt.scene_code, func.max(Receipt.scene_name),
               func.sum(case((Receipt.status == "redeemed", 1), else_=0)))
        .where(Receipt.partner_id == partner.id, Receipt.city_day == day).group_by(Receipt.scene_code)).all()
    return {code: (name or "", int(count or 0)) for code, name, count in rows}


# -- revocations pulled from partners -------------------------------------------------------------------------

def _parse_time(value) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is None or moment.tzinfo else None


def pull_revocations(partner: Partner, timeout: float | None = None) -> int:
    """Follow the partner's revocation feed from our cursor; each page commits with its cursor. Returns how many."""
    added = 0
    for _ in range(REVOCATION_PAGES_MAX):
        params = {"since": partner.revocations_cursor} if partner.revocations_cursor else None
        answer = client.call(partner, "GET", "/revocations", "拉取撤销名单", params=params, timeout=timeout)
        if not isinstance(answer, dict) or not isinstance(answer.get("items"), list) \
                or not isinstance(answer.get("cursor"), str) or len(answer["cursor"]) > 200:
            raise client.PartnerUnavailable("bad_answer", "拉取撤销名单：对方的回答格式有误")
        items = [item for item in answer["items"] if isinstance(item, dict) and isinstance(item.get("jti"), str)
                 and _TOKEN_ID.match(item["jti"])]
        known = set(db.session.scalars(select(PulledRevocation.jti).where(
            PulledRevocation.partner_id == partner.id, PulledRevocation.jti.in_([i["jti"] for i in items]))))
        for item in items:
            if item["jti"] in known:
                continue
            known.add(item["jti"])
            subject = item.get("sub") if isinstance(item.get("sub"), str) else None
            reason = item.get("reason") if isinstance(item.get("reason"), str) else None
            db.session.add(PulledRevocation(partner_id=partner.id, jti=item["jti"],
                                            subject=(subject or "")[:64] or None, reason=(reason or "")[:32] or None,
                                            revoked_at=_parse_time(item.get("revoked_at"))))
            added += 1
        partner.revocations_cursor = answer["cursor"]
        db.session.commit()
        if not answer.get("has_more"):
            break
    return added


# -- reconciliation -----------------------------------------------------------------------------------------

def _compare(theirs: dict, ours: dict[str, tuple[str, int]]) -> list[dict]:
    their_counts = {}
    for entry in theirs.get("scenes", []) if isinstance(theirs, dict) else []:
        if isinstance(entry, dict) and isinstance(entry.get("scene"), str) and isinstance(entry.get("count"), int):
            their_counts[entry["scene"]] = (entry.get("scene_name") or "", entry["count"])
    rows = []
    for scene in sorted(set(their_counts) | set(ours)):
        their_name, their_count = their_counts.get(scene, ("", 0))
        our_name, our_count = ours.get(scene, ("", 0))
        rows.append({"scene": scene, "scene_name": our_name or their_name, "theirs": their_count,
                     "ours": our_count, "status": "matched" if their_count == our_count else "mismatched"})
    return rows


def reconcile_partner(partner: Partner, day: date) -> ReconciliationReport:
    started = utcnow()
    errors: list[dict] = []
    pulled = sent = 0
    if partner.jwks_url:
        try:
            registry.refresh_jwks(partner)
            db.session.commit()
        except client.PartnerUnavailable as error:
            db.session.rollback()
            errors.append(error.as_error("jwks"))
    steps = (("revocations", lambda: pull_revocations(partner)), ("receipts", lambda: deliver_outbox(partner)))
    for step, work in steps:
        try:
            count = work()
        except client.PartnerUnavailable as error:
            db.session.rollback()
            errors.append(error.as_error(step))
            continue
        if step == "revocations":
            pulled = count
        else:
            sent = count
    theirs = None
    try:
        theirs = client.call(partner, "GET", "/settlements", "获取结算计数", params={"date": day.isoformat()})
        if not isinstance(theirs, dict) or not isinstance(theirs.get("scenes"), list):
            raise client.PartnerUnavailable("bad_answer", "获取结算计数：对方的回答格式有误")
    except client.PartnerUnavailable as error:
        errors.append(error.as_error("settlements"))
        theirs = None
    ours = _our_receipt_counts(partner, day)
    rows = _compare(theirs, ours) if theirs is not None else []
    all_match = all(row["status"] == "matched" for row in rows)
    status = "retry" if errors else "matched" if all_match else "mismatched"
    report = db.session.scalar(select(ReconciliationReport).where(ReconciliationReport.partner_id == partner.id,
                                                                  ReconciliationReport.city_day == day))
    if report is None:
        report = ReconciliationReport(partner_id=partner.id, city_day=day, runs=0)
        db.session.add(report)
    report.status, report.rows, report.errors = status, rows, errors
    report.theirs_total = sum(r["theirs"] for r in rows) if theirs is not None else None
    report.ours_total = sum(count for _, count in ours.values())
    report.revocations_pulled, report.receipts_sent = pulled, sent
    report.runs = (report.runs or 0) + 1
    report.started_at, report.finished_at = started, utcnow()
    try:
        db.session.commit()
    except IntegrityError:
        # Another run of the same partner and day got there first: this run's result replaces it.
        db.session.rollback()
        return reconcile_partner(partner, day)
    log.info("partner reconciliation", extra={"fields": {"partner": partner.city_code, "day": day.isoformat(),
                                                         "status": status}})
    return report


def reconcilable_partners(city_code: str | None = None) -> list[Partner]:
    if city_code:
        partner = registry.get_partner(city_code)
        if partner.status != "active":
            raise ApiError(409, "partner_suspended", f"与{partner.city_name}的互认已暂停，不对账。")
        if not partner.api_base_url:
            raise ApiError(409, "not_configured", f"{partner.city_name}尚未登记接口地址（api_base_url）。")
        return [partner]
    return list(db.session.scalars(select(Partner).where(Partner.status == "active", Partner.api_base_url.is_not(None))
                                   .order_by(Partner.city_code)))


def reconcile(city_code: str | None = None, day: date | None = None) -> list[ReconciliationReport]:
    """Reconcile one partner or every active, configured one for ``day`` (default: yesterday, city time)."""
    day = day or city_today() - timedelta(days=1)
    return [reconcile_partner(partner, day) for partner in reconcilable_partners(city_code)]


def sync() -> dict:
    """Between nightly runs: pull revocations, flush outboxes, and rerun recent reports left in ``retry``."""
    done = {"revocations": 0, "receipts": 0, "reports": 0, "errors": 0}
    for partner in reconcilable_partners():
        for key, work in (("revocations", pull_revocations), ("receipts", deliver_outbox)):
            try:
                done[key] += work(partner)
            except client.PartnerUnavailable as error:
                db.session.rollback()
                done["errors"] += 1
                log.warning("partner sync step failed", extra={"fields": {"partner": partner.city_code, "step": key,
                                                                          "error": error.code}})
    since = city_today() - timedelta(days=7)
    retry = db.session.execute(select(ReconciliationReport.city_day, Partner).join(Partner)
                               .where(and_(ReconciliationReport.status == "retry",
                                           ReconciliationReport.city_day >= since, Partner.status == "active",
                                           Partner.api_base_url.is_not(None)))).all()
    for day, partner in retry:
        reconcile_partner(partner, day)
        done["reports"] += 1
    return done


def reports(city_code: str | None = None, day: date | None = None, status: str | None = None,
            limit: int = 100) -> list[ReconciliationReport]:
    stmt = select(ReconciliationReport).join(Partner).order_by(ReconciliationReport.city_day.desc(),
                                                               Partner.city_code)
    if city_code:
        stmt = stmt.where(Partner.city_code == city_code)
    if day:
        stmt = stmt.where(ReconciliationReport.city_day == day)
    if status:
        stmt = stmt.where(ReconciliationReport.status == status)
    return list(db.session.scalars(stmt.limit(limit)))
