"""A client generated from the served /openapi.json by a real generator (openapi-python-client) drives the
mini-program's path against a live HTTP server: log in through the WeChat stand-in, bind, read the score.

The client is generated into a temporary directory and imported from there (no install). If the document stops
being a contract a generator can use (a non-ASCII title, an error schema that does not match the answers, a field
marked required that is sometimes absent), this test fails.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
import threading
import urllib.request

import pytest
from werkzeug.serving import make_server

GENERATOR = shutil.which("openapi-python-client") or str(
    __import__("pathlib").Path(sys.executable).with_name("openapi-python-client"))


@pytest.fixture
def live_server(app, wechat):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def generated(live_server, tmp_path):
    with urllib.request.urlopen(f"{live_server}/openapi.json", timeout=30) as response:
        document = json.load(response)
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document), encoding="utf-8")
    config = tmp_path / "generator.yml"
    config.write_text("post_hooks: []\n", encoding="utf-8")  # no formatter run over the generated code
    result = subprocess.run([GENERATOR, "generate", "--path", str(spec), "--output-path", str(tmp_path / "client"),
                             "--meta", "none", "--config", str(config)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield lambda name: importlib.import_module(f"client.{name}" if name else "client")
    finally:
        sys.path.remove(str(tmp_path))
        for module in [name for name in sys.modules if name == "client" or name.startswith("client.")]:
            del sys.modules[module]


def test_login_bind_and_read_the_score_with_a_generated_client(live_server, generated, city):
    package = generated("")
    models = generated("models")
    login = generated("api.miniprogram.miniprogram_login")
    bind = generated("api.miniprogram.miniprogram_bind")
    score = generated("api.miniprogram.miniprogram_score")

    anonymous = package.Client(base_url=live_server, raise_on_unexpected_status=True)
    session = login.sync(client=anonymous, body=models.MpLogin(code="generated-client"))
    assert isinstance(session, models.MpSession) and session.access_token and session.bound is False

    citizen = package.AuthenticatedClient(base_url=live_server, token=session.access_token,
                                          raise_on_unexpected_status=True)
    wang = city["people"]["wang"]
    wrong = bind.sync_detailed(client=citizen, body=models.MpBindingRequest(
        name="王某", id_number=wang["id_number"], phone="13712345678"))
    assert wrong.status_code == 422 and isinstance(wrong.parsed, models.Error)
    assert wrong.parsed.code == "identity_mismatch" and wrong.parsed.status == 422

    bound = bind.sync_detailed(client=citizen, body=models.MpBindingRequest(
        name=wang["name"], id_number=wang["id_number"], phone="13712345678"))
    assert bound.status_code == 201, bound.content

    answer = score.sync(client=citizen)
    assert answer.total > 0 and answer.level_name
