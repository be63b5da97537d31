"""A partner city's native score scale and its cut-offs onto the common L1–L5 ladder (互认).

Every city in the alliance keeps its own score (钱江分, 天一分, 桂花分 …) on its own scale; what they share is the
five-level ladder. A partner's row in our registry says where each of its levels starts on its native scale, so
a native score in one of its attestations maps to our ladder the same way on every server. L0 (受限) is never
reached through points: it is the issuing city's statement that the person is restricted.

Pure: plain data in, plain data out, like the rest of ``score_model``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .rules import Rules

LEVELS: tuple[int, ...] = (1, 2, 3, 4, 5)


class ScaleError(ValueError):
    """A scale or its cut-offs are inconsistent, or a score lies outside the scale."""


@dataclass(frozen=True, slots=True)
class Cutoff:
    level: int
    min: int  # inclusive; a level runs up to the next level's min - 1 (L5 to the scale's max)
    name: str = ""


@dataclass(frozen=True, slots=True)
class PartnerScale:
    """A native scale [minimum, maximum] with the native score at which each level L1–L5 starts."""

    minimum: int
    maximum: int
    cutoffs: tuple[Cutoff, ...]  # L1 first

    def level_for(self, score: int) -> int:
        """The common level (1–5) of a native score; :class:`ScaleError` when it lies outside the scale."""
        if isinstance(score, bool) or not isinstance(score, int):
            raise ScaleError(f"a native score must be an integer, got {score!r}")
        if not self.minimum <= score <= self.maximum:
            raise ScaleError(f"score {score} outside the scale {self.minimum}–{self.maximum}")
        level = self.cutoffs[0].level
        for cutoff in self.cutoffs:
            if score >= cutoff.min:
                level = cutoff.level
        return level

    def level_name(self, level: int) -> str:
        for cutoff in self.cutoffs:
            if cutoff.level == level:
                return cutoff.name
        raise ScaleError(f"unknown level {level!r}")

    def as_list(self) -> list[dict]:
        """JSON-ready cut-offs: each level with its native range (what staff and partners read)."""
        out = []
        for index, cutoff in enumerate(self.cutoffs):
            upper = self.cutoffs[index + 1].min - 1 if index + 1 < len(self.cutoffs) else self.maximum
            out.append({"level": cutoff.level, "name": cutoff.name, "min": cutoff.min, "max": upper})
        return out


def build_scale(minimum: int, maximum: int, cutoffs: Iterable[Mapping | Cutoff]) -> PartnerScale:
    """Validate and build a scale. Cut-offs are ``{"level", "min", "name"?}``: L1–L5 each once, L1 starting at
    the scale's minimum, every level starting above the one below it and within the scale."""
    for label, value in (("minimum", minimum), ("maximum", maximum)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScaleError(f"scale {label} must be an integer, got {value!r}")
    if minimum >= maximum:
        raise ScaleError(f"scale minimum {minimum} must be below its maximum {maximum}")
    parsed = []
    for entry in cutoffs:
        if isinstance(entry, Cutoff):
            parsed.append(entry)
            continue
        if not isinstance(entry, Mapping):
            raise ScaleError(f"a cut-off must be an object with level and min, got {entry!r}")
        level, start, name = entry.get("level"), entry.get("min"), entry.get("name", "")
        for label, value in (("level", level), ("min", start)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ScaleError(f"cut-off {label} must be an integer, got {value!r}")
        if not isinstance(name, str):
            raise ScaleError(f"cut-off name must be text, got {name!r}")
        parsed.append(Cutoff(level, start, name))
    parsed.sort(key=lambda c: c.level)
    if [c.level for c in parsed] != list(LEVELS):
        raise ScaleError(f"cut-offs must name levels 1–5 each once, got {[c.level for c in parsed]}")
    if parsed[0].min != minimum:
        raise ScaleError(f"L1 must start at the scale's minimum {minimum}, starts at {parsed[0].min}")
    for lower, upper in zip(parsed, parsed[1:], strict=False):
        if upper.min <= lower.min:
            raise ScaleError(f"L{upper.level} must start above L{lower.level} ({upper.min} <= {lower.min})")
    if parsed[-1].min > maximum:
        raise ScaleError(f"L5 starts at {parsed[-1].min}, above the scale's maximum {maximum}")
    return PartnerScale(minimum, maximum, tuple(parsed))


def scale_of_rules(rules: Rules) -> PartnerScale:
    """Our own ladder as a partner sees it: 0 to the sum of the caps, cut at each tier's minimum."""
    return build_scale(0, rules.max_total, [Cutoff(t.level, t.min, t.name) for t in rules.tiers])
