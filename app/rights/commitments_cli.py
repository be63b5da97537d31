"""``flask commitments settle [--date D]``: run the daily commitment job (kept / broken) for a given day."""

from __future__ import annotations

from datetime import date

import click
from flask import g
from flask.cli import AppGroup

from app.audit.service import Actor

commitments_cli = AppGroup("commitments", help="信用承诺")


@commitments_cli.command("settle")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="按这一天结算（默认：今天）")
def settle(day):
    """Active commitments with a breaking record turn broken; those whose period ended by DATE turn kept."""
    from app.rights import commitments

    g.actor = Actor("job", "commitments-settle")
    on: date | None = day.date() if day else None
    counts = commitments.settle(on)
    click.echo(f"commitments settled for {(on or 'today')}: {counts['kept']} kept, {counts['broken']} broken")
