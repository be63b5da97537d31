"""Tables of credit commitments (信用承诺) and voluntary reports (自愿注册)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.security.secrets_util import new_ref
from app.timeutil import UTCDateTime, utcnow

COMMITMENT_STATUSES = ("active", "kept", "broken", "false")
COMMITMENT_SOURCES = ("citizen", "department", "repair")
VOLUNTARY_STATES = ("submitted", "accepted", "rejected")


class Commitment(db.Model):
    """One commitment of one citizen, from its making to kept / broken / false."""

    __tablename__ = "commitment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id", ondelete="CASCADE"))
    type_code: Mapped[str] = mapped_column(String(32))  # a code of the rules' commitment catalog
    status: Mapped[str] = mapped_column(String(16), default="active")
    source: Mapped[str] = mapped_column(String(16))  # citizen / department / repair
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))  # who registered it
    subject: Mapped[str | None] = mapped_column(String(200))  # 告知承诺: the matter promised
    text_version: Mapped[str] = mapped_column(String(32))
    text_body: Mapped[str] = mapped_column(Text)  # the exact text accepted
    rules_version: Mapped[str] = mapped_column(String(32))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)  # exclusive: the first day after the period
    # "<citizen id>:<type>" while active, NULL once closed: one active commitment per type per citizen.
    active_slot: Mapped[str | None] = mapped_column(String(64), unique=True)
    related_record_id: Mapped[int | None] = mapped_column(ForeignKey("credit_record.id", ondelete="SET NULL"))
    cause_record_id: Mapped[int | None] = mapped_column(ForeignKey("credit_record.id", ondelete="SET NULL"))
    outcome_record_id: Mapped[int | None] = mapped_column(ForeignKey("credit_record.id", ondelete="SET NULL"))
    closed_on: Mapped[date | None] = mapped_column(Date)
    closed_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_commitment_citizen", "citizen_id"),
        Index("ix_commitment_status_ends", "status", "ends_on"),
    )


class VoluntaryReport(db.Model):
    """自愿注册: a positive fact of the catalog a citizen reports with evidence and a signed truth commitment."""

    __tablename__ = "voluntary_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id", ondelete="CASCADE"))
    type_code: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    issuer: Mapped[str] = mapped_column(String(100))  # who certified it (血站, 志愿者协会, 表彰机关 …)
    certificate_no: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    commitment_version: Mapped[str] = mapped_column(String(32))
    commitment_text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="submitted")
    received_on: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    deadline_provisional: Mapped[bool] = mapped_column(default=False)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("credit_record.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_voluntary_report_citizen", "citizen_id"),
        Index("ix_voluntary_report_state_deadline", "state", "deadline"),
    )
