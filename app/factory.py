"""The composition root: the only place that knows every part."""

from __future__ import annotations

import base64

from flask import Flask
from flask_smorest import Api

from app import docs_assets, metrics, ratelimit, request_guard
from app.config import PROJECT_ROOT, Config
from app.db_pool import ping_after_idle
from app.errors import register_error_handlers
from app.extensions import db, kv, migrate
from app.logging_setup import configure_logging, install_json_logging
from app.security.keys import load_or_create_secret
from app.security.pii import PiiVault
from app.security.pii import parse_keys as parse_pii_keys
from app.validation_messages import use_chinese_messages


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
    with app.app_context():
        for engine in db.engines.values():
            ping_after_idle(engine, app.config["DB_PING_AFTER_IDLE_SECONDS"])
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    kv.init_app(app)
    ratelimit.init_app(app)
    # One Api per app (it keeps the app and its spec), so tests and two-city runs can build several apps.
    use_chinese_messages()
    api = Api(app)
    register_error_handlers(app)
    if app.config["PROXY_COUNT"]:
        # Behind N trusted proxies: the client address (login lockouts, rate limits) and scheme come from the
        # X-Forwarded-* headers those proxies set, never from what a client sent.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"], x_proto=app.config["PROXY_COUNT"])
    request_guard.register(app)

    _register_models()
    _register_blueprints(api)
    app.register_blueprint(docs_assets.blp)
    metrics.init_app(app)
    _register_cli(app)
    return app


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


def _register_models() -> None:
    # Imported for their side effect of registering tables on the metadata (Alembic compares against it).
    import app.audit.models  # noqa: F401
    import app.auth.models  # noqa: F401
    import app.citizens.models  # noqa: F401
    import app.partners.models  # noqa: F401
    import app.records.models  # noqa: F401
    import app.scoring.models  # noqa: F401
    import benefits.models  # noqa: F401
    import miniprogram_api.models  # noqa: F401


BLUEPRINT_MODULES = (
    "app.health.api",
    "app.auth.api",
    "app.citizens.api",
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
)


def _register_blueprints(api: Api) -> None:
    from importlib import import_module

    for module in BLUEPRINT_MODULES:
        api.register_blueprint(import_module(module).blp)


def _register_cli(app: Flask) -> None:
    from app.cli import register

    register(app)
