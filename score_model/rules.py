"""Versioned scoring rules: the catalog (公共信用信息目录), dimensions, grades, tiers and sub-caps.

Rules live in TOML files inside the package (``score_model/rules/<version>.toml``) so that a stored score can
name the exact rules it was computed with and a new version can be rolled out by recomputing. Everything is
validated on load: a rules file that is wrong in any way raises :class:`RulesError` instead of producing
silently wrong scores for a whole city.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

DIMENSIONS: tuple[str, ...] = ("public", "law", "commitment", "honour")
DIMENSION_NAMES: Mapping[str, str] = MappingProxyType(
    {"public": "公共信用", "law": "遵纪守法", "commitment": "履约践诺", "honour": "荣誉慈善"}
)

CLASS_BASIC = "基础"
CLASS_GOOD = "守信"
CLASS_BAD = "不良"
CLASS_OTHER = "其他"
CLASSES: tuple[str, ...] = (CLASS_BASIC, CLASS_GOOD, CLASS_BAD, CLASS_OTHER)

# Which classes make sense in which dimension; anything else is a rules-file mistake.
_ALLOWED_CLASSES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "public": frozenset({CLASS_BASIC, CLASS_OTHER}),
        "law": frozenset({CLASS_BAD, CLASS_OTHER}),
        "commitment": frozenset({CLASS_GOOD, CLASS_BAD, CLASS_OTHER}),
        "honour": frozenset({CLASS_GOOD, CLASS_OTHER}),
    }
)

RULES_PACKAGE = "score_model"
RULES_DIR = "rules"

_CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")
_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")

# Indexes into the per-type tuples of Rules.fast_types (see engine.compute_totals).
FT_DIM = 0  # dimension index into DIMENSIONS
FT_SIGNED = 1  # signed points per record (per unit for unit types)
FT_SEVERITY = 2
FT_VALIDITY = 3  # validity_days
FT_FORCES = 4  # forces_l0
FT_GROUP = 5  # sub-cap group index, -1 if none
FT_UNIT_SIZE = 6  # 0 when the type has no unit
FT_IS_EVAL = 7  # class 基础: the grade decides
FT_ADVERSE = 8  # class 不良: takes part in incident de-duplication


class RulesError(ValueError):
    """A rules file is missing, unreadable or inconsistent."""


@dataclass(frozen=True, slots=True)
class Dimension:
    code: str
    name: str
    cap: int
    start: int
    floor: int


@dataclass(frozen=True, slots=True)
class Tier:
    level: int
    name: str
    min: int
    max: int


@dataclass(frozen=True, slots=True)
class SubCap:
    group: str
    name: str
    dimension: str
    cap: int


@dataclass(frozen=True, slots=True)
class RecordType:
    """One entry of the 公共信用信息目录."""

    code: str
    name: str
    dimension: str
    record_class: str  # 基础 / 守信 / 不良 / 其他 (``class`` in the TOML file)
    points: int  # positive magnitude; per unit_size units when ``unit`` is set
    severity: int  # 1 (mild) … 5 (most severe)
    validity_days: int
    repairable: bool
    min_display_days: int
    legal_basis: str
    forces_l0: bool
    sub_cap_group: str | None = None
    unit: str | None = None
    unit_size: int = 1
    self_service: bool = False  # a citizen can make this commitment themselves (used for hints)
    self_reportable: bool = False  # 自愿注册: a citizen may report it themselves, staff verify it

    @property
    def is_adverse(self) -> bool:
        return self.record_class == CLASS_BAD

    @property
    def is_evaluation(self) -> bool:
        return self.record_class == CLASS_BASIC

    @property
    def sign(self) -> int:
        if self.record_class == CLASS_BAD:
            return -1
        if self.record_class == CLASS_GOOD:
            return 1
        return 0

    def points_for(self, quantity: int) -> int:
        """Signed points of one record of this type (not for 基础, whose grade decides)."""
        if self.unit is None:
            return self.sign * self.points
        units = quantity // self.unit_size if quantity > 0 else 0
        return self.sign * self.points * units


COMMITMENT_KINDS: tuple[str, ...] = ("civility", "repair", "notify", "truth")


@dataclass(frozen=True, slots=True)
class CommitmentText:
    """One version of a commitment's standard text (格式文本), including its 虚假承诺约束."""

    version: str
    body: str


