"""全过程留痕: write, link and verify the hash-chained audit trail.

Every read or change of a person's data by anyone but that person writes one entry in the same transaction as the
read or change, so the trail and the data cannot disagree. Writing is one insert into ``audit_pending``: no lock,
no read. Linking used to happen right there (a city-wide advisory lock, the last link read, the chained rows
inserted), and the lock was held until the caller committed, so every audited request in the city queued behind
every other one.

Linking is now the chainer's job: ``chain_pending`` (the ``audit-chain`` scheduler job, every 5 seconds, and
``flask audit verify`` / ``flask audit chain``) takes the chain lock, reads the last link, moves pending entries in
id order into ``audit_entry`` with the next ``seq`` and their hashes, and deletes them from ``audit_pending``, in one
transaction per batch. A pending entry is already part of the trail a citizen sees, and it is sealed from its first
moment: ``append`` writes an HMAC of its content with it (``seal``), the chainer links only entries whose seal holds
(an entry changed while pending stays out of the chain and is logged), and ``verify_chain`` reports such entries.
An entry whose transaction commits after entries with higher ids were linked simply gets the next ``seq``: the chain
order is ``seq``, not the pending id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app, g, has_app_context
from sqlalchemy import Integer, cast, delete, func, insert, literal, null, select, text, union_all
from sqlalchemy.exc import IntegrityError

from app.audit.models import AuditCheckpoint, AuditEntry, PendingAuditEntry
from app.bulk import copy_rows, is_postgresql
from app.extensions import db
from app.timeutil import utcnow

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
# Any fixed number: all chainers of the trail serialise on this PostgreSQL advisory lock.
_CHAIN_LOCK_ID = 0x5A0C1A
# Below SQLite's bound-parameter limit (999 in older builds).
_DELETE_CHUNK = 900
# Rounds lost in a row to a concurrent chainer before giving up (each lost round means the other one progressed).
_MAX_COLLISIONS = 50

_CONTENT = ("occurred_at", "actor_type", "actor_id", "subject_id", "action", "reason", "details")


@dataclass(frozen=True)
class Actor:
    type: str
    id: str


def current_actor() -> Actor:
    if has_app_context() and g.get("actor") is not None:
        return g.actor
    return Actor("system", "cli")


def _link_hash(prev_hash: str, seq: int, occurred_at: datetime, actor_type: str, actor_id: str,
               subject_id: int | None, action: str, reason: str, details: dict | None) -> str:
    # astimezone(UTC): the chainer and the verifier may read timestamps in different session time zones; every
    # stored time is UTC, so this changes no payload, it only keeps them equal. Every field is hashed in its
    # canonical JSON form as stored: ``details`` null is not ``{}`` (the verifier must not default it).
    payload = json.dumps(
        [seq, occurred_at.astimezone(UTC).isoformat(), actor_type, actor_id, subject_id, action, reason, details],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def seal_of(occurred_at: datetime, actor_type: str, actor_id: str, subject_id: int | None, action: str, reason: str,
          details: dict | None) -> str:
    """The MAC an entry is written with (canonical as the link hash: UTC time, details as stored); a writer that
    inserts into ``audit_pending`` itself (the verification ledger's one-statement path) writes it too."""
    payload = json.dumps(
        [occurred_at.astimezone(UTC).isoformat(), actor_type, actor_id, subject_id, action, reason, details],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    )
    return hmac.new(current_app.config["AUDIT_SEAL_KEY_BYTES"], payload.encode(), hashlib.sha256).hexdigest()


def _seal_holds(row) -> bool:
    expected = seal_of(row.occurred_at, row.actor_type, row.actor_id, row.subject_id, row.action, row.reason,
                     row.details)
    return hmac.compare_digest(expected, row.seal or "")


def _lock_chain() -> None:
    # On SQLite the database's single writer serialises chainers instead, and the primary key on
    # audit_entry.seq turns a lost race into an IntegrityError (see chain_pending).
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _CHAIN_LOCK_ID})


_COPY_FROM = 200  # entries at once; below, one executemany costs less than setting up a COPY
_APPEND_COLUMNS = ("occurred_at", "actor_type", "actor_id", "subject_id", "action", "reason", "details", "seal")


