"""``flask demo seed`` and ``flask demo serve``: the newcomer's first look on the embedded default."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.extensions import db

demo_cli = AppGroup("demo", help="演示城市（默认绍兴；CITY_CODE 等可改为其他城市）")


def _credentials_path() -> Path:
    return Path(current_app.instance_path) / "demo-credentials.json"


def _is_empty() -> bool:
    from app.citizens.models import Citizen

    return (db.session.scalar(select(func.count()).select_from(Citizen)) or 0) == 0


def _seed(count: int, base_url: str) -> Path:
    from app.demo.seed import seed_demo_city

    click.echo(f"seeding the demo city with {count} adults …", err=True)
    city = seed_demo_city(count)
    path = _credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "note": "演示数据（合成），仅供本地试用。Keys and passwords here are for this local demo database only.",
        "base_url": base_url,
        "departments": city.departments,
        "staff": city.staff,
        "citizens": city.citizens,
    }
    from app.partners import demo as partners_demo
    from benefits import demo as benefits_demo
    from miniprogram_api import demo as wechat_demo

    benefits_demo.seed(payload)
    partners_demo.seed(payload)
    wechat_demo.extend_credentials(payload)
    from app.rights import demo as rights_demo

    rights_demo.credentials(payload, city.rights)
    from app.rights import commitments_demo

    commitments_demo.credentials(payload, city.commitments)
    from app.community import demo as community_demo

    community_demo.seed(payload)
    payload["community"]["url"] = f"{base_url}/console/"
    from app.reports import demo as reports_demo

    reports_demo.seed(payload, base_url)
    from app.console import demo as console_demo

    console_demo.seed(payload, base_url)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, ensure_ascii=False, indent=2)
    click.echo(f"demo credentials written to {path}")
    return path


@demo_cli.command("seed")
@click.option("--citizens", "count", default=2000, show_default=True)
def seed(count: int):
    """Build the synthetic 绍兴 demo city in an empty database."""
    if not _is_empty():
        raise click.ClickException("the database already holds citizens; the demo city is only seeded into an "
                                   "empty database")
    _seed(count, "http://127.0.0.1:5000")


@demo_cli.command("serve")
@click.option("--port", default=5000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--citizens", "count", default=2000, show_default=True)
def serve(port: int, host: str, count: int):
    """Upgrade the schema, seed the demo city if the database is empty, and serve."""
    from flask_migrate import upgrade

    upgrade()
    base_url = f"http://{host}:{port}"
    # /partner/v1/info names the city's URLs from this, never from a caller's Host header.
    current_app.config["PUBLIC_BASE_URL"] = current_app.config["PUBLIC_BASE_URL"] or base_url
    if _is_empty():
        _seed(count, base_url)
    elif not _credentials_path().exists():
        click.echo("database already seeded but instance/demo-credentials.json is missing; delete the "
                   "database under instance/ to start afresh", err=True)
    else:
        click.echo(f"demo credentials: {_credentials_path()}")
    from miniprogram_api import demo as wechat_demo

    wechat_demo.start_standins(current_app._get_current_object())
    from zlb_api import demo as zlb_demo

    zlb_demo.start_standin(current_app._get_current_object())
    click.echo(f"serving {current_app.config['CITY_NAME']} at {base_url}  (API docs: {base_url}/docs)", err=True)
    sys.stdout.flush()
    # Flask refuses app.run() inside its own CLI; serve with Werkzeug directly (gunicorn in production).
    from werkzeug.serving import WSGIRequestHandler, run_simple

    class QuietHandler(WSGIRequestHandler):
        # Our access log (app/logging_setup.py) already has one line per request, without query strings.
        def log_request(self, code="-", size="-"):
            pass

    run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False,
               request_handler=QuietHandler)
