"""What an operator's log collector sees: JSON on every line from the first, the request id on every line of a
request, and route templates instead of paths (a phone or code put in a URL never reaches the log)."""

import json
import os
import subprocess
import sys
import textwrap

from app.config import PROJECT_ROOT

PHONE = "13812345678"

SCRIPT = textwrap.dedent("""
    import logging, sys
    from pathlib import Path
    from app.config import TestConfig
    from app.factory import create_app

    instance = Path(sys.argv[1])
    app = create_app(TestConfig, INSTANCE_PATH=instance, KEYS_DIR=instance / "keys", REDIS_URL=None,
                     SQLALCHEMY_DATABASE_URI=f"sqlite:///{instance / 'x.db'}")

    @app.get("/_probe/<ref>")
    def probe(ref):
        logging.getLogger("probe").warning("inside the request")
        return "ok"

    client = app.test_client()
    client.get("/_probe/%(phone)s", headers={"X-Request-Id": "probe-1"})
    client.get("/_probe/0123456789abcdef0123456789abcdef", headers={"X-Request-Id": "probe-2"})
    client.get("/api/v1/citizens/%(phone)s/score", headers={"X-Request-Id": "probe-3"})
    client.get("/nowhere/%(phone)s", headers={"X-Request-Id": "probe-4"})
""") % {"phone": PHONE}


def test_every_line_is_json_carries_the_request_id_and_no_raw_path(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL")}
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "fresh")], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line, including the first ones at start-up
    assert any("generated a new secret" in entry["message"] for entry in entries)  # a fresh instance says so
    assert PHONE not in result.stderr + result.stdout
    inside = [entry for entry in entries if entry["logger"] == "probe"]
    assert [entry["request_id"] for entry in inside] == ["probe-1", "probe-2"]
    access = {entry["request_id"]: entry for entry in entries if entry["logger"] == "app.access"}
    assert access["probe-1"]["route"] == "/_probe/<ref>" and "path" not in access["probe-1"]
    assert access["probe-1"]["ids"] == {}
    assert access["probe-2"]["ids"] == {"ref": "0123456789abcdef0123456789abcdef"}
    assert access["probe-3"]["route"] == "/api/v1/citizens/<ref>/score" and access["probe-3"]["status"] == 401
    assert access["probe-4"]["route"] is None and access["probe-4"]["status"] == 404
