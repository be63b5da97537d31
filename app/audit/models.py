from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import UTCDateTime


class AuditEntry(db.Model):
    """全过程留痕: one link of the append-only, hash-chained trail of reads and changes of personal data.

    ``seq`` is assigned by the appender (not a database sequence) so the chain order is explicit and two
    concurrent appenders collide on the primary key instead of forking the chain.
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
