"""The runnable example in docs/ checks a real code against the JWKS the app publishes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.benefits.helpers import code_for, make_citizen, mp_headers

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "verify_credit_code_offline.py"


def _run(*args) -> tuple[int, str]:
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout


def test_offline_script_accepts_a_genuine_code_and_refuses_a_tampered_one(app, client, tmp_path):
    with app.app_context():
        headers = mp_headers(make_citizen("章太炎", level=4))
    code = code_for(client, headers)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(client.get("/.well-known/jwks.json").get_data(as_text=True))

    status, out = _run("--jwks", str(jwks), code)
    assert status == 0, out
    answer = json.loads(out)
    assert (answer["valid"], answer["level_name"], answer["issuer"]) == (True, "优秀", "330600")

    prefix, kid, payload, signature = code.split(".")
    forged = ".".join([prefix, kid, payload, signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]])
    status, out = _run("--jwks", str(jwks), forged)
    assert status == 1 and json.loads(out) == {"valid": False, "reason": "bad_signature"}


def test_offline_script_self_test_runs_without_a_server():
    status, out = _run("--self-test")
    assert status == 0 and "refused (bad_signature)" in out and "refused (expired)" in out
