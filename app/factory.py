"""The composition root: the only place that knows every part."""

from __future__ import annotations

import base64

from flask import Flask

from app import console, docs_assets, metrics, ratelimit, replica, request_guard, web_assets, zlb_h5
from app.config import PROJECT_ROOT, Config
from app.db_pool import ping_after_idle, remove_session_safely
from app.errors import register_error_handlers
from app.extensions import db, kv, migrate
from app.logging_setup import configure_logging, install_json_logging
from app.openapi import CityApi
from app.reports import pages as report_pages
from app.routing import register_converters
from app.security.keys import load_or_create_secret
from app.security.pii import PiiVault
from app.security.pii import parse_keys as parse_pii_keys
from benefits import cashier
from zlb_api import demo as zlb_demo


def create_app(config: type[Config] | Config = Config, **overrides) -> Flask:
    # Before anything can log (first-look secrets are generated below): every line JSON, from the first.
    install_json_logging(overrides.get("LOG_LEVEL", getattr(config, "LOG_LEVEL", Config.LOG_LEVEL)))
    instance_path = overrides.get("INSTANCE_PATH", getattr(config, "INSTANCE_PATH", Config.INSTANCE_PATH))
    app = Flask(__name__, instance_path=str(instance_path))
    app.config.from_object(config)
    app.config.update(overrides)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    _ensure_local_dirs(app)
    _load_secrets(app)
    configure_logging(app)

    db.init_app(app)
    remove_session_safely(app, db)
    with app.app_context():
        for engine in db.engines.values():
            ping_after_idle(engine, app.config["DB_PING_AFTER_IDLE_SECONDS"])
    replica.init_app(app, db)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    kv.init_app(app)
    ratelimit.init_app(app)
    # One Api per app (it keeps the app and its spec), so tests and two-city runs can build several apps.
    api = CityApi(app)
    register_error_handlers(app)
    request_guard.register(app)

    _register_models()
    _connect_listeners()
    register_converters(app, api)
    _register_blueprints(api)
    app.register_blueprint(docs_assets.blp)
    web_assets.register(app)
    console.register(app)
    app.register_blueprint(cashier.blp)  # the cashier's page, /merchant/
    zlb_demo.register(app)  # the 浙里办 container stand-in's demo routes, in tests and the demo only
    app.register_blueprint(report_pages.blp)  # the public verification page of credit reports, /verify/
    zlb_h5.register(app)  # the 浙里办 H5 at /zlb/ and, in demo and tests, its container stand-in page
    metrics.init_app(app)
    _register_cli(app)
    _trust_proxies(app)
    return app


def _trust_proxies(app: Flask) -> None:
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def _ensure_local_dirs(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        from pathlib import Path

        Path(app.config["SQLALCHEMY_DATABASE_URI"][len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)


def _load_secrets(app: Flask) -> None:
    keys_dir = app.config["KEYS_DIR"]
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = base64.b64encode(load_or_create_secret(None, keys_dir, "secret_key")).decode()
    version = int(app.config.get("PII_KEY_VERSION") or 1)
    app.extensions["pii_vault"] = PiiVault(
        parse_pii_keys(load_or_create_secret(app.config.get("PII_KEY"), keys_dir, "pii_key"), version,
                       app.config.get("PII_KEYS_PREVIOUS")),
        load_or_create_secret(app.config.get("BLIND_INDEX_KEY"), keys_dir, "blind_index_key"),
        current=version,
    )
    app.config["AUDIT_SEAL_KEY_BYTES"] = load_or_create_secret(app.config.get("AUDIT_SEAL_KEY"), keys_dir,
                                                               "audit_seal_key")


def _register_models() -> None:
    # Imported for their side effect of registering tables on the metadata (Alembic compares against it).
    import app.audit.models  # noqa: F401
    import app.auth.models  # noqa: F401
    import app.citizens.models  # noqa: F401
    import app.community.models  # noqa: F401
    import app.partners.models  # noqa: F401
    import app.records.models  # noqa: F401
    import app.reports.models  # noqa: F401
    import app.rights.commitment_models  # noqa: F401
    import app.rights.commitments  # noqa: F401  (breaks commitments when a breaking record lands)
    import app.rights.models  # noqa: F401
    import app.rights.notices  # noqa: F401  (三书同达: listens to records landing)
    import app.scoring.models  # noqa: F401
    import benefits.models  # noqa: F401
    import miniprogram_api.models  # noqa: F401


def _connect_listeners() -> None:
    # A layer hears the one below only through app/signals.py (or a registry it offers); each listener connects
    # when its module is imported, here, whichever blueprints an app has.
    import app.citizens.service  # noqa: F401  (declares its encrypted columns to app/security/rotation.py)
    import app.partners.inbound  # noqa: F401  (checks partner cities' tokens for benefits.verification)
    import app.partners.service  # noqa: F401  (declares its encrypted column to app/security/rotation.py)
    import app.partners.settlement  # noqa: F401  (queues and sends receipts of partner citizens' redemptions)
    import app.records.service  # noqa: F401  (attaches held records when citizens are registered)
    import app.scoring.service  # noqa: F401  (rescores when records or a scoring consent change)
    import miniprogram_api.echo  # noqa: F401  (the WeChat sender of app/rights' message echoes)


BLUEPRINT_MODULES = (
    "app.health.api",
    "app.auth.api",
    "app.citizens.api",
    "app.audit.api",
    "app.records.api",
    "benefits.api",
    "benefits.merchant_api",
    "benefits.jwks_api",
    "miniprogram_api.api",
    "miniprogram_api.benefits_api",
    "miniprogram_api.chatbot",
    "app.partners.api",
    "app.partners.partner_api",
    "miniprogram_api.partners_api",
    "app.rights.commitments_api",
    "miniprogram_api.commitments_api",
    "app.rights.api",
    "miniprogram_api.rights_api",
    "app.community.api",
    "miniprogram_api.points_api",
    "zlb_api.api",
    "app.reports.api",
    "miniprogram_api.reports_api",
)


def _register_blueprints(api: CityApi) -> None:
    from importlib import import_module

    for module in BLUEPRINT_MODULES:
        api.register_blueprint(import_module(module).blp)


def _register_cli(app: Flask) -> None:
    from app.cli import register

    register(app)
