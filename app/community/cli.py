"""``flask community …``: load the city's villages and communities, post due 公示, run a year-end rating."""

from __future__ import annotations

from pathlib import Path

import click
from flask import g
from flask.cli import AppGroup

from app.audit.service import Actor
from app.errors import ApiError

community_cli = AppGroup("community", help="社区版、乡村版信用积分")
divisions_cli = AppGroup("divisions", help="村（社区）区划")
community_cli.add_command(divisions_cli)


@divisions_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_divisions(path: Path):
    """Load villages and communities from a CSV file (header: code,name,kind,town,county); upsert by code."""
    from app.community import service

    g.actor = Actor("system", "divisions-import")
    try:
        report = service.import_divisions(path.read_bytes().decode("utf-8-sig"))
    except (ApiError, UnicodeDecodeError) as error:
        raise click.ClickException(getattr(error, "message", "file is not UTF-8")) from None
    click.echo(f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
               f"rejected {len(report.rejected)}")
    for row in report.rejected:
        click.echo(f"  line {row['line']}: {row['code']} {row['message']}", err=True)


@community_cli.command("post-due")
def post_due():
    """Post the entries whose 公示 has ended without objection (the scheduler does it every 10 minutes)."""
    from app.community import ledger

    g.actor = Actor("system", "cli")
    click.echo(f"posted {ledger.post_due()}")


@community_cli.command("rate")
@click.option("--scheme", "scheme_ref", required=True)
@click.option("--year", type=int, required=True)
@click.option("--confirm", is_flag=True, help="store the ratings and push them as credit records")
def rate(scheme_ref: str, year: int, confirm: bool):
    """Preview (or, with --confirm, run) a scheme's year-end rating."""
    from app.community import ratings, service

    g.actor = Actor("system", "cli")
    scheme = service.get_scheme(scheme_ref)
    if not confirm:
        result = ratings.preview(scheme, year)
        click.echo(f"{len(result['households'])} households, {len(result['people'])} people would be rated")
        return
    try:
        click.echo(ratings.confirm(scheme, year, "cli"))
    except ApiError as error:
        raise click.ClickException(error.message) from None
