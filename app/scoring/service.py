"""Stored scores: recompute one citizen at once, or stream the whole city in chunks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import current_app
from sqlalchemy import ARRAY, Integer, any_, bindparam, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from app import metrics
from app.audit import service as audit
from app.bulk import copy_rows, is_postgresql
from app.citizens.models import Citizen
from app.citizens.service import has_consent, scoring_consent_clause
from app.errors import ApiError
from app.extensions import db
from app.records.catalog import rules
from app.records.models import Record
from app.scoring import streaming
from app.scoring.models import Score, ScoreHistory
from app.signals import consent_changed, notify_scores_changed, records_changed
from app.timeutil import city_today, utcnow
from score_model import RecordInput, Rules, ScoreResult, compute_score, compute_totals, next_change

# department_id is the record's source: incident ids are scoped to the department that sent them.
_RECORD_COLUMNS = (Record.citizen_id, Record.ref, Record.type_code, Record.status, Record.occurred_at,
                   Record.expires_at, Record.incident_id, Record.grade, Record.quantity, Record.department_id)
_SCORE_FIELDS = ("total", "public", "law", "commitment", "honour", "level")


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


MODES = ("all", "changed", "due")
# New scores in one chunk from which COPY pays (a city's first computation); below, and whenever a concurrent
# recompute got there first, the upsert, which two recomputes of one citizen can run at once.
_COPY_NEW_SCORES_FROM = 200
_SCORE_COLUMNS = ("citizen_id", *_SCORE_FIELDS, "rules_version", "as_of", "computed_at", "next_change")
_HISTORY_COLUMNS = ("citizen_id", *_SCORE_FIELDS, "rules_version", "computed_at")


def _upsert():
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(Score.__table__)
    return stmt.on_conflict_do_update(
        index_elements=[Score.citizen_id],
        set_={name: getattr(stmt.excluded, name) for name in _SCORE_COLUMNS[1:]},
        # A score computed since ``written_before`` came from newer records than these: it stays.
        where=Score.__table__.c.computed_at < bindparam("written_before"),
    ).returning(Score.citizen_id)


def _clear_marks(citizen_ids: list[int]) -> list[int]:
    """Clear the marks of these citizens; returns those that were marked.

    Cleared before their records are read: a batch that marks one of these citizens meanwhile waits on the row
    lock and re-marks after we commit, so its records are never lost between the read and the clear. Only
    marked rows are written: rewriting every row of the city would cost more than scoring it.
    """
    stmt = (update(Citizen).where(id_in(Citizen.id, citizen_ids), Citizen.needs_recompute)
            .values(needs_recompute=False))
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        return list(connection.execute(stmt.returning(Citizen.id)).scalars())
    connection.execute(stmt)
    return []


# ``written_before`` of a score read from the database in this transaction: any stored score may be replaced.
_ANY_TIME = datetime.max.replace(tzinfo=UTC)


def _recompute_chunk(citizen_ids: list[int], as_of: date, score_rules: Rules, stats: RecomputeStats,
                     reason: str, grouped: dict[int, list[RecordInput]] | None = None,
                     snapshot_at: datetime | None = None) -> None:
    """Score one chunk in one transaction; only scores that changed are written, audited and kept in history.

    ``grouped``: the chunk's records read beforehand by a streaming cursor whose snapshot was taken at
    ``snapshot_at``. The records of citizens marked since are read again here, after their marks are cleared. A
    citizen rescored since ``snapshot_at`` by another run (the every-few-seconds job, a single record) was scored
    from newer records than the cursor's: that score stays, here and in the writes (their upsert checks again).
    """
    marked = _clear_marks(citizen_ids)
    if grouped is None:
        grouped = records_of(citizen_ids)
    elif marked:
        grouped.update(records_of(marked))
    fresh = set(marked) if snapshot_at is not None else None
    current = {row[0]: row for row in db.session.connection().execute(
        select(Score.citizen_id, *(getattr(Score, f) for f in _SCORE_FIELDS), Score.rules_version,
               Score.next_change, Score.computed_at)
        .where(id_in(Score.citizen_id, citizen_ids)))}
    now = utcnow()
    version = score_rules.version
    new_rows, changed_rows, moved_dates = [], [], []
    for citizen_id in citizen_ids:
        old = current.get(citizen_id)
        written_before = _ANY_TIME if fresh is None or citizen_id in fresh else snapshot_at
        if old is not None and old[9] >= written_before:
            continue
        records = grouped.get(citizen_id, ())
        totals = compute_totals(records, as_of, score_rules)
        upcoming = next_change(records, as_of, score_rules)
        if old is not None and old[1:7] == totals and old[7] == version:
            if old[8] != upcoming:
                moved_dates.append({"cid": citizen_id, "day": upcoming, "written_before": written_before})
            continue
        row = (citizen_id, *totals, version, as_of, now, upcoming)
        (new_rows if old is None else changed_rows).append((row, written_before))
    written = _write_scores(new_rows, changed_rows, moved_dates, reason, version)
    db.session.commit()
    stats.processed += len(citizen_ids)
    stats.changed += written
    stats.last_citizen_id = citizen_ids[-1]


def _write_scores(new_rows: list[tuple], changed_rows: list[tuple], moved_dates: list[dict], reason: str,
                  version: str) -> int:
    """First scores by COPY (PostgreSQL), changed ones by upsert; each with its history row and audit entry.
    A score whose numbers stay but whose next-change date moves gets only the new date. Rows come with the time
    before which a stored score may be replaced (see ``_recompute_chunk``); returns how many scores were written."""
    connection = db.session.connection()
    upserts, copied = changed_rows, []
    if len(new_rows) >= _COPY_NEW_SCORES_FROM and is_postgresql(connection):
        try:
            with db.session.begin_nested():
                copy_rows(connection, Score.__table__, _SCORE_COLUMNS, (row for row, _ in new_rows))
            copied = [row for row, _ in new_rows]
        except IntegrityError:
            # Another recompute (the every-few-seconds job, a single record) scored one of them meanwhile.
            upserts = new_rows + changed_rows
    else:
        upserts = new_rows + changed_rows
    written = copied
    if upserts:
        by_citizen = {row[0]: row for row, _ in upserts}
        done = connection.execute(_upsert(), [{**dict(zip(_SCORE_COLUMNS, row, strict=True)),
                                               "written_before": written_before}
                                              for row, written_before in upserts]).scalars()
        written = copied + [by_citizen[citizen_id] for citizen_id in done]
    if moved_dates:
        connection.execute(update(Score.__table__).where(Score.citizen_id == bindparam("cid"),
                                                         Score.computed_at < bindparam("written_before"))
                           .values(next_change=bindparam("day")), moved_dates)
    if written:
        # History and score share their first columns: citizen, six numbers, rules version.
        copy_rows(connection, ScoreHistory.__table__, _HISTORY_COLUMNS, (row[:8] + (row[9],) for row in written))
        audit.append([row[0] for row in written], "score.recompute", reason, {"rules_version": version})
        notify_scores_changed(row[0] for row in written)
    return len(written)


def due_clause(as_of: date, version: str):
    """SQL condition: this citizen's stored score may differ from a fresh one (marked, missing, its next-change
    date has come, or computed by other rules)."""
    stored = select(Score.citizen_id).where(Score.citizen_id == Citizen.id)
    stale = stored.where(or_(Score.next_change <= as_of, Score.rules_version != version))
    return or_(Citizen.needs_recompute, ~stored.exists(), stale.exists())


def _stream_ids(mode: str, chunk_size: int, after: int, among: list[int] | None,
                as_of: date, version: str) -> Iterator[list[int]]:
    while True:
        stmt = select(Citizen.id).where(Citizen.id > after, scoring_consent_clause())
        if mode == "changed":
            # The bare column (not ``IS true``): PostgreSQL then reads the partial index of marked citizens.
            stmt = stmt.where(Citizen.needs_recompute)
        elif mode == "due":
            stmt = stmt.where(due_clause(as_of, version))
        if among is not None:
            stmt = stmt.where(Citizen.id.in_(among))
        ids = list(db.session.scalars(stmt.order_by(Citizen.id).limit(chunk_size)))
        if not ids:
            return
        yield ids
        after = ids[-1]


def recompute(mode: str = "changed", *, citizen_ids: list[int] | None = None, chunk_size: int | None = None,
              start_after: int = 0, reason: str = "信用记录变更后重新计算",
              on_chunk: Callable[[RecomputeStats], None] | None = None, as_of: date | None = None) -> RecomputeStats:
    """Recompute consenting citizens chunk by chunk: ``all`` of them, only those ``changed`` (marked by new
    records), or those ``due``: marked, unscored, past their score's next-change date, or scored by other rules.

    ``due`` gives the same scores as ``all`` (a score cannot change otherwise) and is what the nightly job runs.
    Each chunk commits on its own, so an interrupted run loses nothing and can be re-run (or resumed with
    ``start_after``); memory holds one chunk at a time whatever the city's size. On PostgreSQL the city-wide
    modes read every record through one streaming cursor in citizen order.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    chunk_size = chunk_size or current_app.config["RECOMPUTE_CHUNK_SIZE"]
    as_of, score_rules = as_of or city_today(), rules()
    stats = RecomputeStats(last_citizen_id=start_after)
    if mode != "changed" and citizen_ids is None and db.session.get_bind().dialect.name == "postgresql":
        chunks = streaming.stream_city(mode == "due", chunk_size, start_after, as_of, score_rules.version)
    else:
        chunks = ((ids, None, None) for ids in _stream_ids(mode, chunk_size, start_after, citizen_ids, as_of,
                                                           score_rules.version))
    with streaming.few_collections():
        for ids, grouped, snapshot_at in chunks:
            processed, changed = stats.processed, stats.changed
            _recompute_chunk(ids, as_of, score_rules, stats, reason, grouped, snapshot_at)
            metrics.RECOMPUTED.labels("processed").inc(stats.processed - processed)
            metrics.RECOMPUTED.labels("changed").inc(stats.changed - changed)
            metrics.RECOMPUTE_LAST_ID.set(stats.last_citizen_id)
            streaming.few_collections.after_chunk()
            if on_chunk:
                on_chunk(stats)
    # Marks of citizens without scoring consent would otherwise linger: no score is computed for them.
    without_consent = update(Citizen).where(Citizen.needs_recompute, ~scoring_consent_clause())
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


# What the layers below announce (app/signals.py), right after their commit: the score follows at once.

def _on_records_changed(_app, citizen_ids: list[int], **_) -> bool:
    recompute("changed", citizen_ids=citizen_ids)
    return True


def _on_consent_changed(_app, citizen_id: int, kind: str, reason: str, **_) -> None:
    if kind == "scoring":
        recompute_citizen(db.session.get(Citizen, citizen_id), reason=reason)


records_changed.connect(_on_records_changed)
consent_changed.connect(_on_consent_changed)
