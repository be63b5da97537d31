"""The scoring engine: plain records in, a score (with or without its explanation) out.

Two entry points compute the same numbers:

* :func:`compute_score` returns a :class:`ScoreResult` that explains itself: every record's contribution, why a
  record does not count, until when it counts, and "how to improve" hints. This is what a citizen sees and what
  is stored with a score.
* :func:`compute_totals` returns only the six integers ``(total, public, law, commitment, honour, level)``.

Why two paths: a city-wide recompute covers ~3.9 million adults and ~33 million records. Building a Contribution
per record, sorting sub-cap groups and formatting Chinese hints costs several times the arithmetic itself, and a
batch job throws all of it away. The fast path keeps the arithmetic in local variables and precomputed per-type
tuples (``Rules.fast_types``) and allocates nothing per record. The price is that the rules exist twice in code,
so the test-suite compares both paths on thousands of random citizens; any change to one must be made to the
other. The batch recompute can use ``compute_totals`` to find which stored scores changed and call
``compute_score`` only for those.

Rules both paths honour (rules version decides the numbers):

1. Only ``active`` records count; a record counts from ``occurred_at`` (inclusive) until
   ``occurred_at + validity_days`` (exclusive). A record's own ``expires_at`` may end it sooner, never later:
   the catalog's validity period is the ceiling.
2. An eligible record of a ``forces_l0`` type forces level 0 (受限) whatever the points — independently of the
   incident rule below, because being on the list is what restricts, not the points.
3. Eligible *adverse* (不良) records sharing an incident count once: the most severe (highest severity, then the
   largest absolute points, then the smallest ``ref``) counts, the others are ``same_incident``. An incident is
   ``(source, incident_id)``: ids are scoped to the department that sent them. Records of other classes (a
   public evaluation, a kept commitment, an honour) never take part, so a new adverse record cannot raise a
   score by displacing a good one.
4. Of the remaining public evaluations only the latest (by ``occurred_at``, then ``ref``) counts; the public
   dimension is the grade's value, or the dimension's start when no evaluation counts.
5. Points of a sub-cap group are summed and capped at the group's cap (the explanation hands out the capped
   amount oldest record first).
6. Each dimension is ``start + sum`` clamped to ``floor..cap``; the total is the sum of the dimensions and the
   level comes from the rules' cut-offs (or 0 when restricted).

``ref`` values are expected to be unique within one citizen's records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from .rules import DIMENSION_NAMES, DIMENSIONS, RecordType, Rules

STATUS_ACTIVE = "active"
STATUSES: tuple[str, ...] = ("active", "disputed", "repaired", "revoked", "expired")

# Stable machine codes for Contribution.not_counted_reason.
REASON_STATUS_DISPUTED = "status_disputed"
REASON_STATUS_REPAIRED = "status_repaired"
REASON_STATUS_REVOKED = "status_revoked"
REASON_STATUS_EXPIRED = "status_expired"
REASON_STATUS_INVALID = "status_invalid"  # a status outside STATUSES: never counts
REASON_EXPIRED = "expired"  # past its validity on as_of
REASON_NOT_YET_OCCURRED = "not_yet_occurred"
REASON_SAME_INCIDENT = "same_incident"
REASON_SUPERSEDED = "superseded"
REASON_INVALID_GRADE = "invalid_grade"  # a public evaluation without a grade the rules know
REASON_SUB_CAP_REACHED = "sub_cap_reached"
REASON_UNKNOWN_TYPE = "unknown_type"
REASONS: tuple[str, ...] = (
    REASON_STATUS_DISPUTED,
    REASON_STATUS_REPAIRED,
    REASON_STATUS_REVOKED,
    REASON_STATUS_EXPIRED,
    REASON_STATUS_INVALID,
    REASON_EXPIRED,
    REASON_NOT_YET_OCCURRED,
    REASON_SAME_INCIDENT,
    REASON_SUPERSEDED,
    REASON_INVALID_GRADE,
    REASON_SUB_CAP_REACHED,
    REASON_UNKNOWN_TYPE,
)

HINT_RESTRICTED = "restricted"
HINT_EVALUATION_MISSING = "evaluation_missing"
HINT_MAKE_COMMITMENT = "make_commitment"
HINT_OBJECTION_PENDING = "objection_pending"
HINT_REPAIR_OPEN = "repair_open"
HINT_REPAIR_LATER = "repair_later"
HINT_EXPIRING = "expiring"
# Also the order in which hints are listed: what matters most to the citizen first.
HINT_KINDS: tuple[str, ...] = (
    HINT_RESTRICTED,
    HINT_EVALUATION_MISSING,
    HINT_MAKE_COMMITMENT,
    HINT_OBJECTION_PENDING,
    HINT_REPAIR_OPEN,
    HINT_REPAIR_LATER,
    HINT_EXPIRING,
)

UNKNOWN_TYPE_NAME = "未知记录类型"


@dataclass(slots=True)
class RecordInput:
    """One credit record of one citizen, as the engine needs it. Treat it as read-only.

    Not ``frozen``: a city-wide recompute builds one per record (33 million), and a frozen dataclass's
    ``__init__`` costs eight times a plain slotted one's (1.7 µs against 0.2 µs); slots keep attribute reads,
    the engine's inner loop, as fast as they are.
    """

    ref: str  # opaque record id, echoed back in contributions and hints
    type_code: str
    status: str  # one of STATUSES
    occurred_at: dt.date
    expires_at: dt.date | None = None  # explicit expiry (exclusive); None: occurred_at + validity_days
    incident_id: str | None = None
    grade: str | None = None  # public evaluation only
    quantity: int = 1  # units (e.g. volunteer hours) for types with a unit; ignored otherwise
    source: object = None  # who sent it (e.g. the department id): incident ids are scoped to it


@dataclass(frozen=True, slots=True)
class Contribution:
    ref: str
    type_code: str
    name: str
    dimension: str | None  # None for an unknown type
    points: int  # signed points actually counted; 0 when not counted
    counted: bool
    not_counted_reason: str | None
    counts_until: dt.date | None  # end of validity (exclusive): the first day it no longer counts
    restricts: bool = False  # this record forces level 0

    def to_dict(self) -> dict:
        return {
            "ref": self.ref,
            "type_code": self.type_code,
            "name": self.name,
            "dimension": self.dimension,
            "points": self.points,
            "counted": self.counted,
            "not_counted_reason": self.not_counted_reason,
            "counts_until": self.counts_until.isoformat() if self.counts_until else None,
            "restricts": self.restricts,
        }


@dataclass(frozen=True, slots=True)
class Hint:
    kind: str  # one of HINT_KINDS
    message: str  # simplified Chinese, for the citizen
    ref: str | None = None
    date: dt.date | None = None
    type_code: str | None = None

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "message": self.message,
            "ref": self.ref,
            "date": self.date.isoformat() if self.date else None,
            "type_code": self.type_code,
        }


@dataclass(frozen=True, slots=True)
class ScoreResult:
    total: int
    dimensions: dict[str, int]  # the four DIMENSIONS, after clamping
    level: int  # 0..5
    level_name: str
    restricted: bool
    rules_version: str
    as_of: dt.date
    contributions: list[Contribution]  # one per input record, in input order
    hints: list[Hint]
    dimensions_unclamped: dict[str, int] = field(default_factory=dict)  # start + counted points, before clamping

    @property
    def totals(self) -> tuple[int, int, int, int, int, int]:
        """The same tuple compute_totals returns."""
        d = self.dimensions
        return (self.total, d["public"], d["law"], d["commitment"], d["honour"], self.level)

    def to_dict(self) -> dict:
        return {
            "total": self.total,
            "dimensions": dict(self.dimensions),
            "dimension_names": {d: DIMENSION_NAMES[d] for d in DIMENSIONS},
            "dimensions_unclamped": dict(self.dimensions_unclamped),
            "level": self.level,
            "level_name": self.level_name,
            "restricted": self.restricted,
            "rules_version": self.rules_version,
            "as_of": self.as_of.isoformat(),
            "contributions": [c.to_dict() for c in self.contributions],
            "hints": [h.to_dict() for h in self.hints],
        }


# --------------------------------------------------------------------------------------------------------
# Explained path
# --------------------------------------------------------------------------------------------------------


class _Item:
    """Working state of one record while scoring (mutable, never leaves this module)."""

    __slots__ = ("rec", "rt", "occ", "until", "points", "eligible", "reason", "restricts", "counted_points")

    def __init__(self, rec: RecordInput, rt: RecordType | None) -> None:
        self.rec = rec
        self.rt = rt
        self.occ = _as_date(rec.occurred_at)
        self.until: dt.date | None = None
        self.points = 0  # signed points before sub-caps
        self.eligible = False
        self.reason: str | None = None
        self.restricts = False
        self.counted_points = 0


def _as_date(value: dt.date) -> dt.date:
    # A datetime (e.g. straight from a DateTime column) counts by its calendar day, as in the fast path, which
    # compares ordinals; comparing a datetime with a date would raise instead.
    return value.date() if isinstance(value, dt.datetime) else value


def _until_ordinal(occ_ord: int, validity_days: int, expires_at: dt.date | None) -> int:
    """Rule 1, the one place it is written: the ordinal of the first day a record no longer counts.

    The catalog's validity (``occurred_at + validity_days``) is the ceiling; the record's own ``expires_at`` may
    end it sooner, never later. compute_score and next_change both call this; compute_totals inlines the same
    two comparisons (its inner loop avoids calls) and the equivalence tests hold it to them.
    """
    end = occ_ord + validity_days
    if expires_at is not None:
        exp = expires_at.toordinal()  # a datetime counts by its calendar day
        if exp < end:
            end = exp
    return end


def _status_reason(status: str) -> str:
    if status in STATUSES:
        return f"status_{status}"
    return REASON_STATUS_INVALID


def compute_score(records: Iterable[RecordInput], as_of: dt.date, rules: Rules) -> ScoreResult:
    """Score one citizen on ``as_of`` with ``rules`` and explain the result."""
    as_of = _as_date(as_of)
    items: list[_Item] = []
    restricted = False
    for rec in records:
        rt = rules.catalog.get(rec.type_code)
        it = _Item(rec, rt)
        items.append(it)
        if rt is None:
            it.reason = REASON_UNKNOWN_TYPE
            continue
        it.until = dt.date.fromordinal(_until_ordinal(it.occ.toordinal(), rt.validity_days, rec.expires_at))
        grade_delta = None
        if rt.is_evaluation:
            grade_delta = rules.grade_delta.get(rec.grade) if rec.grade is not None else None
            it.points = grade_delta or 0
        else:
            it.points = rt.points_for(rec.quantity)
        if rec.status != STATUS_ACTIVE:
            it.reason = _status_reason(rec.status)
        elif it.occ > as_of:
            it.reason = REASON_NOT_YET_OCCURRED
        elif as_of >= it.until:
            it.reason = REASON_EXPIRED
        elif rt.is_evaluation and grade_delta is None:
            it.reason = REASON_INVALID_GRADE
        else:
            it.eligible = True
            if rt.forces_l0:
                it.restricts = True
                restricted = True

    # Rule 3: one incident (per sending department) counts once, by its most severe adverse record.
    incidents: dict[tuple, list[_Item]] = {}
    for it in items:
        if it.eligible and it.rec.incident_id is not None and it.rt.is_adverse:
            incidents.setdefault((it.rec.source, it.rec.incident_id), []).append(it)
    for group in incidents.values():
        if len(group) < 2:
            continue
        winner = min(group, key=lambda i: (-i.rt.severity, -abs(i.points), i.rec.ref))
        for it in group:
            if it is not winner:
                it.eligible = False
                it.reason = REASON_SAME_INCIDENT

    # Rule 4: only the latest public evaluation counts.
    evaluations = [it for it in items if it.eligible and it.rt.is_evaluation]
    if len(evaluations) > 1:
        latest = max(evaluations, key=lambda i: (i.occ, i.rec.ref))
        for it in evaluations:
            if it is not latest:
                it.eligible = False
                it.reason = REASON_SUPERSEDED

    # Rule 5: sub-caps, handed out oldest first so the explanation is stable from day to day.
    grouped: dict[str, list[_Item]] = {}
    for it in items:
        if it.eligible:
            if it.rt.sub_cap_group is not None:
                grouped.setdefault(it.rt.sub_cap_group, []).append(it)
            else:
                it.counted_points = it.points
    for group_code, group in grouped.items():
        remaining = rules.sub_caps[group_code].cap
        for it in sorted(group, key=lambda i: (i.occ, i.rec.ref)):
            if it.points > 0 and remaining <= 0:
                it.eligible = False
                it.reason = REASON_SUB_CAP_REACHED
                continue
            it.counted_points = min(it.points, remaining)
            remaining -= it.counted_points

    # Rule 6: dimensions, total, level.
    raw = {d: rules.dimensions[d].start for d in DIMENSIONS}
    for it in items:
        if it.eligible:
            raw[it.rt.dimension] += it.counted_points
    dims = {}
    for d in DIMENSIONS:
        dim = rules.dimensions[d]
        dims[d] = min(max(raw[d], dim.floor), dim.cap)
    total = sum(dims.values())
    level = rules.level_for(total, restricted)

    contributions = [
        Contribution(
            ref=it.rec.ref,
            type_code=it.rec.type_code,
            name=it.rt.name if it.rt is not None else UNKNOWN_TYPE_NAME,
            dimension=it.rt.dimension if it.rt is not None else None,
            points=it.counted_points if it.eligible else 0,
            counted=it.eligible,
            not_counted_reason=None if it.eligible else it.reason,
            counts_until=it.until,
            restricts=it.restricts,
        )
        for it in items
    ]
    hints = _hints(items, dims, as_of, rules)
    return ScoreResult(
        total=total,
        dimensions=dims,
        level=level,
        level_name=rules.level_name(level),
        restricted=restricted,
        rules_version=rules.version,
        as_of=as_of,
        contributions=contributions,
        hints=hints,
        dimensions_unclamped=raw,
    )


def _cn_date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _hints(items: list[_Item], dims: dict[str, int], as_of: dt.date, rules: Rules) -> list[Hint]:
    hints: list[Hint] = []

    for it in items:
        if it.restricts:
            hints.append(
                Hint(
                    HINT_RESTRICTED,
                    f"因「{it.rt.name}」记录，您的信用等级为“{rules.restricted_name}”，暂不能享受信易+守信激励；"
                    "履行相关义务、完成信用修复或移出名单后将恢复。",
                    ref=it.rec.ref,
                    date=it.until,
                    type_code=it.rt.code,
                )
            )

    if not any(it.eligible and it.rt.is_evaluation for it in items):
        start = rules.dimensions["public"].start
        hints.append(
            Hint(
                HINT_EVALUATION_MISSING,
                f"暂无有效的自然人公共信用评价，公共信用维度暂按{start}分计；评价结果归集后将自动计入。",
            )
        )

    commitment = rules.dimensions["commitment"]
    if dims["commitment"] < commitment.cap:
        kept = {it.rt.code for it in items if it.eligible and it.counted_points > 0}
        offers = [rt for rt in rules.catalog.values() if rt.self_service and rt.code not in kept]
        if not offers:
            offers = [rt for rt in rules.catalog.values() if rt.self_service]
        room = commitment.cap - dims["commitment"]
        if offers:
            listed = "、".join(f"{rt.name.removesuffix('履约')}（+{rt.points}分）" for rt in offers)
            hints.append(
                Hint(
                    HINT_MAKE_COMMITMENT,
                    f"在小程序中作出信用承诺并按时履约，可提升履约践诺分（目前{dims['commitment']}分，"
                    f"最多还可加{room}分）。可选：{listed}。",
                )
            )

    for it in sorted(items, key=lambda i: i.rec.ref):
        if it.rec.status == "disputed" and it.rt is not None:
            hints.append(
                Hint(
                    HINT_OBJECTION_PENDING,
                    f"您对「{it.rt.name}」提出的异议正在处理，处理期间该记录暂不计分。",
                    ref=it.rec.ref,
                    type_code=it.rt.code,
                )
            )

    # Adverse records that weigh on the score now (or restrict): when they can be repaired, when they expire.
    adverse = [it for it in items if it.rt is not None and it.rt.is_adverse and (it.eligible or it.restricts)]
    repair_open, repair_later, expiring = [], [], []
    for it in adverse:
        rt, rec = it.rt, it.rec
        if rt.repairable:
            opens = it.occ + dt.timedelta(days=rt.min_display_days)
            if as_of >= opens:
                repair_open.append(
                    Hint(
                        HINT_REPAIR_OPEN,
                        f"「{rt.name}」已满最短公示期，履行相关义务后可在小程序申请信用修复（需作出信用修复承诺），"
                        "修复后该记录不再影响信用分。",
                        ref=rec.ref,
                        date=opens,
                        type_code=rt.code,
                    )
                )
            elif it.until is None or opens < it.until:
                repair_later.append(
                    Hint(
                        HINT_REPAIR_LATER,
                        f"「{rt.name}」将于{_cn_date(opens)}满最短公示期，届时履行相关义务后可申请信用修复。",
                        ref=rec.ref,
                        date=opens,
                        type_code=rt.code,
                    )
                )
        if it.until is not None:
            weight = f"（目前扣{-it.counted_points}分）" if it.eligible and it.counted_points < 0 else ""
            expiring.append(
                Hint(
                    HINT_EXPIRING,
                    f"「{rt.name}」将于{_cn_date(it.until)}到期，到期后不再影响您的信用分{weight}。",
                    ref=rec.ref,
                    date=it.until,
                    type_code=rt.code,
                )
            )
    for group in (repair_open, repair_later, expiring):
        group.sort(key=lambda h: (h.date, h.ref))
        hints.extend(group)
    return hints


# --------------------------------------------------------------------------------------------------------
# Fast path (see the module docstring: keep in step with compute_score)
# --------------------------------------------------------------------------------------------------------


def compute_totals(records: Iterable[RecordInput], as_of: dt.date, rules: Rules) -> tuple[int, int, int, int, int, int]:
    """``(total, public, law, commitment, honour, level)`` — the numbers of compute_score, nothing else."""
    fast = rules.fast_types
    as_of_ord = as_of.toordinal()
    sums = [0, 0, 0, 0]  # signed points per dimension index (public unused: the evaluation sets it)
    groups = None  # per sub-cap group sums, allocated only when a grouped record shows up
    incidents = None
    restricted = False
    ev_occ = -1
    ev_ref = ""
    ev_delta = 0

    for r in records:
        if r.status != "active":
            continue
        t = fast.get(r.type_code)
        if t is None:
            continue
        occ = r.occurred_at.toordinal()
        if occ > as_of_ord:
            continue
        if occ + t[3] <= as_of_ord:
            continue
        exp = r.expires_at
        if exp is not None and exp.toordinal() <= as_of_ord:
            continue
        if t[7]:
            p = rules.grade_delta.get(r.grade)
            if p is None:
                continue
        elif t[6]:
            q = r.quantity
            p = t[1] * (q // t[6]) if q > 0 else 0
        else:
            p = t[1]
        if t[4]:
            restricted = True
        if r.incident_id is not None and t[8]:
            # Adverse records only. Decided after the loop: the winner may come later in the list.
            if incidents is None:
                incidents = {}
            key = (-t[2], -abs(p), r.ref)
            incident = (r.source, r.incident_id)
            cur = incidents.get(incident)
            if cur is None or key < cur[0]:
                incidents[incident] = (key, t, p, occ)
            continue
        if t[7]:
            if occ > ev_occ or (occ == ev_occ and r.ref > ev_ref):
                ev_occ, ev_ref, ev_delta = occ, r.ref, p
        elif t[5] >= 0:
            if groups is None:
                groups = [0] * len(rules.group_caps)
            groups[t[5]] += p
        else:
            sums[t[0]] += p

    if incidents is not None:
        for _key, t, p, _occ in incidents.values():
            sums[t[0]] += p  # adverse: never an evaluation, never in a sub-cap group

    if groups is not None:
        group_caps = rules.group_caps
        for i, s in enumerate(groups):
            if s:
                dim, cap = group_caps[i]
                sums[dim] += s if s < cap else cap

    (ps, pf, pc), (ls, lf, lc), (cs, cf, cc), (hs, hf, hc) = rules.dim_bounds
    public = ps + ev_delta
    public = pf if public < pf else pc if public > pc else public
    law = ls + sums[1]
    law = lf if law < lf else lc if law > lc else law
    commitment = cs + sums[2]
    commitment = cf if commitment < cf else cc if commitment > cc else commitment
    honour = hs + sums[3]
    honour = hf if honour < hf else hc if honour > hc else honour
    total = public + law + commitment + honour
    if restricted:
        level = 0
    else:
        level = rules.tier_floors[-1][1]
        for floor, lv in rules.tier_floors:
            if total >= floor:
                level = lv
                break
    return (total, public, law, commitment, honour, level)


def next_change(records: Iterable[RecordInput], as_of: dt.date, rules: Rules) -> dt.date | None:
    """The first day after ``as_of`` on which the same records can give another score, or None if none can.

    A score depends on the day only through which records are eligible (rule 1): an active record of a known
    type is eligible from ``occurred_at`` (inclusive) to the end of its validity (exclusive, see
    :func:`_until_ordinal`: the catalog's validity, shortened by the record's own ``expires_at``). Incidents,
    superseded evaluations and sub-caps (rules 3-5) are decided among the eligible records of the day, so they
    move no boundary. Between those dates nothing changes by itself; so a stored score needs rescoring only on
    this day, or when its records or the rules change. A record that can never be eligible (an empty window,
    a public evaluation with a grade the rules do not know) gives no date.
    """
    fast = rules.fast_types
    grade_delta = rules.grade_delta
    as_of_ord = _as_date(as_of).toordinal()
    best = 0
    for r in records:
        if r.status != STATUS_ACTIVE:
            continue
        t = fast.get(r.type_code)
        if t is None:
            continue
        if t[7] and grade_delta.get(r.grade) is None:
            continue  # never counts, on any day
        occ = r.occurred_at.toordinal()
        until = _until_ordinal(occ, t[3], r.expires_at)
        if until <= occ:
            continue  # empty window: never counts
        if occ > as_of_ord:
            day = occ
        elif until > as_of_ord:
            day = until
        else:
            continue
        if best == 0 or day < best:
            best = day
    return dt.date.fromordinal(best) if best else None
