"""The production command: gunicorn with the repository's gunicorn.conf.py."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT

GUNICORN = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which("gunicorn")


@pytest.mark.skipif(GUNICORN is None, reason="gunicorn is not installed")
def test_several_workers_without_redis_refuse_to_start_and_say_why(tmp_path):
    """The embedded store lives inside one process: several workers would each have their own (refresh tokens,
    single-use codes and rate limits would work on one worker in N)."""
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL")}
    env["INSTANCE_PATH"] = str(tmp_path / "instance")
    process = subprocess.Popen([GUNICORN, "-w", "2", "-b", "127.0.0.1:5401", "wsgi:app"], cwd=PROJECT_ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.terminate()
        out, err = process.communicate(timeout=30)
        pytest.fail(f"gunicorn started 2 workers on the in-process store: {err[-2000:]}")
    assert process.returncode != 0
    assert "REDIS_URL" in err and "worker" in err
    import json

    for line in filter(str.strip, err.splitlines()):
        json.loads(line)  # gunicorn's own lines are JSON too


@pytest.mark.skipif(GUNICORN is None, reason="gunicorn is not installed")
def test_production_without_a_public_base_url_refuses_to_start(tmp_path):
    """/partner/v1/info would build its URLs from whatever Host a caller sends (issue 22, defect 7)."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("REDIS_URL", "DATABASE_URL", "PUBLIC_BASE_URL")}
    env["INSTANCE_PATH"] = str(tmp_path / "instance")
    process = subprocess.Popen([GUNICORN, "-w", "1", "-b", "127.0.0.1:5404", "wsgi:app"], cwd=PROJECT_ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.terminate()
        _, err = process.communicate(timeout=30)
        pytest.fail(f"gunicorn started without PUBLIC_BASE_URL: {err[-2000:]}")
    assert process.returncode != 0
    assert "PUBLIC_BASE_URL" in err


@pytest.mark.skipif(GUNICORN is None, reason="gunicorn is not installed")
def test_one_worker_on_the_embedded_default_starts(tmp_path):
    import time

    import requests

    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL")}
    env.update(INSTANCE_PATH=str(tmp_path / "instance"), PUBLIC_BASE_URL="http://127.0.0.1:5402")
    process = subprocess.Popen([GUNICORN, "-w", "1", "-b", "127.0.0.1:5402", "wsgi:app"], cwd=PROJECT_ROOT,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = requests.get("http://127.0.0.1:5402/healthz", timeout=10)
                break
            except requests.RequestException:  # the worker is still booting
                assert process.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.3)
        assert response.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


def _serve(tmp_path, port: int, extra_env: dict | None = None):
    """gunicorn with the repository's gunicorn.conf.py on ``port``, its output in a file; returns (process, log)."""
    import time

    import requests

    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL")}
    env.update(INSTANCE_PATH=str(tmp_path / "instance"), PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
               **(extra_env or {}))
    log = tmp_path / "gunicorn.log"
    with log.open("w") as sink:
        process = subprocess.Popen([GUNICORN, "-w", "1", "-b", f"127.0.0.1:{port}", "wsgi:app"], cwd=PROJECT_ROOT,
                                   env=env, stdout=sink, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
            return process, log
        except requests.RequestException:  # the worker is still booting
            if process.poll() is not None or time.monotonic() > deadline:
                process.terminate()
                pytest.fail(f"gunicorn did not start: {log.read_text()[-2000:]}")
            time.sleep(0.3)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(GUNICORN is None, reason="gunicorn is not installed")
def test_one_access_line_per_request_by_route_template_and_no_raw_query(tmp_path):
    """gunicorn's own access log wrote the raw path and query (issue 22, defect 10)."""
    import json
    import time

    import requests

    port = _free_port()
    process, log = _serve(tmp_path, port)
    try:
        for _ in range(3):
            requests.get(f"http://127.0.0.1:{port}/healthz?phone=13912345678&id=11010519491231002X", timeout=10)
        requests.get(f"http://127.0.0.1:{port}/mp/v1/me/records/13987654321", timeout=10)
        time.sleep(0.5)
    finally:
        process.terminate()
        process.wait(timeout=30)
    text = log.read_text()
    assert "13912345678" not in text and "11010519491231002X" not in text and "13987654321" not in text, text[-3000:]
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    access = [line for line in lines if "healthz" in json.dumps(line, ensure_ascii=False)]
    assert len(access) == 4 and all(line.get("route") == "/healthz" for line in access), access


@pytest.mark.skipif(GUNICORN is None, reason="gunicorn is not installed")
def test_an_oversized_request_line_or_header_is_answered_with_the_json_error(tmp_path):
    """gunicorn refuses them before the app sees them, with its own HTML page (issue 22, defect 8)."""
    import requests

    port = _free_port()
    process, _ = _serve(tmp_path, port)
    try:
        long_line = requests.get(f"http://127.0.0.1:{port}/healthz?q={'x' * 9000}", timeout=10)
        big_header = requests.get(f"http://127.0.0.1:{port}/healthz", headers={"X-Big": "y" * 16384}, timeout=10)
        many_headers = requests.get(f"http://127.0.0.1:{port}/healthz",
                                    headers={f"X-H{n}": "z" for n in range(120)}, timeout=10)
    finally:
        process.terminate()
        process.wait(timeout=30)
    for response, status, code in ((long_line, 414, "uri_too_long"), (big_header, 431, "header_fields_too_large"),
                                   (many_headers, 431, "header_fields_too_large")):
        assert response.status_code == status, response.text[:300]
        assert response.headers["Content-Type"].startswith("application/json"), response.text[:300]
        body = response.json()
        assert body["code"] == code and body["status"] == status and "请求" in body["message"], body


@pytest.mark.skipif(GUNICORN is None, reason="gunicorn is not installed")
def test_sigterm_drains_a_request_in_flight_before_the_server_stops(tmp_path):
    """HAProxy takes a server out; its operator stops it with SIGTERM: a request it is answering still gets its
    answer (here a mini-program login waiting 2 s on WeChat), and the server then exits."""
    import threading
    import time

    import requests

    from miniprogram_api.standin import StandInWeChat

    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL")}
    env.update(INSTANCE_PATH=str(tmp_path / "instance"), PUBLIC_BASE_URL="http://127.0.0.1:5403")
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=PROJECT_ROOT, env=env,
                   check=True, capture_output=True)
    from app.config import Config

    wechat = StandInWeChat({Config.WECHAT_MP_APPID: Config.WECHAT_MP_SECRET}, slow_seconds=2.0).start()
    env["WECHAT_API_BASE"] = wechat.url
    process = subprocess.Popen([GUNICORN, "-w", "1", "-b", "127.0.0.1:5403", "wsgi:app"], cwd=PROJECT_ROOT,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    answers = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get("http://127.0.0.1:5403/healthz", timeout=10)
                break
            except requests.RequestException:
                assert process.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.3)

        def login():
            answers.append(requests.post("http://127.0.0.1:5403/mp/v1/session", json={"code": "slow-drain"},
                                         timeout=30))

        in_flight = threading.Thread(target=login)
        in_flight.start()
        time.sleep(0.7)  # the login is now waiting on WeChat
        process.terminate()
        in_flight.join(timeout=30)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        wechat.stop()
    assert answers and answers[0].status_code == 200, answers and answers[0].text
    assert answers[0].json()["access_token"]
