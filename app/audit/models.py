from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import UTCDateTime


class AuditEntry(db.Model):
    """全过程留痕: one link of the append-only, hash-chained trail of reads and changes of personal data.

    Rows come only from the chainer (``app.audit.service.chain_pending``), which moves entries out of
    ``audit_pending`` and links them; they are never updated. ``seq`` is assigned by the chainer (not a database
    sequence) so the chain order is explicit and two concurrent chainers collide on the primary key instead of
    forking the chain.
    """

    __tablename__ = "audit_entry"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_type: Mapped[str] = mapped_column(String(16))  # staff, department, job, merchant, partner, citizen, system
    actor_id: Mapped[str] = mapped_column(String(64))
    # The citizen's internal id; no foreign key, so the trail outlives any deletion it records.
    subject_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_entry_subject", "subject_id", "seq"),)


class PendingAuditEntry(db.Model):
    """An audit entry written but not yet linked into the hash chain.

    ``audit.append`` inserts here, in the transaction of the read or change it records, with no lock and no read;
    the ``audit-chain`` job moves rows into ``audit_entry`` (in id order, each given the next ``seq`` and hash)
    within seconds and deletes them here. Until then an entry is part of the trail (citizens see it), tamper-evident
    through its seal.
    """

    __tablename__ = "audit_pending"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(64))
    # As in AuditEntry: no foreign key.
    subject_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    # HMAC-SHA256 of the content, written with it (key: AUDIT_SEAL_KEY or keys/audit_seal_key): an entry changed
    # before the chainer links it no longer matches, so the chainer leaves it out and ``flask audit verify`` says so.
    seal: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_pending_subject", "subject_id"),)


class AuditCheckpoint(db.Model):
    """A signed tree head of the trail: the chain's sequence number and head hash, signed with the city's Ed25519
    key in the transaction that linked them (the way Certificate Transparency's signed tree heads work).

    Kept outside ``audit_entry`` so rewriting the trail and recomputing its hashes does not rewrite these, and
    published (``GET /api/v1/audit/checkpoint``) so a citizen's app or a partner can hold one: a trail cut short,
    extended or rewritten no longer matches a checkpoint someone holds."""

    __tablename__ = "audit_checkpoint"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    head_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kid: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))  # base64url, no padding
