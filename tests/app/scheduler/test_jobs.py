"""Periodic jobs: record expiry rescoring, audit chaining, and one run per fire time across scheduler processes."""

from datetime import UTC, date, datetime, timedelta

from app.audit import service as audit
from app.records.models import Record
from app.scheduler.jobs import JOBS, guard_time, run_guarded
from app.scoring.service import current_score
from app.timeutil import utcnow
from tests.factories import bearer, gen_citizen, gen_department, new_id_number


def test_expiry_job_expires_records_and_rescoring_follows(app, client, runner, ctx):
    from app.extensions import db

    number = new_id_number(date(1979, 4, 4))
    citizen = gen_citizen("钱镠", number)
    _, key = gen_department("SX_TAX", ["LA_TAX_ARREARS"])
    recent = (date.today() - timedelta(days=30)).isoformat()
    ends_today = date.today().isoformat()
    rows = [
        {"external_id": "T-1", "id_number": number, "type_code": "LA_TAX_ARREARS", "occurred_at": recent},
        {"external_id": "T-2", "id_number": number, "type_code": "LA_TAX_ARREARS", "occurred_at": recent,
         "expires_at": ends_today},
    ]
    client.post("/api/v1/records/batch", json={"records": rows}, headers=bearer(key))
    db.session.expire_all()
    assert current_score(citizen).total == 655 - 40  # T-2 stops counting today, T-1 still counts

    result = runner.invoke(args=["scheduler", "run-once", "records-expiry"])
    assert result.exit_code == 0 and "records-expiry: 1" in result.output
    statuses = dict(db.session.execute(db.select(Record.external_id, Record.status)).all())
    assert statuses == {"T-1": "active", "T-2": "expired"}
    runner.invoke(args=["scheduler", "run-once", "scores-changed"])
    db.session.expire_all()
    assert current_score(citizen).total == 655 - 40


def test_expiry_job_ends_a_record_at_its_catalog_validity_whatever_expiry_was_sent(app, client, runner, ctx):
    from app.extensions import db

    number = new_id_number(date(1981, 6, 6))
    citizen = gen_citizen("钱弘俶", number)
    _, key = gen_department("SX_TAX", ["LA_TAX_ARREARS"])
    old = (date.today() - timedelta(days=400)).isoformat()  # LA_TAX_ARREARS counts 365 days
    far = (date.today() + timedelta(days=3650)).isoformat()
    client.post("/api/v1/records/batch", headers=bearer(key), json={"records": [
        {"external_id": "T-9", "id_number": number, "type_code": "LA_TAX_ARREARS", "occurred_at": old,
         "expires_at": far}]})
    db.session.expire_all()
    assert current_score(citizen).total == 655  # the catalog is the ceiling: it no longer counts
    result = runner.invoke(args=["scheduler", "run-once", "records-expiry"])
    assert "records-expiry: 1" in result.output
    assert db.session.scalar(db.select(Record.status).where(Record.external_id == "T-9")) == "expired"


def test_a_job_runs_once_per_fire_time_across_schedulers(app, ctx):
    gen_citizen("孙权")
    fire_time = utcnow().replace(second=0, microsecond=0)
    first = run_guarded(app, "scores-nightly", fire_time)
    second = run_guarded(app, "scores-nightly", fire_time)
    assert first == 0 and second is None  # ran (nothing was due), then skipped
    assert run_guarded(app, "scores-nightly", fire_time + timedelta(days=1)) == 0


def test_the_audit_chain_job_links_pending_entries_every_five_seconds(app, runner, ctx):
    from app.audit.models import AuditEntry, PendingAuditEntry
    from app.extensions import db

    assert JOBS["audit-chain"] == (audit.chain_pending, {"trigger": "interval", "seconds": 5})
    audit.append([1, 2], "test.read", "核对", actor=audit.Actor("staff", "staff01"))
    db.session.commit()
    result = runner.invoke(args=["scheduler", "run-once", "audit-chain"])
    assert result.exit_code == 0 and "audit-chain: 2" in result.output
    count = db.select(db.func.count())
    assert db.session.scalar(count.select_from(AuditEntry)) == 2
    assert db.session.scalar(count.select_from(PendingAuditEntry)) == 0

    # Each 5-second fire has its own guard (a minute-wide one would skip 11 runs of 12)...
    minute = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
    fires = [guard_time("audit-chain", minute + timedelta(seconds=s)) for s in (0.4, 3, 5.2, 59.9)]
    assert fires == [minute, minute, minute + timedelta(seconds=5), minute + timedelta(seconds=55)]
    assert run_guarded(app, "audit-chain", fires[0]) == 0
    assert run_guarded(app, "audit-chain", fires[1]) is None  # a second scheduler firing a moment later
    assert run_guarded(app, "audit-chain", fires[2]) == 0
    # ...while the others keep theirs: the minute for cron jobs, the interval otherwise.
    assert guard_time("scores-nightly", minute + timedelta(seconds=42)) == minute
    assert guard_time("scores-changed", minute + timedelta(seconds=42)) == minute + timedelta(seconds=40)
    assert guard_time("partners-sync", minute + timedelta(minutes=9)) == minute


def test_marked_citizens_are_rescored_every_few_seconds_one_run_at_a_time(app, ctx):
    from sqlalchemy import update

    from app.citizens.models import Citizen
    from app.extensions import db, kv
    from app.scoring.models import Score

    assert JOBS["scores-changed"][1] == {"trigger": "interval", "seconds": 5}
    citizen = gen_citizen("周树人")
    db.session.execute(update(Score).values(total=1))
    db.session.execute(update(Citizen).values(needs_recompute=True))
    db.session.commit()
    fire = guard_time("scores-changed", utcnow())
    # A run that outlasts its interval (here: another scheduler's, still going) is not joined by a second one.
    kv.set("job:scores-changed:running", "someone-else", ex=60)
    assert run_guarded(app, "scores-changed", fire) is None
    kv.delete("job:scores-changed:running")
    assert run_guarded(app, "scores-changed", fire + timedelta(seconds=5)) == 1
    assert kv.get("job:scores-changed:running") is None  # released when done
    db.session.expire_all()
    assert current_score(citizen).total == 655
    assert run_guarded(app, "scores-changed", fire + timedelta(seconds=10)) == 0  # idle
