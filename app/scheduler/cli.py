"""`flask scheduler run`: the one process that runs periodic jobs (APScheduler must never start in web workers)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.scheduler.jobs import JOBS, guard_time, run_guarded
from app.timeutil import CITY_TZ, utcnow

scheduler_cli = AppGroup("scheduler", help="定时任务")


@scheduler_cli.command("run")
def run():
    """Run the periodic jobs until stopped."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    app = current_app._get_current_object()
    scheduler = BlockingScheduler(timezone=CITY_TZ)
    for job_id, (_, trigger) in JOBS.items():
        scheduler.add_job(_fire, id=job_id, args=[app, job_id], replace_existing=True, coalesce=True,
                          max_instances=1, misfire_grace_time=300, **trigger)
    click.echo(f"scheduler running: {', '.join(JOBS)}")
    scheduler.start()


def _fire(app, job_id: str) -> None:
    # The fire time is floored to the job's interval (to the minute for cron jobs) so that two schedulers firing a
    # second apart share one guard, and a job every 5 seconds is not skipped for the rest of its minute.
    run_guarded(app, job_id, guard_time(job_id, utcnow()))


@scheduler_cli.command("run-once")
@click.argument("job_id", type=click.Choice(sorted(JOBS)))
def run_once(job_id: str):
    """Run one job now (for operators and tests); still guarded against a concurrent run."""
    result = run_guarded(current_app._get_current_object(), job_id, guard_time(job_id, utcnow()))
    click.echo(f"{job_id}: {'skipped, already running elsewhere' if result is None else result}")
