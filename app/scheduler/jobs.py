"""Periodic jobs. They run in one dedicated process (`flask scheduler run`), never inside web workers; each
run also takes a key-value guard so that a second scheduler started by mistake cannot run a job twice."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from redis.exceptions import LockNotOwnedError
from sqlalchemy import or_, select, update

from app import metrics
from app.audit import service as audit
from app.audit.service import Actor
from app.citizens.models import Citizen
from app.extensions import db, kv
from app.records.models import Record
from app.scoring import service as scoring
from app.timeutil import city_today

log = logging.getLogger(__name__)


def expire_records(today: date | None = None) -> int:
    """Mark active records past their validity as expired and their citizens for recompute; returns how many."""
    today = today or city_today()
    rules = scoring.rules()
    expired_ids: list[int] = []
    citizens: set[int] = set()
    for code, record_type in rules.catalog.items():
        validity_ended = Record.occurred_at <= today - timedelta(days=record_type.validity_days)
        rows = db.session.execute(
            select(Record.id, Record.citizen_id).where(
                Record.status == "active", Record.type_code == code,
                or_(Record.expires_at <= today, validity_ended),  # the catalog's validity is the ceiling
            )
        ).all()
        expired_ids.extend(row.id for row in rows)
        citizens.update(row.citizen_id for row in rows)
    for start in range(0, len(expired_ids), 900):
        db.session.execute(update(Record).where(Record.id.in_(expired_ids[start:start + 900])).values(status="expired"))
    affected = sorted(citizens)
    for start in range(0, len(affected), 900):
        db.session.execute(update(Citizen).where(Citizen.id.in_(affected[start:start + 900]))
                           .values(needs_recompute=True))
    audit.append(affected, "records.expire", "信用记录超过有效期，自动失效", actor=Actor("job", "records-expiry"))
    db.session.commit()
    return len(expired_ids)


def recompute_changed() -> int:
    """Every few seconds: rescore citizens marked by queued batches (an empty partial-index read when idle)."""
    return scoring.recompute("changed", reason="信用记录变更后重新计算", on_chunk=lambda _: still_running()).processed


def recompute_due() -> int:
    """Nightly: rescore only citizens whose score can have changed (a record started or stopped counting, new
    records, no score yet, or a new rules version); the same scores as rescoring everyone."""
    return scoring.recompute("due", reason="每日例行重新计算", on_chunk=lambda _: still_running()).processed


def partners_reconcile() -> int:
    """Nightly, after the recompute: revoke what the listeners missed, then reconcile yesterday with every partner
    (a partner that is down leaves a report in ``retry``; partners-sync reruns it)."""
    from app.partners import attestations, settlement

    attestations.sweep()
    return len(settlement.reconcile())


def partners_sync() -> int:
    """Every few minutes: pull partners' revocations, send pending receipts, rerun reports left in ``retry``."""
    from app.partners import settlement

    done = settlement.sync()
    return done["revocations"] + done["receipts"] + done["reports"]


def rights_deadlines() -> int:
    """Objections and repairs due soon or overdue, and next year's missing calendar: alerts for staff."""
    from app.rights import deadlines

    return deadlines.watch()


def wechat_echo() -> int:
    """Send (and retry) the WeChat subscription messages echoing the message centre."""
    from app.rights import messages

    return messages.deliver_pending()["sent"]


def commitments_settle() -> int:
    """Daily: commitments whose period ended without a breaking record turn kept; any with one turn broken."""
    from app.rights import commitments

    counts = commitments.settle()
    return counts["kept"] + counts["broken"]


def evidence_uploads_purge() -> int:
    """Hourly: evidence images uploaded one at a time that no filing cited within a day are deleted."""
    from app.rights import uploads

    return uploads.purge_expired()


