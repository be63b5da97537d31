"""Prometheus metrics at /metrics: requests by route template, and the domain's own counters.

Under gunicorn set PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py empties it at start and marks dead workers): each
worker writes its samples there and /metrics sums them, whichever worker answers. Without it (one process, the
demo, the tests) the process's own registry is served.
"""

from __future__ import annotations

import os
import time

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REQUESTS = Counter("xyf_http_requests_total", "HTTP requests answered, by route template",
                   ["method", "route", "status"])
LATENCY = Histogram("xyf_http_request_duration_seconds", "Time to answer, by route template", ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
VERIFICATIONS = Counter("xyf_verifications_total", "Credit-code scans by merchants, by outcome reason", ["reason"])
RECORDS_INGESTED = Counter("xyf_records_ingested_total", "Credit records taken in by 归集, by outcome",
                           ["outcome"])
RECORDS_REJECTED = Counter("xyf_records_rejected_total", "Credit records refused by 归集, by reason code", ["code"])
RECOMPUTED = Counter("xyf_recompute_citizens_total", "Citizens rescored (processed) and scores that changed",
                     ["result"])
RECOMPUTE_LAST_ID = Gauge("xyf_recompute_last_citizen_id", "Progress of the running or last recompute: the last "
                          "citizen id done", multiprocess_mode="mostrecent")
JOB_RUNS = Counter("xyf_scheduler_job_runs_total", "Scheduler job runs", ["job"])
JOB_FAILURES = Counter("xyf_scheduler_job_failures_total", "Scheduler job runs that raised", ["job"])
AUDIT_LAG = Gauge("xyf_audit_chain_lag_entries", "Audit entries written but not yet linked into the hash chain",
                  multiprocess_mode="mostrecent")
AUDIT_LAG_SECONDS = Gauge("xyf_audit_chain_lag_seconds", "Age of the oldest audit entry not yet linked",
                          multiprocess_mode="mostrecent")

blp = Blueprint("metrics", __name__)


def init_app(app: Flask) -> None:
    @app.before_request
    def _start_timer():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response):
        rule = request.url_rule
        route = rule.rule if rule is not None else "<unmatched>"  # never the raw path: unbounded and personal
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        started = g.get("metrics_started")
        if started is not None:
            LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        return response

    app.register_blueprint(blp)


def _audit_lag() -> None:
    from sqlalchemy import func, select

    from app.audit.models import PendingAuditEntry
    from app.extensions import db
    from app.timeutil import utcnow

    count, oldest = db.session.execute(select(func.count(), func.min(PendingAuditEntry.occurred_at))).one()
    AUDIT_LAG.set(count)
    if oldest is not None and oldest.tzinfo is None:
        from datetime import UTC

        oldest = oldest.replace(tzinfo=UTC)
    AUDIT_LAG_SECONDS.set((utcnow() - oldest).total_seconds() if oldest is not None else 0)


@blp.get("/metrics")
def metrics():
    _audit_lag()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY as registry
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
