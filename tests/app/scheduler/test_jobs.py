"""Periodic jobs: record expiry rescoring, and one run per fire time across scheduler processes."""

from datetime import date, timedelta

from app.records.models import Record
from app.scheduler.jobs import run_guarded
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


def test_a_job_runs_once_per_fire_time_across_schedulers(app, ctx):
    gen_citizen("孙权")
    fire_time = utcnow().replace(second=0, microsecond=0)
    first = run_guarded(app, "scores-nightly", fire_time)
    second = run_guarded(app, "scores-nightly", fire_time)
    assert first == 1 and second is None
    assert run_guarded(app, "scores-nightly", fire_time + timedelta(days=1)) == 1