def append(subject_ids: Iterable[int | None], action: str, reason: str, details: dict | None = None,
           actor: Actor | None = None) -> int:
    """Write one entry per subject (same action) in the caller's transaction; returns how many.

    The entries are linked into the hash chain later by ``chain_pending``.
    """
    subjects = list(subject_ids)
    if not subjects:
        return 0
    actor = actor or current_actor()
    details = details or {}
    now = utcnow()
    connection = db.session.connection()
    if len(subjects) >= _COPY_FROM and is_postgresql(connection):
        # A city-wide recompute writes one entry per changed score: COPY, the details serialised once.
        shared = json.dumps(details, ensure_ascii=False)
        return copy_rows(connection, PendingAuditEntry.__table__, _APPEND_COLUMNS,
                         ((now, actor.type, actor.id, subject_id, action, reason, shared,
                           seal_of(now, actor.type, actor.id, subject_id, action, reason, details))
                          for subject_id in subjects))
    rows = [{
        "occurred_at": now, "actor_type": actor.type, "actor_id": actor.id, "subject_id": subject_id,
        "action": action, "reason": reason, "details": details,
        "seal": seal_of(now, actor.type, actor.id, subject_id, action, reason, details),
    } for subject_id in subjects]
    connection.execute(insert(PendingAuditEntry.__table__), rows)
    return len(rows)


def log(subject_id: int | None, action: str, reason: str, details: dict | None = None,
        actor: Actor | None = None) -> None:
    append([subject_id], action, reason, details, actor)


def _chain_round(batch: int, unsealed: set[int]) -> int:
    """Link up to ``batch`` pending entries after the last link, in the session's transaction (not committed);
    returns how many it read. Entries whose seal does not hold are left pending and added to ``unsealed``."""
    _lock_chain()
    last = db.session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last.seq, last.hash) if last else (0, GENESIS_HASH)
    query = select(PendingAuditEntry.id, PendingAuditEntry.seal, *(getattr(PendingAuditEntry, name)
                                                                   for name in _CONTENT))
    if unsealed:
        query = query.where(PendingAuditEntry.id.notin_(unsealed))
    read = db.session.execute(query.order_by(PendingAuditEntry.id).limit(batch)).all()
    pending = [row for row in read if _seal_holds(row)]
    for row in read:
        if row.id not in {kept.id for kept in pending}:
            unsealed.add(row.id)
            logger.error("audit entry changed before it was linked: left out of the chain",
                         extra={"fields": {"pending_id": row.id}})
    if not pending:
        return len(read)
    rows = []
    for row in pending:
        seq += 1
        details = row.details or {}
        link = _link_hash(prev_hash, seq, row.occurred_at, row.actor_type, row.actor_id, row.subject_id,
                          row.action, row.reason, details)
        rows.append({
            "seq": seq, "occurred_at": row.occurred_at, "actor_type": row.actor_type, "actor_id": row.actor_id,
            "subject_id": row.subject_id, "action": row.action, "reason": row.reason, "details": details,
            "prev_hash": prev_hash, "hash": link,
        })
        prev_hash = link
    # Signed before the first write: on SQLite the write lock is held from the first insert to the commit.
    checkpoint = _signed_checkpoint(seq, prev_hash)
    connection = db.session.connection()
    connection.execute(insert(AuditEntry.__table__), rows)
    connection.execute(insert(AuditCheckpoint.__table__), [checkpoint])
    ids = [row.id for row in pending]
    for start in range(0, len(ids), _DELETE_CHUNK):
        connection.execute(delete(PendingAuditEntry.__table__)
                           .where(PendingAuditEntry.id.in_(ids[start:start + _DELETE_CHUNK])))
    return len(read)


# -- signed checkpoints -----------------------------------------------------------------------------------------

def checkpoint_payload(city: str, seq: int, head_hash: str, signed_at: datetime) -> bytes:
    """The canonical bytes a checkpoint's signature covers (what a holder verifies with the city's JWKS)."""
    return json.dumps({"city": city, "seq": seq, "head_hash": head_hash,
                       "signed_at": signed_at.astimezone(UTC).isoformat()},
                      sort_keys=True, separators=(",", ":")).encode()


def _signed_checkpoint(seq: int, head_hash: str) -> dict:
    """The checkpoint row for a new head. It is inserted in the transaction that links the head: a linked entry is
    never left without a checkpoint, so an entry after the latest checkpoint was not written by the chainer."""
    from flask import current_app

    from app.security.signing import b64url, keyring

    signed_at = utcnow().replace(microsecond=0)
    kid, signature = keyring().sign(checkpoint_payload(current_app.config["CITY_CODE"], seq, head_hash, signed_at))
    return {"seq": seq, "head_hash": head_hash, "signed_at": signed_at, "kid": kid, "signature": b64url(signature)}


