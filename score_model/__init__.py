"""绍兴个人信用分 — the pure scoring engine.

Plain data in, plain data out: no Flask, no database, no Redis, nothing outside the standard library, so that a
city-wide recompute is a loop over rows and the rules can be tested on their own.

    from score_model import RecordInput, compute_score, load_rules
    result = compute_score(records, as_of=date.today(), rules=load_rules("v1"))
"""

from .engine import (
    HINT_KINDS,
    REASONS,
    STATUSES,
    Contribution,
    Hint,
    RecordInput,
    ScoreResult,
    compute_score,
    compute_totals,
    next_change,
)
from .rules import (
    CLASSES,
    COMMITMENT_KINDS,
    DIMENSION_NAMES,
    DIMENSIONS,
    CommitmentText,
    CommitmentType,
    Dimension,
    RecordType,
    Rules,
    RulesError,
    SubCap,
    Tier,
    available_rule_versions,
    load_rules,
    load_rules_from_path,
)

__all__ = [
    "CLASSES",
    "COMMITMENT_KINDS",
    "CommitmentText",
    "CommitmentType",
    "DIMENSIONS",
    "DIMENSION_NAMES",
    "HINT_KINDS",
    "REASONS",
    "STATUSES",
    "Contribution",
    "Dimension",
    "Hint",
    "RecordInput",
    "RecordType",
    "Rules",
    "RulesError",
    "ScoreResult",
    "SubCap",
    "Tier",
    "available_rule_versions",
    "compute_score",
    "compute_totals",
    "load_rules",
    "load_rules_from_path",
    "next_change",
]
