"""``flask partners …``: seed and configure the partner registry, reconcile with partner cities."""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path

import click

from app.errors import ApiError


def _fail(error: ApiError) -> click.ClickException:
    return click.ClickException(f"{error.code}: {error.message}")


def register_commands(group: click.Group) -> None:
    @group.command("seed")
    def seed():
        """Add the known partner cities that are missing (天一分 and 桂花分 as suspended placeholders)."""
        from app.extensions import db
        from app.partners.service import seed_known_partners

        added = seed_known_partners()
        db.session.commit()
        click.echo(f"added {len(added)} partner(s): {', '.join(added) or '-'}")

    @group.command("list")
    def list_partners():
        """The registry: code, city, score, status, scale, keys, API address, credential format."""
        from app.partners.service import key_ids, list_partners, scale_of

        for partner in list_partners():
            scale = scale_of(partner)
            ladder = (" ".join(f"L{c['level']}≥{c['min']}" for c in scale.as_list()) if scale
                      else partner.scale_note)
            keys = ",".join(key_ids(partner)) or "-"
            click.echo(f"{partner.city_code}\t{partner.city_name}\t{partner.score_name}\t{partner.status}\t"
                       f"{ladder or '-'}\tkeys: {keys}\tapi: {partner.api_base_url or '-'}\t"
                       f"format: {partner.credential_format}")

    @group.command("configure")
    @click.argument("city_code")
    @click.option("--jwks-url", default=None, help="对方公钥集地址（…/.well-known/jwks.json）")
    @click.option("--jwks-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                  help="对方公钥集（JWK Set JSON 文件），代替 --jwks-url")
    @click.option("--api-base-url", default=None, help="对方互认接口根地址（…/partner/v1）")
    @click.option("--activate", is_flag=True, help="同时启用互认")
    def configure(city_code: str, jwks_url: str | None, jwks_file: Path | None, api_base_url: str | None,
                  activate: bool):
        """Set a partner's keys and API address (the JWKS URL is fetched at once)."""
        from app.extensions import db
        from app.partners.service import configure_keys, set_status

        data: dict = {}
        if jwks_url:
            data["jwks_url"] = jwks_url
        if jwks_file:
            data["jwks"] = json.loads(jwks_file.read_text(encoding="utf-8"))
        if api_base_url:
            data["api_base_url"] = api_base_url
        try:
            partner = configure_keys(city_code, data) if data else None
            if activate:
                partner = set_status(city_code, "active")
                db.session.commit()
        except ApiError as error:
            raise _fail(error) from None
        if partner is not None:
            click.echo(f"{partner.city_code} {partner.city_name}: status {partner.status}, "
                       f"api {partner.api_base_url or '-'}, jwks {'set' if partner.jwks else '-'}")

    @group.command("reconcile")
    @click.option("--partner", "city_code", default=None, help="只对账这个城市（行政区划代码）")
    @click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="对账日期（北京时间），默认昨天")
    def reconcile(city_code: str | None, day):
        """Refresh keys, pull revocations, send pending receipts and compare settlement counts, per partner."""
        from app.partners.settlement import reconcile as run
        from app.timeutil import city_today

        the_day: date = day.date() if day else city_today() - timedelta(days=1)
        try:
            reports = run(city_code, the_day)
        except ApiError as error:
            raise _fail(error) from None
        if not reports:
            click.echo("no active partner with an API address to reconcile with")
        failed = False
        for report in reports:
            click.echo(f"{report.partner.city_code} {report.partner.city_name} {the_day.isoformat()}: {report.status}"
                       f" (theirs {report.theirs_total if report.theirs_total is not None else '-'},"
                       f" ours {report.ours_total}; revocations pulled {report.revocations_pulled},"
                       f" receipts sent {report.receipts_sent})")
            for row in report.rows:
                click.echo(f"  {row['scene']:<6}{row['scene_name']:<6} theirs {row['theirs']:>5}  ours {row['ours']:>5}"
                           f"  {row['status']}")
            for error in report.errors:
                click.echo(f"  error [{error['step']}] {error['code']}: {error['message']}", err=True)
            failed = failed or report.status == "retry"
        if failed:
            sys.exit(2)  # a partner was unreachable: the report says retry

    @group.command("sync")
    def sync():
        """Pull revocations and send pending receipts now (the scheduler does this every 10 minutes)."""
        from app.partners.settlement import sync as run

        click.echo(json.dumps(run(), ensure_ascii=False))
