"""``flask calendar seed [--year Y]`` / ``flask calendar check`` and ``flask rights deadlines`` / ``echo``."""

from __future__ import annotations

import click
from flask import g
from flask.cli import AppGroup

from app.audit.service import Actor

calendar_cli = AppGroup("calendar", help="工作日日历（节假日与调休）")
rights_cli = AppGroup("rights", help="信用异议与信用修复")


@calendar_cli.command("seed")
@click.option("--year", type=int, default=None, help="只导入这一年（默认：chinesecalendar 收录的全部年份）")
def seed(year: int | None):
    """Copy official holidays and make-up working days from the chinesecalendar package into the table."""
    from app.errors import ApiError
    from app.rights import calendar

    try:
        result = calendar.seed(year)
    except ApiError as error:
        raise click.ClickException(error.message) from None
    years = result["years"]
    click.echo(f"seeded {years[0]}–{years[-1]} ({len(years)} years), {result['days_added']} days added")
    _warn()


@calendar_cli.command("check")
def check():
    """Say which years are known and warn (from 1 November) when next year's holidays are missing."""
    from app.rights import calendar

    years = sorted(calendar.known_years())
    click.echo(f"known years: {years[0]}–{years[-1]}" if years else "known years: none (run flask calendar seed)")
    if not _warn():
        click.echo("ok")


def _warn() -> bool:
    from app.rights import calendar

    warning = calendar.missing_next_year_warning()
    if warning:
        click.secho(f"WARNING: {warning}", fg="yellow", err=True)
    return bool(warning)


@rights_cli.command("deadlines")
def deadlines_once():
    """Run the deadline watch once (the scheduler runs it hourly): flags, alerts, calendar warning."""
    from app.rights import deadlines

    g.actor = Actor("job", "rights-deadlines")
    click.echo(f"{deadlines.watch()} new alerts")


@rights_cli.command("echo")
def echo_once():
    """Send due WeChat subscription messages once (the scheduler does it every minute)."""
    from app.rights import messages

    click.echo(messages.deliver_pending())
