"""gunicorn settings for production: ``gunicorn -c gunicorn.conf.py wsgi:app`` (gunicorn also reads this file by
itself when started from the repository's root).

Environment: ``GUNICORN_BIND`` (default 0.0.0.0:8000), ``WEB_CONCURRENCY`` (workers; default 2 × CPUs + 1 with
REDIS_URL, else 1), ``GUNICORN_TIMEOUT`` (seconds, default 30), ``FORWARDED_ALLOW_IPS`` (the proxies trusted for
X-Forwarded-Proto, default 127.0.0.1), ``PROMETHEUS_MULTIPROC_DIR`` (where the workers' metrics meet).
"""

import gc
import multiprocessing
import os
import shutil
import sys

from gunicorn import util

_redis = bool(os.environ.get("REDIS_URL") or os.environ.get("REDIS_SENTINELS"))

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1 if _redis else 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))  # a worker silent this long is killed and replaced
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then (slow leaks), with jitter so they do not all restart at once. Not too often: a
# worker's start costs ≈ 1.6 s of CPU (importing and building the app), which at every 10,000 requests came to
# 0.16 ms a request, a fifth of a whole /healthz; at 200,000 it is under 0.01 ms.
max_requests = 200_000
max_requests_jitter = 20_000
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None  # the app writes its own access line (route template, no raw path): app/logging_setup.py
access_log_format = "-"  # should anyone turn gunicorn's on (--access-logfile), it still carries no raw URL

# gunicorn answers a request it refuses before the app sees it (a request line over limit_request_line, 4094 bytes; a
# header field over limit_request_field_size, 8190 bytes; more than limit_request_fields, 100) with an HTML page. The
# API documents JSON errors: answer those with our body (code, status, Chinese message) instead. gunicorn's own
# message is dropped: it can quote the raw request line.
limit_request_line = 4094
limit_request_field_size = 8190
limit_request_fields = 100


def _json_error(sock, status_int, reason, mesg):
    from app.errors import raw_error_response

    util.write_nonblock(sock, raw_error_response(status_int, reason))


util.write_error = _json_error

# gunicorn's own lines (start-up, worker boots and deaths) in the same JSON as the app's.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "app.logging_setup.JsonFormatter"}},
    "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
                 "null": {"class": "logging.NullHandler"}},
    "root": {"level": os.environ.get("LOG_LEVEL", "INFO"), "handlers": ["json"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        # gunicorn writes an access line whenever a logging config is given, accesslog or not, with the raw path and
        # query (phone numbers, ID numbers). The app's line by route template is the one access line.
        "gunicorn.access": {"level": "CRITICAL", "handlers": ["null"], "propagate": False},
    },
}


def on_starting(server):
    # Without REDIS_URL every worker gets its own in-process store: refresh tokens, single-use codes, lockouts and
    # rate limits would hold on one worker in N. Refuse instead of splitting them silently.
    if server.cfg.workers > 1 and not _redis:
        server.log.error(
            "refusing to start %d workers without REDIS_URL: the embedded key-value store lives inside one "
            "process, so sessions, single-use codes and rate limits would not be shared between workers. "
            "Set REDIS_URL (production) or run one worker (-w 1).", server.cfg.workers)
        sys.exit(3)
    # Under gunicorn this is production: /partner/v1/info must name our address from configuration, never from the
    # Host header a caller sends (the first-look `flask run` falls back to it; the demo sets it to where it serves).
    if not os.environ.get("PUBLIC_BASE_URL"):
        server.log.error("refusing to start without PUBLIC_BASE_URL: set it to the address partners reach this city "
                         "at (e.g. https://credit.example.gov.cn), or /partner/v1/info would echo any Host header.")
        sys.exit(3)
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:  # a fresh directory per start: files of dead workers from the last run would be counted again
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    # Everything the worker has built by now (the app, its blueprints and schemas, SQLAlchemy's metadata: about
    # 200,000 objects) lives as long as the worker. Frozen, the garbage collector never walks it again: a full
    # collection of it took 40-80 ms, which landed on whichever request triggered it (a verification's p99 at
    # half load went from 8 ms to 67-118 ms in some runs).
    gc.freeze()
