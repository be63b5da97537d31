"""What-if: the score a citizen would have after hypothetical changes, by the same engine, nothing stored.

Each change is applied to the citizen's records and both sets are scored on the same day, so the difference is
the effect of the changes alone (records that expire meanwhile are not mixed in); ``effective_on`` says from
when the change would take effect (a commitment counts once its period ends kept, a repair once approved, an
expiry on its date).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from .engine import STATUS_ACTIVE, RecordInput, ScoreResult, compute_score
from .rules import Rules

ADD_RECORD = "add_record"  # a record that would land (e.g. the kept record of a commitment)
REPAIR_RECORD = "repair_record"  # an existing record would be repaired
EXPIRE_RECORD = "expire_record"  # an existing record would reach the end of its validity
CHANGE_KINDS = (ADD_RECORD, REPAIR_RECORD, EXPIRE_RECORD)


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # one of CHANGE_KINDS
    effective_on: dt.date
    type_code: str | None = None  # ADD_RECORD
    ref: str | None = None  # REPAIR_RECORD / EXPIRE_RECORD: the record's ref; ADD_RECORD: the new record's ref


@dataclass(frozen=True, slots=True)
class WhatIf:
    before: ScoreResult
    after: ScoreResult
    effective_on: dt.date | None  # the latest effective_on of the changes

    @property
    def delta(self) -> int:
        return self.after.total - self.before.total

    def dimension_deltas(self) -> dict[str, int]:
        return {d: self.after.dimensions[d] - v for d, v in self.before.dimensions.items()}


def apply_changes(records: Iterable[RecordInput], changes: Iterable[Change], as_of: dt.date) -> list[RecordInput]:
    """The records as they would be after ``changes``; raises KeyError for a change naming an unknown ref."""
    out = list(records)
    index = {r.ref: i for i, r in enumerate(out)}
    for n, change in enumerate(changes):
        if change.kind == ADD_RECORD:
            out.append(RecordInput(ref=change.ref or f"what-if-{n}", type_code=change.type_code or "",
                                   status=STATUS_ACTIVE, occurred_at=as_of, source="what-if"))
        elif change.kind in (REPAIR_RECORD, EXPIRE_RECORD):
            i = index[change.ref]
            out[i] = dataclasses.replace(out[i], status="repaired" if change.kind == REPAIR_RECORD else "expired")
        else:
            raise ValueError(f"unknown change kind {change.kind!r}")
    return out


def what_if(records: Iterable[RecordInput], changes: list[Change], as_of: dt.date, rules: Rules) -> WhatIf:
    records = list(records)
    before = compute_score(records, as_of, rules)
    after = compute_score(apply_changes(records, changes, as_of), as_of, rules)
    effective_on = max((c.effective_on for c in changes), default=None)
    return WhatIf(before, after, effective_on)
