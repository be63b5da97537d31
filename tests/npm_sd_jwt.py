"""The npm @sd-jwt libraries as an independent verifier of our SD-JWT VCs and status lists (tests/node/).

Skipped with a reason when node or the packages are missing (``npm ci`` installs them: they are devDependencies
of the root package.json, and .ci/run runs it)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "node" / "sd_jwt_vc_verify.mjs"
PACKAGES = ("@sd-jwt/sd-jwt-vc", "@sd-jwt/jwt-status-list", "@sd-jwt/crypto-nodejs")


def require_npm_verifier() -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the npm SD-JWT verifier cannot run")
    missing = [name for name in PACKAGES if not (ROOT / "node_modules" / name / "package.json").exists()]
    if missing:
        pytest.skip(f"node_modules lacks {', '.join(missing)}: run `npm ci` (the root package.json's "
                    f"devDependencies)")


def npm_verify(token: str, jwks: dict, status_lists: dict | None = None, now: int | None = None) -> dict:
    require_npm_verifier()
    request = {"token": token, "jwks": jwks}
    if status_lists is not None:
        request["status_lists"] = status_lists
    if now is not None:
        request["now"] = now
    result = subprocess.run(["node", str(SCRIPT)], input=json.dumps(request), capture_output=True, text=True,
                            cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
