"""/metrics for Prometheus: requests by route template and the domain's counters, counted as they happen."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.config import PROJECT_ROOT
from app.extensions import db
from app.scheduler.jobs import run_guarded
from benefits.catalog import ensure_default_scenes
from tests.app.records.test_batch import _row
from tests.benefits.helpers import Shop
from tests.factories import bearer, gen_citizen, gen_department


def _samples(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found, text


def _value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def test_metrics_count_requests_by_route_and_the_domain_events(app, client):
    with app.app_context():
        ensure_default_scenes()
        _, key = gen_department("SX_AMR", ["LA_PENALTY_GENERAL"])
        citizen = gen_citizen("王丽")
        from app.citizens.service import ID_PURPOSE
        from app.security.pii import vault

        id_number = vault().decrypt(citizen.id_cipher, ID_PURPOSE)
    before, _ = _samples(client)

    client.get(f"/api/v1/citizens/{'1' * 11}/score")  # no token: 401, counted under the template
    batch = client.post("/api/v1/records/batch", headers=bearer(key),
                        json={"records": [_row("M-1", id_number), _row("M-2", "440308199901101513")]})
    assert batch.status_code == 200, batch.get_json()
    with app.app_context():
        shop = Shop(client)
    assert shop.verify("not-a-code")["reason"] == "malformed"
    assert run_guarded(app, "audit-chain", shop_time()) is not None

    after, text = _samples(client)
    route = "/api/v1/citizens/<ref>/score"
    assert _value(after, "xyf_http_requests_total", method="GET", route=route, status="401") == \
        _value(before, "xyf_http_requests_total", method="GET", route=route, status="401") + 1
    assert _value(after, "xyf_http_request_duration_seconds_count", method="POST", route="/api/v1/records/batch") >= 1
    assert "1" * 11 not in text  # a raw path never becomes a label
    assert _value(after, "xyf_records_ingested_total", outcome="accepted") == \
        _value(before, "xyf_records_ingested_total", outcome="accepted") + 1
    rejected = batch.get_json()["rejected"][0]["code"]
    assert _value(after, "xyf_records_rejected_total", code=rejected) == \
        _value(before, "xyf_records_rejected_total", code=rejected) + 1
    assert _value(after, "xyf_verifications_total", reason="malformed") == \
        _value(before, "xyf_verifications_total", reason="malformed") + 1
    assert _value(after, "xyf_recompute_citizens_total", result="processed") > \
        _value(before, "xyf_recompute_citizens_total", result="processed")
    assert _value(after, "xyf_scheduler_job_runs_total", job="audit-chain") == \
        _value(before, "xyf_scheduler_job_runs_total", job="audit-chain") + 1
    assert "# HELP xyf_scheduler_job_failures_total" in text
    assert ("xyf_audit_chain_lag_entries", ()) in after and ("xyf_audit_chain_lag_seconds", ()) in after
    assert ("xyf_recompute_last_citizen_id", ()) in after


def shop_time():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def test_audit_lag_shows_entries_waiting_for_the_chain(app, client):
    with app.app_context():
        gen_citizen("陈强")  # registering and consenting write audit entries, linked later by the job
        db.session.commit()
    samples, _ = _samples(client)
    assert _value(samples, "xyf_audit_chain_lag_entries") >= 1
    run_guarded(app, "audit-chain", shop_time())
    samples, _ = _samples(client)
    assert _value(samples, "xyf_audit_chain_lag_entries") == 0


GUNICORN = shutil.which("gunicorn", path=str(Path(sys.executable).parent))


@pytest.mark.skipif(not os.environ.get("REDIS_URL") or GUNICORN is None,
                    reason="several gunicorn workers need REDIS_URL (and gunicorn)")
def test_metrics_under_several_gunicorn_workers_add_up(tmp_path):
    import requests

    env = dict(os.environ, INSTANCE_PATH=str(tmp_path / "instance"), PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prom"),
               PUBLIC_BASE_URL="http://127.0.0.1:5403")
    process = subprocess.Popen([GUNICORN, "-w", "2", "-b", "127.0.0.1:5403", "wsgi:app"], cwd=PROJECT_ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get("http://127.0.0.1:5403/healthz", timeout=10)
                break
            except requests.RequestException:
                assert process.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.3)
        for _ in range(20):
            requests.get("http://127.0.0.1:5403/healthz", timeout=10)
        text = requests.get("http://127.0.0.1:5403/metrics", timeout=10).text
    finally:
        process.terminate()
        process.wait(timeout=30)
    counts = [sample.value for family in text_string_to_metric_families(text) for sample in family.samples
              if sample.name == "xyf_http_requests_total" and sample.labels.get("route") == "/healthz"]
    assert sum(counts) >= 21  # both workers' requests, whichever one answered /metrics
