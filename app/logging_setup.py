"""JSON logs: one object per line from the first line at start-up, every line of a request carrying its request
id, and one access line per request naming the route template and the opaque ids it matched. Raw paths, query
strings and bodies are never logged, so an ID number, phone or token cannot reach the log through a request."""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time

from flask import Flask, g, has_request_context, request

# The only path values logged: our refs (32 hex digits, random). Anything else in a path may be typed by anyone.
_OPAQUE_ID = re.compile(r"^[0-9a-f]{32}$")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class RequestIdFilter(logging.Filter):
    """Stamps every record emitted while a request is handled with that request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None) and has_request_context():
            record.request_id = g.get("request_id")
        return True


def json_handler(stream=None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    return handler


def install_json_logging(level: str | int = "INFO") -> None:
    """Make the root logger write JSON (idempotent); called before anything at start-up can log."""
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        root.addHandler(json_handler())
    root.setLevel(level)
    logging.captureWarnings(True)  # warnings.warn from libraries: JSON too, not plain text on stderr


def route_fields() -> dict:
    rule = request.url_rule
    ids = {name: value for name, value in (request.view_args or {}).items()
           if isinstance(value, str) and _OPAQUE_ID.match(value)}
    return {"route": rule.rule if rule is not None else None, "ids": ids}


def configure_logging(app: Flask) -> None:
    install_json_logging(app.config["LOG_LEVEL"])
    access = logging.getLogger("app.access")

    @app.before_request
    def _start():
        g.request_id = _clean_request_id(request.headers.get("X-Request-Id", "")) or secrets.token_hex(8)
        g.started = time.perf_counter()

    @app.after_request
    def _log(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
        elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        actor = g.get("actor")
        access.info("request", extra={"fields": {
            "method": request.method, **route_fields(), "status": response.status_code, "ms": round(elapsed, 1),
            "actor": f"{actor.type}:{actor.id}" if actor else None,
        }})
        return response


def _clean_request_id(raw: str) -> str:
    # A caller's id is kept only if it is a plain token: it lands in every log line of the request.
    raw = raw[:64]
    return raw if re.fullmatch(r"[A-Za-z0-9._:-]+", raw) else ""