JOBS: dict[str, tuple[Callable[[], int], dict]] = {
    # job id: (function, APScheduler trigger arguments)
    # Links the audit entries requests wrote into the hash chain; tamper-evidence starts there.
    "audit-chain": (audit.chain_pending, {"trigger": "interval", "seconds": 5}),
    # Queued batches show in scores within seconds; one run at a time across schedulers (see run_guarded).
    "scores-changed": (recompute_changed, {"trigger": "interval", "seconds": 5}),
    "records-expiry": (expire_records, {"trigger": "cron", "hour": 1, "minute": 0}),
    "scores-nightly": (recompute_due, {"trigger": "cron", "hour": 2, "minute": 0}),
    "partners-reconcile": (partners_reconcile, {"trigger": "cron", "hour": 3, "minute": 30}),
    "partners-sync": (partners_sync, {"trigger": "interval", "seconds": 600}),
    "rights-deadlines": (rights_deadlines, {"trigger": "cron", "minute": 5}),
    "commitments-settle": (commitments_settle, {"trigger": "cron", "hour": 1, "minute": 20}),
    "wechat-echo": (wechat_echo, {"trigger": "interval", "seconds": 60}),
    "evidence-uploads-purge": (evidence_uploads_purge, {"trigger": "cron", "minute": 40}),
}


# Jobs that run every few seconds: an idle run (result 0) or a skipped one is logged at DEBUG, not INFO.
_QUIET_WHEN_IDLE = frozenset({"audit-chain", "scores-changed"})
# A run holds this key while it lasts, so a run longer than its interval is never joined by a second one (from
# this or another scheduler); the key expires on its own if the process dies, and long runs refresh it.
_RUNNING_SECONDS = 120


def _interval_seconds(job_id: str) -> int | None:
    _, trigger = JOBS[job_id]
    if trigger["trigger"] != "interval":
        return None
    return int(timedelta(**{unit: trigger[unit] for unit in ("weeks", "days", "hours", "minutes", "seconds")
                            if unit in trigger}).total_seconds())


def guard_time(job_id: str, now: datetime) -> datetime:
    """The fire time the cross-process guard is keyed on: ``now`` floored to the job's interval for interval jobs
    and to the minute for cron jobs, so two schedulers firing a moment apart share one guard."""
    seconds = _interval_seconds(job_id)
    if seconds:
        epoch = int(now.timestamp())
        return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)
    return now.replace(second=0, microsecond=0)


def run_guarded(app, job_id: str, fire_time: datetime, guard_seconds: int = 3600) -> int | None:
    """Run one job once per fire time across every scheduler process; None when another process has it."""
    function, _ = JOBS[job_id]
    quiet = job_id in _QUIET_WHEN_IDLE
    # A guard only has to outlive its own fire time; a job every 5 seconds must not leave 720 keys an hour.
    guard_seconds = min(guard_seconds, max(_interval_seconds(job_id) or guard_seconds, 60))
    with app.app_context():
        if not kv.set(f"job:{job_id}:{fire_time.isoformat(timespec='seconds')}", "1", nx=True, ex=guard_seconds):
            log.log(logging.DEBUG if quiet else logging.INFO, "job skipped: another scheduler runs it",
                    extra={"fields": {"job": job_id}})
            return None
        from flask import g

        # redis-py's Lock: a token per holder, released and extended atomically (never another run's key).
        running = kv.client.lock(f"job:{job_id}:running", timeout=_RUNNING_SECONDS, blocking=False)
        if not running.acquire():
            log.log(logging.DEBUG if quiet else logging.INFO, "job skipped: its previous run is still going",
                    extra={"fields": {"job": job_id}})
            return None
        g.actor = Actor("job", job_id)
        g.job_running_lock = running
        metrics.JOB_RUNS.labels(job_id).inc()
        try:
            result = function()
        except Exception:
            metrics.JOB_FAILURES.labels(job_id).inc()
            raise
        finally:
            with contextlib.suppress(LockNotOwnedError):  # it expired under a stalled run: nothing to release
                running.release()
        log.log(logging.DEBUG if quiet and not result else logging.INFO, "job done",
                extra={"fields": {"job": job_id, "result": result}})
        return result


def still_running() -> None:
    """Called by a long job between chunks: keeps its running key from expiring under it."""
    from flask import g

    running = getattr(g, "job_running_lock", None)
    if running is not None:
        with contextlib.suppress(LockNotOwnedError):
            running.reacquire()
