"""全过程留痕: append to and verify the hash-chained audit trail.

Every read or change of a person's data by anyone but that person appends one entry in the same
transaction as the read or change, so the trail and the data cannot disagree.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from flask import g, has_app_context
from sqlalchemy import func, insert, select, text

from app.audit.models import AuditEntry
from app.extensions import db
from app.timeutil import utcnow

GENESIS_HASH = "0" * 64
# Any fixed number: all appenders of the trail serialise on this PostgreSQL advisory lock.
_CHAIN_LOCK_ID = 0x5A0C1A


@dataclass(frozen=True)
class Actor:
    type: str
    id: str


def current_actor() -> Actor:
    if has_app_context() and g.get("actor") is not None:
        return g.actor
    return Actor("system", "cli")


def _link_hash(prev_hash: str, seq: int, occurred_at: datetime, actor_type: str, actor_id: str,
               subject_id: int | None, action: str, reason: str, details: dict) -> str:
    payload = json.dumps(
        [seq, occurred_at.isoformat(), actor_type, actor_id, subject_id, action, reason, details],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def _lock_chain() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _CHAIN_LOCK_ID})


def append(subject_ids: Iterable[int | None], action: str, reason: str, details: dict | None = None,
           actor: Actor | None = None) -> int:
    """Append one entry per subject (same action) in the caller's transaction; returns how many."""
    subjects = list(subject_ids)
    if not subjects:
        return 0
    actor = actor or current_actor()
    details = details or {}
    _lock_chain()
    last = db.session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last.seq, last.hash) if last else (0, GENESIS_HASH)
    now = utcnow()
    rows = []
    for subject_id in subjects:
        seq += 1
        link = _link_hash(prev_hash, seq, now, actor.type, actor.id, subject_id, action, reason, details)
        rows.append({
            "seq": seq, "occurred_at": now, "actor_type": actor.type, "actor_id": actor.id,
            "subject_id": subject_id, "action": action, "reason": reason, "details": details,
            "prev_hash": prev_hash, "hash": link,
        })
        prev_hash = link
    # Core executemany: a city-wide recompute appends one entry per changed score.
    db.session.connection().execute(insert(AuditEntry.__table__), rows)
    return len(rows)


def log(subject_id: int | None, action: str, reason: str, details: dict | None = None,
        actor: Actor | None = None) -> None:
    append([subject_id], action, reason, details, actor)


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def _entries(batch: int = 5000) -> Iterator[AuditEntry]:
    after = 0
    while True:
        chunk = db.session.scalars(
            select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(batch)
        ).all()
        if not chunk:
            return
        yield from chunk
        after = chunk[-1].seq
        db.session.expunge_all()


def verify_chain() -> ChainReport:
    """Walk the whole trail; report the first link whose hash, predecessor or sequence does not hold."""
    prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    for entry in _entries():
        if entry.seq != expected_seq:
            return ChainReport(checked, entry.seq, f"sequence gap: expected {expected_seq}")
        if entry.prev_hash != prev_hash:
            return ChainReport(checked, entry.seq, "prev_hash does not match the previous entry")
        recomputed = _link_hash(prev_hash, entry.seq, entry.occurred_at, entry.actor_type, entry.actor_id,
                                entry.subject_id, entry.action, entry.reason, entry.details or {})
        if recomputed != entry.hash:
            return ChainReport(checked, entry.seq, "content does not match its hash")
        prev_hash, expected_seq, checked = entry.hash, expected_seq + 1, checked + 1
    return ChainReport(checked, None, None)


def entries_for_subject(subject_id: int, page: int, per_page: int) -> tuple[list[AuditEntry], int]:
    stmt = select(AuditEntry).where(AuditEntry.subject_id == subject_id)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    items = db.session.scalars(
        stmt.order_by(AuditEntry.seq.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return list(items), total or 0
