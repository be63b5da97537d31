from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import Department, DepartmentKey  # noqa: F401  (moved to app/auth; kept importable here)
from app.extensions import db
from app.security.secrets_util import new_ref
from app.timeutil import UTCDateTime, utcnow

RECORD_STATUSES = ("active", "disputed", "repaired", "revoked", "expired")


class Record(db.Model):
    """One public-credit record (归集) about one citizen, idempotent on (department, external id)."""

    __tablename__ = "credit_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    external_id: Mapped[str] = mapped_column(String(64))
    type_code: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="active")
    occurred_at: Mapped[date] = mapped_column(Date)
    expires_at: Mapped[date | None] = mapped_column(Date)
    incident_id: Mapped[str | None] = mapped_column(String(64))
    grade: Mapped[str | None] = mapped_column(String(8))
    quantity: Mapped[int] = mapped_column(default=1)
    summary: Mapped[str | None] = mapped_column(String(500))
    # Digest of what the department sent: a resend with the same digest changes nothing.
    content_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    department: Mapped[Department] = relationship()

    __table_args__ = (
        UniqueConstraint("department_id", "external_id", name="uq_credit_record_department_external"),
        Index("ix_credit_record_citizen", "citizen_id"),
    )


IMPORT_SOURCES = ("api", "file", "desk")
IMPORT_STATUSES = ("running", "done", "failed")


class ImportBatch(db.Model):
    """The summary of one delivery of records by a department (an API batch, a CSV file by `flask records import`
    or uploaded on the department desk): counts and the rejected rows (line/index, external id, code, message —
    never an ID number). ``processed_rows`` grows while a file is imported, for the desk's progress bar."""

    __tablename__ = "record_import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str | None] = mapped_column(String(200))
    started_by: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="running")
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    accepted: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    rejected_count: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[list] = mapped_column(JSON, default=list)  # at most REJECTED_KEPT entries
    recompute: Mapped[str] = mapped_column(String(16), default="none")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    department: Mapped[Department] = relationship()

    __table_args__ = (Index("ix_record_import_batch_department_time", "department_id", "created_at"),)


class PendingRecord(db.Model):
    """A record pushed for a person not (yet) in the registry: held, never dropped, and moved into
    ``credit_record`` when that person is registered (by the registry import or at the counter).

    The person is known only by the blind index of their ID number, as in ``citizen``; idempotent on
    (department, external id) like a record.
    """

    __tablename__ = "pending_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_index: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    external_id: Mapped[str] = mapped_column(String(64))
    type_code: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="active")
    occurred_at: Mapped[date] = mapped_column(Date)
    expires_at: Mapped[date | None] = mapped_column(Date)
    incident_id: Mapped[str | None] = mapped_column(String(64))
    grade: Mapped[str | None] = mapped_column(String(8))
    quantity: Mapped[int] = mapped_column(default=1)
    summary: Mapped[str | None] = mapped_column(String(500))
    content_digest: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("department_id", "external_id", name="uq_pending_record_department_external"),
        Index("ix_pending_record_id_index", "id_index"),
    )