@dataclass(frozen=True, slots=True)
class CommitmentType:
    """One entry of the commitment catalog (信用承诺目录).

    What it is worth comes from the record catalog: kept → ``kept_record``, broken → ``broken_record``,
    false → ``false_record`` (None: that outcome does not exist for this type).
    """

    code: str
    name: str
    kind: str  # one of COMMITMENT_KINDS
    self_service: bool  # a citizen may make it themselves in the mini-program
    period_days: int
    kept_record: str | None
    broken_record: str | None
    false_record: str | None
    broken_by: tuple[str, ...]  # adverse record types that break it when they occur within the period
    legal_basis: str
    texts: tuple[CommitmentText, ...]  # oldest first; the last is current

    @property
    def current_text(self) -> CommitmentText:
        return self.texts[-1]

    def text(self, version: str) -> CommitmentText | None:
        return next((t for t in self.texts if t.version == version), None)


@dataclass(frozen=True, eq=False)
class Rules:
    """A loaded, validated rules version. Immutable; compare by identity."""

    version: str
    effective_from: dt.date | None
    dimensions: Mapping[str, Dimension]
    grades: Mapping[str, int]
    tiers: tuple[Tier, ...]  # highest level first
    restricted_name: str
    sub_caps: Mapping[str, SubCap]
    catalog: Mapping[str, RecordType]
    source: str = ""
    commitments: Mapping[str, CommitmentType] = field(default_factory=lambda: MappingProxyType({}))
    # Precomputed tables for the fast path, derived from the fields above in __post_init__. Plain dicts on
    # purpose: MappingProxyType.get is several times slower than dict.get, and these are read once per record
    # in a loop over a whole city. Treat them as read-only.
    fast_types: dict[str, tuple] = field(init=False, repr=False)
    grade_delta: dict[str, int] = field(init=False, repr=False)
    group_caps: tuple[tuple[int, int], ...] = field(init=False, repr=False)  # (dimension index, cap)
    group_index: Mapping[str, int] = field(init=False, repr=False)
    dim_bounds: tuple[tuple[int, int, int], ...] = field(init=False, repr=False)  # (start, floor, cap)
    tier_floors: tuple[tuple[int, int], ...] = field(init=False, repr=False)  # (min, level), highest first

    def __repr__(self) -> str:
        return f"Rules(version={self.version!r}, source={self.source!r}, {len(self.catalog)} record types)"

    def __reduce__(self):
        # MappingProxyType cannot be pickled; a worker process reloads the same file instead (batch recompute
        # may hand Rules to a process pool).
        return (_reload_rules, (self.version, self.source))

    def __post_init__(self) -> None:
        groups = tuple(sorted(self.sub_caps))
        group_index = {g: i for i, g in enumerate(groups)}
        dim_index = {d: i for i, d in enumerate(DIMENSIONS)}
        fast = {}
        for code, rt in self.catalog.items():
            fast[code] = (
                dim_index[rt.dimension],
                rt.sign * rt.points,
                rt.severity,
                rt.validity_days,
                rt.forces_l0,
                group_index[rt.sub_cap_group] if rt.sub_cap_group else -1,
                rt.unit_size if rt.unit is not None else 0,
                rt.is_evaluation,
                rt.is_adverse,
            )
        public_start = self.dimensions["public"].start
        setattr_ = object.__setattr__
        setattr_(self, "fast_types", fast)
        setattr_(self, "grade_delta", {g: v - public_start for g, v in self.grades.items()})
        setattr_(
            self,
            "group_caps",
            tuple((dim_index[self.sub_caps[g].dimension], self.sub_caps[g].cap) for g in groups),
        )
        setattr_(self, "group_index", MappingProxyType(group_index))
        setattr_(
            self,
            "dim_bounds",
            tuple((self.dimensions[d].start, self.dimensions[d].floor, self.dimensions[d].cap) for d in DIMENSIONS),
        )
        setattr_(self, "tier_floors", tuple((t.min, t.level) for t in self.tiers))

    @property
    def max_total(self) -> int:
        return sum(d.cap for d in self.dimensions.values())

    @property
    def caps(self) -> dict[str, int]:
        return {d: self.dimensions[d].cap for d in DIMENSIONS}

    @property
    def starts(self) -> dict[str, int]:
        return {d: self.dimensions[d].start for d in DIMENSIONS}

    def level_for(self, total: int, restricted: bool = False) -> int:
        """Tier for a total; 0 when restricted, whatever the points."""
        if restricted:
            return 0
        for floor, level in self.tier_floors:
            if total >= floor:
                return level
        # Below the lowest tier's minimum cannot happen for totals the engine produces (lowest min is 0).
        return self.tier_floors[-1][1]

    def level_name(self, level: int) -> str:
        if level == 0:
            return self.restricted_name
        for tier in self.tiers:
            if tier.level == level:
                return tier.name
        raise ValueError(f"unknown level {level!r} in rules {self.version}")

    def record_type(self, code: str) -> RecordType | None:
        return self.catalog.get(code)

    def points_of(self, record_code: str | None) -> int:
        """Signed points of one record of a type (0 for None or an unknown type): a commitment's worth."""
        rt = self.catalog.get(record_code) if record_code else None
        return rt.sign * rt.points if rt is not None else 0