def latest_checkpoint() -> dict | None:
    """The newest signed checkpoint as published: what a citizen's app or a partner can keep."""
    from flask import current_app

    row = db.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1)).first()
    if row is None:
        return None
    payload = checkpoint_payload(current_app.config["CITY_CODE"], row.seq, row.head_hash, row.signed_at)
    return {"city": current_app.config["CITY_CODE"], "seq": row.seq, "head_hash": row.head_hash,
            "signed_at": row.signed_at.astimezone(UTC).isoformat(), "kid": row.kid, "signature": row.signature,
            "payload": payload.decode()}


def _checkpoint_first_head() -> None:
    """A trail linked before checkpoints existed gets its first one for the head it has (once, ever): after that,
    only the chainer's own rounds sign, so nothing appended by hand is ever signed."""
    if db.session.scalar(select(func.count()).select_from(AuditCheckpoint)):
        return
    _lock_chain()
    last = db.session.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    if last is not None:
        db.session.connection().execute(insert(AuditCheckpoint.__table__), [_signed_checkpoint(last.seq, last.hash)])
    db.session.commit()


def chain_pending(batch: int = 5000) -> int:
    """Link every pending entry into the hash chain, one committed transaction per batch; returns how many.

    Commits the session: call it from a job or a command, never inside a request's transaction.
    """
    try:
        _checkpoint_first_head()
    except IntegrityError:
        db.session.rollback()  # another chainer signed it first
    linked = collisions = 0
    unsealed: set[int] = set()
    while True:
        try:
            left_out = len(unsealed)
            done = _chain_round(batch, unsealed)
            db.session.commit()
        except IntegrityError:
            # Another chainer took the same seq first (on SQLite; PostgreSQL's advisory lock prevents it): it made
            # progress, so read the new last link and try again.
            db.session.rollback()
            collisions += 1
            if collisions > _MAX_COLLISIONS:
                raise
            logger.info("audit chain: lost a round to a concurrent chainer, retrying")
            continue
        except BaseException:
            db.session.rollback()
            raise
        collisions = 0
        if not done:
            return linked
        linked += done - (len(unsealed) - left_out)


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None
    problem: str | None
    pending: int = 0  # entries written but not linked yet when the walk ended
    checkpoint: int | None = None  # the seq of the latest signed checkpoint the trail matched
    unsealed: tuple[int, ...] = ()  # pending entries (by id) whose seal no longer holds: changed before linking

    @property
    def ok(self) -> bool:
        return self.broken_at is None and not self.unsealed


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


def _unsealed_pending(batch: int = 5000) -> tuple[int, ...]:
    bad, after = [], 0
    while True:
        rows = db.session.execute(
            select(PendingAuditEntry.id, PendingAuditEntry.seal, *(getattr(PendingAuditEntry, name)
                                                                   for name in _CONTENT))
            .where(PendingAuditEntry.id > after).order_by(PendingAuditEntry.id).limit(batch)).all()
        if not rows:
            return tuple(bad)
        bad.extend(row.id for row in rows if not _seal_holds(row))
        after = rows[-1].id


def _pending_count() -> int:
    return db.session.scalar(select(func.count()).select_from(PendingAuditEntry)) or 0


def _bad_signatures(checkpoints: list[AuditCheckpoint]) -> AuditCheckpoint | None:
    from flask import current_app

    from app.security.signing import b64url_decode, keyring

    ring, city = keyring(), current_app.config["CITY_CODE"]
    for index, checkpoint in enumerate(checkpoints):
        known = ring.get(checkpoint.kid) is not None
        if not known and index < len(checkpoints) - 1:
            continue  # signed with a key retired since; the newest checkpoint must verify with a key we hold
        try:
            signature = b64url_decode(checkpoint.signature)
        except ValueError:
            return checkpoint
        payload = checkpoint_payload(city, checkpoint.seq, checkpoint.head_hash, checkpoint.signed_at)
        if not known or not ring.verify(checkpoint.kid, payload, signature):
            return checkpoint
    return None


