"""Stored scores: recompute one citizen at once, or stream the whole city in chunks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import ARRAY, Integer, any_, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app import metrics
from app.audit import service as audit
from app.citizens.models import Citizen
from app.citizens.service import has_consent, scoring_consent_clause
from app.errors import ApiError
from app.extensions import db
from app.records.models import Record
from app.scoring.models import Score, ScoreHistory
from app.signals import notify_scores_changed
from app.timeutil import city_today, utcnow
from score_model import RecordInput, Rules, ScoreResult, compute_score, compute_totals, load_rules

# department_id is the record's source: incident ids are scoped to the department that sent them.
_RECORD_COLUMNS = (Record.citizen_id, Record.ref, Record.type_code, Record.status, Record.occurred_at,
                   Record.expires_at, Record.incident_id, Record.grade, Record.quantity, Record.department_id)
_SCORE_FIELDS = ("total", "public", "law", "commitment", "honour", "level")


def rules() -> Rules:
    return load_rules(current_app.config["RULES_VERSION"])


def id_in(column, ids: list[int]):
    """``column IN ids`` that stays cheap for thousands of ids: one array parameter on PostgreSQL (an IN list
    of 2,000 bound parameters costs more to build than the query costs to run)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("ids", ids, type_=ARRAY(Integer)))
    return column.in_(ids)


def records_of(citizen_ids: Iterable[int]) -> dict[int, list[RecordInput]]:
    grouped: dict[int, list[RecordInput]] = defaultdict(list)
    # Columns after citizen_id are in RecordInput's field order; positional construction is the hot loop of a
    # city-wide recompute.
    # Core on the session's connection: the ORM's row loading costs a third of the read otherwise.
    rows = db.session.connection().execute(
        select(*_RECORD_COLUMNS).where(id_in(Record.citizen_id, list(citizen_ids))))
    for citizen_id, *fields in rows:
        grouped[citizen_id].append(RecordInput(*fields))
    return grouped


def explain(citizen: Citizen, as_of: date | None = None) -> ScoreResult:
    return compute_score(records_of([citizen.id]).get(citizen.id, []), as_of or city_today(), rules())


@dataclass
class RecomputeStats:
    processed: int = 0
    changed: int = 0
    skipped_without_consent: int = 0
    last_citizen_id: int = 0


def _upsert(rows: list[dict]):
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(Score.__table__)
    return stmt.on_conflict_do_update(
        index_elements=[Score.citizen_id],
        set_={name: getattr(stmt.excluded, name) for name in (*_SCORE_FIELDS, "rules_version", "as_of",
                                                              "computed_at")},
    )


def _recompute_chunk(citizen_ids: list[int], as_of: date, score_rules: Rules, stats: RecomputeStats,
                     reason: str) -> None:
    """Score one chunk in one transaction; only scores that changed are written, audited and kept in history."""
    # Clear the marks first: a batch that marks one of these citizens meanwhile waits on the row lock and
    # re-marks after we commit, so its records are never lost between the read and the clear.
    # Only marked rows are written: rewriting every row of the city would cost more than scoring it.
    db.session.execute(update(Citizen).where(id_in(Citizen.id, citizen_ids), Citizen.needs_recompute.is_(True))
                       .values(needs_recompute=False))
    grouped = records_of(citizen_ids)
    current = {row[0]: row for row in db.session.connection().execute(
        select(Score.citizen_id, *(getattr(Score, f) for f in _SCORE_FIELDS), Score.rules_version)
        .where(id_in(Score.citizen_id, citizen_ids)))}
    now = utcnow()
    version = score_rules.version
    changed_rows = []
    for citizen_id in citizen_ids:
        totals = compute_totals(grouped.get(citizen_id, ()), as_of, score_rules)
        old = current.get(citizen_id)
        if old is not None and old[1:7] == totals and old[7] == version:
            continue
        changed_rows.append({"citizen_id": citizen_id, **dict(zip(_SCORE_FIELDS, totals, strict=True)),
                             "rules_version": version, "as_of": as_of, "computed_at": now})
    if changed_rows:
        connection = db.session.connection()
        connection.execute(_upsert(changed_rows), changed_rows)
        connection.execute(insert(ScoreHistory.__table__), [{k: v for k, v in row.items() if k != "as_of"}
                                                            for row in changed_rows])
        audit.append([row["citizen_id"] for row in changed_rows], "score.recompute", reason,
                     {"rules_version": version})
        notify_scores_changed(row["citizen_id"] for row in changed_rows)
    db.session.commit()
    stats.processed += len(citizen_ids)
    stats.changed += len(changed_rows)
    stats.last_citizen_id = citizen_ids[-1]


