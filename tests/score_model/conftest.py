"""Helpers for the score_model tests (kept here: score_model is tested without the app's fixtures)."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest

from score_model import RecordInput, Rules, load_rules, load_rules_from_path

AS_OF = dt.date(2025, 6, 30)
V1_PATH = Path(__file__).resolve().parents[2] / "score_model" / "rules" / "v1.toml"

_refs = itertools.count(1)


def rec(
    type_code: str,
    *,
    ref: str | None = None,
    status: str = "active",
    days_ago: int = 10,
    occurred: dt.date | None = None,
    expires: dt.date | None = None,
    incident: str | None = None,
    grade: str | None = None,
    quantity: int = 1,
    source: object = None,
) -> RecordInput:
    """A record that happened ``days_ago`` days before AS_OF (unless ``occurred`` is given)."""
    return RecordInput(
        ref=ref or f"t{next(_refs):05d}",
        type_code=type_code,
        status=status,
        occurred_at=occurred or AS_OF - dt.timedelta(days=days_ago),
        expires_at=expires,
        incident_id=incident,
        grade=grade,
        quantity=quantity,
        source=source,
    )


def v1_text() -> str:
    return V1_PATH.read_text(encoding="utf-8")


def patched_v1(tmp_path: Path, old: str, new: str) -> Path:
    """Write v1.toml with one exact, unique edit to a temp file and return its path."""
    text = v1_text()
    assert text.count(old) == 1, f"test anchor not unique in v1.toml: {old!r}"
    path = tmp_path / "rules.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


# A 1-point honour type (no sub-cap) lets tests reach any total, e.g. exactly 559 or 560; v1's own points are
# all multiples of 5.
POINT_TYPE = """
[[catalog]]
code = "HN_TEST_POINT"
name = "测试积分"
dimension = "honour"
class = "守信"
points = 1
unit = "分"
unit_size = 1
severity = 1
validity_days = 365
repairable = false
min_display_days = 0
forces_l0 = false
legal_basis = "测试用"
"""


@pytest.fixture(scope="session")
def rules() -> Rules:
    return load_rules("v1")


@pytest.fixture(scope="session")
def point_rules(tmp_path_factory: pytest.TempPathFactory) -> Rules:
    path = tmp_path_factory.mktemp("rules") / "v1_points.toml"
    path.write_text(v1_text() + POINT_TYPE, encoding="utf-8")
    return load_rules_from_path(path)