def verify_chain() -> ChainReport:
    """Walk the whole linked trail; report the first link whose hash, predecessor or sequence does not hold, or that
    disagrees with the signed checkpoints.

    The checkpoints catch what a hash chain cannot: entries cut off its end (a checkpoint names a seq that is
    gone), a well-formed entry appended after the last checkpoint (the chainer signs every head it links), and a
    rewrite whose later hashes were all recomputed (the head at a checkpoint no longer matches its signed hash).
    Pending entries are checked against their seals; ``pending`` says how many there were, ``unsealed`` which were
    changed before they were linked.
    """
    checkpoints = list(db.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)))
    forged = _bad_signatures(checkpoints)
    if forged is not None:
        return ChainReport(0, forged.seq, f"the checkpoint at seq {forged.seq} has no valid signature of this city",
                           _pending_count())
    signed = {checkpoint.seq: checkpoint.head_hash for checkpoint in checkpoints}
    last_signed = checkpoints[-1].seq if checkpoints else None
    prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    for entry in _entries():
        if entry.seq != expected_seq:
            return ChainReport(checked, entry.seq, f"sequence gap: expected {expected_seq}", _pending_count())
        if entry.prev_hash != prev_hash:
            return ChainReport(checked, entry.seq, "prev_hash does not match the previous entry", _pending_count())
        recomputed = _link_hash(prev_hash, entry.seq, entry.occurred_at, entry.actor_type, entry.actor_id,
                                entry.subject_id, entry.action, entry.reason, entry.details)
        if recomputed != entry.hash:
            return ChainReport(checked, entry.seq, "content does not match its hash", _pending_count())
        if entry.seq in signed and signed[entry.seq] != entry.hash:
            return ChainReport(checked, entry.seq, "the head hash differs from the signed checkpoint at this seq "
                                                   "(entries up to here were rewritten)", _pending_count())
        if last_signed is not None and entry.seq > last_signed:
            return ChainReport(checked, entry.seq, f"entry after the last signed checkpoint (seq {last_signed}): "
                                                   "not linked by the chainer", _pending_count())
        prev_hash, expected_seq, checked = entry.hash, expected_seq + 1, checked + 1
    if last_signed is not None and last_signed >= expected_seq:
        return ChainReport(checked, expected_seq, f"the signed checkpoint at seq {last_signed} names entries from "
                                                  f"seq {expected_seq} on that are missing", _pending_count())
    return ChainReport(checked, None, None, _pending_count(), last_signed, _unsealed_pending())


@dataclass(frozen=True)
class TrailEntry:
    """One entry of a citizen's trail as they see it; ``seq`` is None while it is not linked yet."""

    seq: int | None
    occurred_at: datetime
    actor_type: str
    actor_id: str
    subject_id: int | None
    action: str
    reason: str
    details: dict


def entries_for_subject(subject_id: int, page: int, per_page: int) -> tuple[list[TrailEntry], int]:
    """One page of a subject's trail, newest first: pending entries (by id, descending), then linked ones (by seq,
    descending), with the total over both.

    The page is one statement over both tables, so a chainer committing meanwhile cannot show an entry twice or
    drop one within a page; and as it links the oldest pending entries into the newest seqs, an entry keeps its
    position (and page) across the move.
    """
    pending = select(
        literal(0, Integer).label("linked"), PendingAuditEntry.id.label("position"),
        cast(null(), Integer).label("seq"),
        *(getattr(PendingAuditEntry, name) for name in _CONTENT),
    ).where(PendingAuditEntry.subject_id == subject_id)
    linked = select(
        literal(1, Integer).label("linked"), AuditEntry.seq.label("position"), AuditEntry.seq,
        *(getattr(AuditEntry, name) for name in _CONTENT),
    ).where(AuditEntry.subject_id == subject_id)
    trail = union_all(pending, linked).subquery()
    total = db.session.scalar(
        select(select(func.count()).select_from(PendingAuditEntry)
               .where(PendingAuditEntry.subject_id == subject_id).scalar_subquery()
               + select(func.count()).select_from(AuditEntry)
               .where(AuditEntry.subject_id == subject_id).scalar_subquery())
    )
    rows = db.session.execute(
        select(trail).order_by(trail.c.linked, trail.c.position.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    items = [TrailEntry(row.seq, *(getattr(row, name) for name in _CONTENT[:-1]), row.details or {})
             for row in rows]
    return items, total or 0


def chain_counts() -> dict:
    """For the console's audit page: entries linked, entries waiting to be linked, the time of the last link."""
    return {"linked": db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
            "pending": _pending_count(),
            "last": db.session.scalar(select(func.max(AuditEntry.occurred_at)))}