def _stream_ids(only_marked: bool, chunk_size: int, after: int, among: list[int] | None) -> Iterator[list[int]]:
    while True:
        stmt = select(Citizen.id).where(Citizen.id > after, scoring_consent_clause())
        if only_marked:
            stmt = stmt.where(Citizen.needs_recompute.is_(True))
        if among is not None:
            stmt = stmt.where(Citizen.id.in_(among))
        ids = list(db.session.scalars(stmt.order_by(Citizen.id).limit(chunk_size)))
        if not ids:
            return
        yield ids
        after = ids[-1]


def recompute(mode: str = "changed", *, citizen_ids: list[int] | None = None, chunk_size: int | None = None,
              start_after: int = 0, reason: str = "信用记录变更后重新计算",
              on_chunk: Callable[[RecomputeStats], None] | None = None) -> RecomputeStats:
    """Recompute ``all`` consenting citizens or only those ``changed`` (marked), chunk by chunk.

    Each chunk commits on its own, so an interrupted run loses nothing and can be re-run (or resumed with
    ``start_after``); memory holds one chunk at a time whatever the city's size.
    """
    if mode not in ("all", "changed"):
        raise ValueError("mode must be 'all' or 'changed'")
    chunk_size = chunk_size or current_app.config["RECOMPUTE_CHUNK_SIZE"]
    as_of, score_rules, stats = city_today(), rules(), RecomputeStats(last_citizen_id=start_after)
    for ids in _stream_ids(mode == "changed", chunk_size, start_after, citizen_ids):
        processed, changed = stats.processed, stats.changed
        _recompute_chunk(ids, as_of, score_rules, stats, reason)
        metrics.RECOMPUTED.labels("processed").inc(stats.processed - processed)
        metrics.RECOMPUTED.labels("changed").inc(stats.changed - changed)
        metrics.RECOMPUTE_LAST_ID.set(stats.last_citizen_id)
        if on_chunk:
            on_chunk(stats)
    # Marks of citizens without scoring consent would otherwise linger: no score is computed for them.
    without_consent = update(Citizen).where(Citizen.needs_recompute.is_(True), ~scoring_consent_clause())
    if citizen_ids is not None:
        without_consent = without_consent.where(Citizen.id.in_(citizen_ids))
    db.session.execute(without_consent.values(needs_recompute=False))
    db.session.commit()
    return stats


def recompute_citizen(citizen: Citizen, reason: str = "信用记录变更后重新计算") -> None:
    """Rescore one citizen at once (a single record change), or drop their score without consent."""
    if not has_consent(citizen.id, "scoring"):
        drop_score(citizen)
        db.session.commit()
        return
    stats = RecomputeStats()
    _recompute_chunk([citizen.id], city_today(), rules(), stats, reason)


def drop_score(citizen: Citizen) -> None:
    """Without scoring consent no score is kept or shown; its history stays for the audit of past decisions."""
    db.session.execute(delete(Score).where(Score.citizen_id == citizen.id))
    notify_scores_changed([citizen.id])


def current_score(citizen: Citizen) -> Score | None:
    return db.session.get(Score, citizen.id)


def history(citizen: Citizen, since=None) -> list[ScoreHistory]:
    stmt = select(ScoreHistory).where(ScoreHistory.citizen_id == citizen.id)
    if since is not None:
        stmt = stmt.where(ScoreHistory.computed_at >= since)
    return list(db.session.scalars(stmt.order_by(ScoreHistory.computed_at, ScoreHistory.id)))


def score_file(citizen: Citizen) -> dict:
    """A citizen's score as staff and the citizen see it: the stored score with its four dimensions, each
    record's contribution and until when it counts, how to improve, and the history of changes."""
    if not has_consent(citizen.id, "scoring"):
        raise ApiError(409, "no_scoring_consent", "该居民尚未授权信用评分，无法查看信用分。")
    stored = current_score(citizen)
    if stored is None:
        raise ApiError(404, "score_not_ready", "信用分正在计算中，请稍后再查看。")
    score_rules = rules()
    explanation = explain(citizen)
    return {
        "total": stored.total,
        "level": stored.level,
        "level_name": score_rules.level_name(stored.level),
        "restricted": stored.level == 0,
        "rules_version": stored.rules_version,
        "computed_at": stored.computed_at,
        "dimensions": [
            {"key": key, "name": dimension.name, "points": getattr(stored, key), "cap": dimension.cap}
            for key, dimension in score_rules.dimensions.items()
        ],
        "contributions": explanation.contributions,
        "hints": explanation.hints,
        "history": history(citizen),
    }