# --------------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------------


def available_rule_versions() -> tuple[str, ...]:
    """Versions shipped inside the package, sorted by name."""
    root = importlib.resources.files(RULES_PACKAGE) / RULES_DIR
    return tuple(sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml")))


def load_rules(version: str = "v1") -> Rules:
    """Load a packaged rules version (cached: the same Rules object for the same version)."""
    return _load_packaged(version)


@functools.lru_cache(maxsize=16)
def _load_packaged(version: str) -> Rules:
    # Separate from load_rules so that load_rules() and load_rules("v1") hit the same cache entry.
    if not isinstance(version, str) or not _VERSION_RE.match(version):
        raise RulesError(f"invalid rules version name: {version!r}")
    resource = importlib.resources.files(RULES_PACKAGE) / RULES_DIR / f"{version}.toml"
    if not resource.is_file():
        raise RulesError(f"rules version {version!r} not found (available: {', '.join(available_rule_versions())})")
    rules = _parse(resource.read_bytes(), source=_packaged_source(version))
    if rules.version != version:
        raise RulesError(f"{rules.source}: file declares version {rules.version!r}, expected {version!r}")
    return rules


def load_rules_from_path(path: str | Path) -> Rules:
    """Load and validate a rules file from anywhere (not cached)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise RulesError(f"cannot read rules file {p}: {exc}") from exc
    return _parse(data, source=str(p))


def _reload_rules(version: str, source: str) -> Rules:
    if source == _packaged_source(version):
        return load_rules(version)
    return load_rules_from_path(source)


def _packaged_source(version: str) -> str:
    return f"{RULES_PACKAGE}/{RULES_DIR}/{version}.toml"


def _parse(data: bytes, source: str) -> Rules:
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RulesError(f"{source}: not valid UTF-8 TOML: {exc}") from exc
    return _Validator(source).build(doc)


class _Validator:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> RulesError:
        return RulesError(f"{self.source}: {where}: {message}")

    # -- typed getters ------------------------------------------------------------------------------------

    def _get(self, table: Mapping[str, Any], key: str, where: str, kind: type, *, default: Any = ...) -> Any:
        if key not in table:
            if default is ...:
                raise self.fail(where, f"missing field '{key}'")
            return default
        value = table[key]
        # bool is an int subclass: reject True/False where a number is expected, and vice versa.
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise self.fail(where, f"field '{key}' must be an integer, got {value!r}")
        if kind is not int and not isinstance(value, kind):
            raise self.fail(where, f"field '{key}' must be {kind.__name__}, got {value!r}")
        return value

    def _table(self, doc: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
        value = doc.get(key)
        if not isinstance(value, dict):
            raise self.fail(where, f"missing table [{key}]")
        return value

    def _no_extra(self, table: Mapping[str, Any], allowed: set[str], where: str) -> None:
        extra = sorted(set(table) - allowed)
        if extra:
            raise self.fail(where, f"unknown field(s) {', '.join(extra)}")

    # -- sections -----------------------------------------------------------------------------------------

    def build(self, doc: Mapping[str, Any]) -> Rules:
        self._no_extra(
            doc,
            {"version", "effective_from", "dimensions", "grades", "levels", "sub_caps", "catalog", "commitment"},
            "top level",
        )
        version = self._get(doc, "version", "top level", str)
        if not _VERSION_RE.match(version):
            raise self.fail("top level", f"invalid version {version!r}")
        effective_from = doc.get("effective_from")
        if effective_from is not None and (
            not isinstance(effective_from, dt.date) or isinstance(effective_from, dt.datetime)
        ):
            raise self.fail("top level", "effective_from must be a date (YYYY-MM-DD)")

        dimensions = self._dimensions(self._table(doc, "dimensions", "top level"))
        grades = self._grades(self._table(doc, "grades", "top level"), dimensions["public"])
        max_total = sum(d.cap for d in dimensions.values())
        restricted_name, tiers = self._levels(self._table(doc, "levels", "top level"), max_total)
        sub_caps = self._sub_caps(doc.get("sub_caps", {}))
        catalog = self._catalog(doc.get("catalog"), sub_caps)
        commitments = self._commitments(doc.get("commitment", []), catalog)
        return Rules(
            version=version,
            effective_from=effective_from,
            dimensions=MappingProxyType(dimensions),
            grades=MappingProxyType(grades),
            tiers=tiers,
            restricted_name=restricted_name,
            sub_caps=MappingProxyType(sub_caps),
            catalog=MappingProxyType(catalog),
            source=self.source,
            commitments=MappingProxyType(commitments),
        )

    def _dimensions(self, table: Mapping[str, Any]) -> dict[str, Dimension]:
        missing = [d for d in DIMENSIONS if d not in table]
        if missing:
            raise self.fail("[dimensions]", f"missing dimension(s) {', '.join(missing)}")
        self._no_extra(table, set(DIMENSIONS), "[dimensions]")
        out = {}
        for code in DIMENSIONS:
            where = f"[dimensions.{code}]"
            t = table[code]
            if not isinstance(t, dict):
                raise self.fail(where, "must be a table")
            self._no_extra(t, {"cap", "start", "floor"}, where)
            cap = self._get(t, "cap", where, int)
            start = self._get(t, "start", where, int)
            floor = self._get(t, "floor", where, int, default=0)
            if cap <= 0:
                raise self.fail(where, f"cap must be positive, got {cap}")
            if not 0 <= floor <= start <= cap:
                raise self.fail(where, f"need 0 <= floor <= start <= cap, got floor={floor} start={start} cap={cap}")
            out[code] = Dimension(code, DIMENSION_NAMES[code], cap, start, floor)
        return out

    def _grades(self, table: Mapping[str, Any], public: Dimension) -> dict[str, int]:
        if not table:
            raise self.fail("[grades]", "no grades defined")
        out = {}
        for grade, value in table.items():
            value = self._get(table, grade, "[grades]", int)
            if not public.floor <= value <= public.cap:
                raise self.fail("[grades]", f"grade {grade!r} = {value} outside {public.floor}..{public.cap}")
            out[grade] = value
        return out

    def _levels(self, table: Mapping[str, Any], max_total: int) -> tuple[str, tuple[Tier, ...]]:
        self._no_extra(table, {"restricted_name", "tier"}, "[levels]")
        restricted_name = self._get(table, "restricted_name", "[levels]", str)
        raw = table.get("tier")
        if not isinstance(raw, list) or not raw:
            raise self.fail("[levels]", "missing [[levels.tier]] entries")
        tiers = []
        for i, t in enumerate(raw):
            where = f"[[levels.tier]] #{i + 1}"
            if not isinstance(t, dict):
                raise self.fail(where, "must be a table")
            self._no_extra(t, {"level", "name", "min", "max"}, where)
            tier = Tier(
                level=self._get(t, "level", where, int),
                name=self._get(t, "name", where, str),
                min=self._get(t, "min", where, int),
                max=self._get(t, "max", where, int),
            )
            if tier.min > tier.max:
                raise self.fail(where, f"L{tier.level} min {tier.min} > max {tier.max}")
            tiers.append(tier)
        levels = sorted(t.level for t in tiers)
        if levels != list(range(1, len(tiers) + 1)):
            raise self.fail("[levels]", f"tier levels must be 1..{len(tiers)} each once, got {levels}")
        by_min = sorted(tiers, key=lambda t: t.min)
        if by_min[0].min != 0:
            raise self.fail("[levels]", f"the lowest tier must start at 0, starts at {by_min[0].min}")
        if by_min[-1].max != max_total:
            raise self.fail(
                "[levels]", f"the highest tier must end at {max_total} (sum of caps), ends at {by_min[-1].max}"
            )
        for lo, hi in zip(by_min, by_min[1:], strict=False):
            if hi.min <= lo.max:
                raise self.fail(
                    "[levels]", f"L{lo.level} ({lo.min}-{lo.max}) and L{hi.level} ({hi.min}-{hi.max}) overlap"
                )
            if hi.min != lo.max + 1:
                raise self.fail("[levels]", f"gap between L{lo.level} (max {lo.max}) and L{hi.level} (min {hi.min})")
            if hi.level <= lo.level:
                raise self.fail("[levels]", f"L{hi.level} has higher scores than L{lo.level}")
        return restricted_name, tuple(reversed(by_min))

    def _sub_caps(self, table: Any) -> dict[str, SubCap]:
        if not isinstance(table, dict):
            raise self.fail("[sub_caps]", "must be a table")
        out = {}
        for group, t in table.items():
            where = f"[sub_caps.{group}]"
            if not isinstance(t, dict):
                raise self.fail(where, "must be a table")
            self._no_extra(t, {"name", "dimension", "cap"}, where)
            dimension = self._get(t, "dimension", where, str)
            if dimension not in DIMENSIONS:
                raise self.fail(where, f"unknown dimension {dimension!r} (expected one of {', '.join(DIMENSIONS)})")
            cap = self._get(t, "cap", where, int)
            if cap <= 0:
                raise self.fail(where, f"cap must be positive, got {cap}")
            out[group] = SubCap(group, self._get(t, "name", where, str), dimension, cap)
        return out

    _ENTRY_FIELDS = {
        "code",
        "name",
        "dimension",
        "class",
        "points",
        "severity",
        "validity_days",
        "repairable",
        "min_display_days",
        "legal_basis",
        "forces_l0",
        "sub_cap_group",
        "unit",
        "unit_size",
        "self_service",
        "self_reportable",
    }

    def _catalog(self, raw: Any, sub_caps: Mapping[str, SubCap]) -> dict[str, RecordType]:
        if not isinstance(raw, list) or not raw:
            raise self.fail("[[catalog]]", "no catalog entries")
        out: dict[str, RecordType] = {}
        for i, e in enumerate(raw):
            where = f"[[catalog]] #{i + 1}"
            if not isinstance(e, dict):
                raise self.fail(where, "must be a table")
            code = self._get(e, "code", where, str)
            where = f"[[catalog]] {code}"
            if not _CODE_RE.match(code):
                raise self.fail(where, "code must be upper-case letters, digits and '_'")
            if code in out:
                raise self.fail(where, "duplicate code")
            self._no_extra(e, self._ENTRY_FIELDS, where)
            rt = RecordType(
                code=code,
                name=self._get(e, "name", where, str),
                dimension=self._get(e, "dimension", where, str),
                record_class=self._get(e, "class", where, str),
                points=self._get(e, "points", where, int),
                severity=self._get(e, "severity", where, int),
                validity_days=self._get(e, "validity_days", where, int),
                repairable=self._get(e, "repairable", where, bool),
                min_display_days=self._get(e, "min_display_days", where, int),
                legal_basis=self._get(e, "legal_basis", where, str),
                forces_l0=self._get(e, "forces_l0", where, bool),
                sub_cap_group=self._get(e, "sub_cap_group", where, str, default=None),
                unit=self._get(e, "unit", where, str, default=None),
                unit_size=self._get(e, "unit_size", where, int, default=1),
                self_service=self._get(e, "self_service", where, bool, default=False),
                self_reportable=self._get(e, "self_reportable", where, bool, default=False),
            )
            self._check_entry(rt, where, sub_caps)
            out[code] = rt
        if not any(rt.is_evaluation for rt in out.values()):
            raise self.fail("[[catalog]]", "no 基础 (public evaluation) record type")
        return out

    def _check_entry(self, rt: RecordType, where: str, sub_caps: Mapping[str, SubCap]) -> None:
        if not rt.name.strip():
            raise self.fail(where, "name is empty")
        if not rt.legal_basis.strip():
            raise self.fail(where, "legal_basis is empty")
        if rt.dimension not in DIMENSIONS:
            raise self.fail(where, f"unknown dimension {rt.dimension!r} (expected one of {', '.join(DIMENSIONS)})")
        if rt.record_class not in CLASSES:
            raise self.fail(where, f"unknown class {rt.record_class!r} (expected one of {', '.join(CLASSES)})")
        if rt.record_class not in _ALLOWED_CLASSES[rt.dimension]:
            raise self.fail(where, f"class {rt.record_class} is not allowed in dimension {rt.dimension}")
        if rt.record_class in (CLASS_GOOD, CLASS_BAD):
            if rt.points <= 0:
                raise self.fail(where, f"points must be a positive magnitude, got {rt.points}")
        elif rt.points != 0:
            raise self.fail(where, f"a {rt.record_class} record scores nothing itself: points must be 0")
        if not 1 <= rt.severity <= 5:
            raise self.fail(where, f"severity must be 1..5, got {rt.severity}")
        if rt.validity_days <= 0:
            raise self.fail(where, f"validity_days must be positive, got {rt.validity_days}")
        if rt.min_display_days < 0:
            raise self.fail(where, f"min_display_days must be >= 0, got {rt.min_display_days}")
        if rt.repairable:
            if not rt.is_adverse:
                raise self.fail(where, "only 不良 records can be repairable")
            if rt.min_display_days >= rt.validity_days:
                raise self.fail(
                    where,
                    f"min_display_days {rt.min_display_days} must be shorter than validity_days {rt.validity_days}",
                )
        elif rt.min_display_days != 0:
            raise self.fail(where, "min_display_days is set but the record is not repairable")
        if rt.forces_l0 and not rt.is_adverse:
            raise self.fail(where, "only 不良 records can force level 0")
        if rt.sub_cap_group is not None:
            group = sub_caps.get(rt.sub_cap_group)
            if group is None:
                raise self.fail(where, f"unknown sub_cap_group {rt.sub_cap_group!r}")
            if group.dimension != rt.dimension:
                raise self.fail(where, f"sub_cap_group {rt.sub_cap_group!r} belongs to dimension {group.dimension}")
            if rt.record_class != CLASS_GOOD:
                raise self.fail(where, "sub-caps apply to 守信 records only")
        if rt.unit is not None:
            if not rt.unit.strip():
                raise self.fail(where, "unit is empty")
            if rt.unit_size <= 0:
                raise self.fail(where, f"unit_size must be positive, got {rt.unit_size}")
            if rt.record_class != CLASS_GOOD:
                raise self.fail(where, "per-unit points apply to 守信 records only")
        elif rt.unit_size != 1:
            raise self.fail(where, "unit_size is set but unit is not")
        if rt.self_service and not (rt.dimension == "commitment" and rt.record_class == CLASS_GOOD):
            raise self.fail(where, "self_service applies to kept commitments (commitment, 守信) only")
        if rt.self_reportable and not (rt.dimension == "honour" and rt.record_class == CLASS_GOOD):
            raise self.fail(where, "self_reportable applies to honours and charity (honour, 守信) only")

    _COMMITMENT_FIELDS = {
        "code", "name", "kind", "self_service", "period_days", "kept_record", "broken_record", "false_record",
        "broken_by", "legal_basis", "text",
    }

    def _commitments(self, raw: Any, catalog: Mapping[str, RecordType]) -> dict[str, CommitmentType]:
        if not isinstance(raw, list):
            raise self.fail("[[commitment]]", "must be an array of tables")
        out: dict[str, CommitmentType] = {}
        for i, e in enumerate(raw):
            where = f"[[commitment]] #{i + 1}"
            if not isinstance(e, dict):
                raise self.fail(where, "must be a table")
            code = self._get(e, "code", where, str)
            where = f"[[commitment]] {code}"
            if not _CODE_RE.match(code):
                raise self.fail(where, "code must be upper-case letters, digits and '_'")
            if code in out:
                raise self.fail(where, "duplicate code")
            self._no_extra(e, self._COMMITMENT_FIELDS, where)
            kind = self._get(e, "kind", where, str)
            if kind not in COMMITMENT_KINDS:
                raise self.fail(where, f"unknown kind {kind!r} (expected one of {', '.join(COMMITMENT_KINDS)})")
            period_days = self._get(e, "period_days", where, int)
            if period_days <= 0:
                raise self.fail(where, f"period_days must be positive, got {period_days}")
            records = {}
            for name, cls in (("kept_record", CLASS_GOOD), ("broken_record", CLASS_BAD), ("false_record", CLASS_BAD)):
                value = self._get(e, name, where, str, default=None)
                if value is not None:
                    rt = catalog.get(value)
                    if rt is None:
                        raise self.fail(where, f"{name} {value!r} is not in the catalog")
                    if rt.dimension != "commitment" or rt.record_class != cls:
                        raise self.fail(where, f"{name} {value!r} must be a commitment record of class {cls}")
                records[name] = value
            broken_by = self._get(e, "broken_by", where, list)
            for value in broken_by:
                rt = catalog.get(value) if isinstance(value, str) else None
                if rt is None or not rt.is_adverse:
                    raise self.fail(where, f"broken_by {value!r} is not an adverse (不良) record type of the catalog")
            if broken_by and records["broken_record"] is None:
                raise self.fail(where, "broken_by is set but broken_record is not")
            self_service = self._get(e, "self_service", where, bool)
            if self_service and (kind != "civility" or records["kept_record"] is None):
                raise self.fail(where, "only civility commitments with a kept_record can be self-service")
            texts = self._texts(e.get("text"), where)
            out[code] = CommitmentType(
                code=code,
                name=self._get(e, "name", where, str),
                kind=kind,
                self_service=self_service,
                period_days=period_days,
                kept_record=records["kept_record"],
                broken_record=records["broken_record"],
                false_record=records["false_record"],
                broken_by=tuple(broken_by),
                legal_basis=self._get(e, "legal_basis", where, str),
                texts=texts,
            )
        return out

    def _texts(self, raw: Any, where: str) -> tuple[CommitmentText, ...]:
        where = f"{where} [[text]]"
        if not isinstance(raw, list) or not raw:
            raise self.fail(where, "at least one standard text (格式文本) is required")
        texts: list[CommitmentText] = []
        for t in raw:
            if not isinstance(t, dict):
                raise self.fail(where, "must be a table")
            self._no_extra(t, {"version", "body"}, where)
            version = self._get(t, "version", where, str)
            body = self._get(t, "body", where, str)
            if not _VERSION_RE.match(version) or any(x.version == version for x in texts):
                raise self.fail(where, f"invalid or duplicate version {version!r}")
            if "虚假承诺" not in body:
                raise self.fail(where, f"text {version} must state the constraint on a false commitment (虚假承诺约束)")
            texts.append(CommitmentText(version, body.strip()))
        return tuple(texts)
