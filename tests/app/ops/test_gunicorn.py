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
def test_one_worker_on_the_embedded_default_starts(tmp_path):
    import time

    import requests

    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL")}
    env["INSTANCE_PATH"] = str(tmp_path / "instance")
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


@pytest.mark.skipif(GUNICORN is None, reason="gunicorn is not installed")
def test_sigterm_drains_a_request_in_flight_before_the_server_stops(tmp_path):
    """HAProxy takes a server out; its operator stops it with SIGTERM: a request it is answering still gets its
    answer (here a mini-program login waiting 2 s on WeChat), and the server then exits."""
    import threading
    import time

    import requests

    from miniprogram_api.standin import StandInWeChat

    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL")}
    env["INSTANCE_PATH"] = str(tmp_path / "instance")
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
