"""score_model must stay pure: importing it pulls in nothing of the app and nothing outside the stdlib."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_no_app_or_framework_imports():
    code = (
        "import score_model, sys; print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in {'flask','sqlalchemy','redis','app'}))"
    )
    assert _run(code) == "[]"


def test_only_stdlib_imports():
    code = (
        "import sys; before = set(sys.modules); import score_model; "
        "new = {m.split('.')[0] for m in set(sys.modules) - before}; "
        "print(sorted(n for n in new if n not in sys.stdlib_module_names and n != 'score_model'))"
    )
    assert _run(code) == "[]"


def test_rules_file_is_inside_the_package():
    code = "import importlib.resources as r; print((r.files('score_model') / 'rules' / 'v1.toml').is_file())"
    assert _run(code) == "True"
