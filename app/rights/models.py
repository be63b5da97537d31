"""Tables of citizen rights I: the working-day calendar, objection / repair cases, evidence, messages, alerts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.security.secrets_util import new_ref
from app.timeutil import UTCDateTime, utcnow

CASE_KINDS = ("objection", "repair")
OBJECTION_STATES = ("received", "answered", "upheld", "corrected", "dismissed", "withdrawn")
REPAIR_STATES = ("applied", "approved", "rejected")
OPEN_STATES = ("received", "answered", "applied")


class Holiday(db.Model):
    """One exception to the Monday-Friday week: a holiday (休) or a make-up working day (调休上班)."""

    __tablename__ = "holiday"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(default=False)
    name: Mapped[str] = mapped_column(String(32), default="")
    source: Mapped[str] = mapped_column(String(16), default="staff")  # "chinesecalendar" or "staff"
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CalendarYear(db.Model):
    """A year whose holidays are known (seeded from the package or confirmed by staff): its deadlines are final."""

    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(16), default="staff")
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RightsCase(db.Model):
    """An objection (异议) or a repair application (信用修复) about one record, on a working-day clock."""

    __tablename__ = "rights_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id", ondelete="CASCADE"))
    record_id: Mapped[int] = mapped_column(ForeignKey("credit_record.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    # Equals record_id while the case is open, NULL once closed: one open case per (kind, record), on every backend.
    open_record_id: Mapped[int | None] = mapped_column(Integer)
    reason_code: Mapped[str | None] = mapped_column(String(32))
    reason_text: Mapped[str] = mapped_column(Text, default="")
    # Repair: the signed 信用修复承诺 and its text version.
    commitment_version: Mapped[str | None] = mapped_column(String(32))
    commitment_text: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_on: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    deadline_provisional: Mapped[bool] = mapped_column(default=False)
    department_finding: Mapped[str | None] = mapped_column(Text)
    department_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_on: Mapped[date | None] = mapped_column(Date)
    # Corrected objections: the record's fields before and after.
    correction: Mapped[dict | None] = mapped_column(JSON)
    # Set by the deadline job: "due_soon" / "overdue" (NULL: on time or closed).
    deadline_flag: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("kind", "open_record_id", name="uq_rights_case_kind_open_record"),
        Index("ix_rights_case_citizen", "citizen_id"),
        Index("ix_rights_case_state_deadline", "state", "deadline"),
        Index("ix_rights_case_department", "department_id"),
        Index("ix_rights_case_record", "record_id"),
    )


class CaseEvent(db.Model):
    """The timeline of a case: who did what, when."""

    __tablename__ = "rights_case_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("rights_case.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_rights_case_event_case", "case_id"),)


class EvidenceFile(db.Model):
    """An evidence image of a case; the bytes live under EVIDENCE_DIR, never in the row."""

    __tablename__ = "evidence_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    case_id: Mapped[int] = mapped_column(ForeignKey("rights_case.id", ondelete="CASCADE"))
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id", ondelete="CASCADE"))
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_evidence_file_case", "case_id"),)


class Message(db.Model):
    """The citizen's message centre: the record of truth of every notice sent to them."""

    __tablename__ = "citizen_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(200))
    related_ref: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_citizen_message_citizen", "citizen_id", "id"),)


class MessageSubscription(db.Model):
    """The citizen accepted WeChat subscription messages (订阅消息) for this kind of notice."""

    __tablename__ = "message_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id", ondelete="CASCADE"))
    template: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("citizen_id", "template", name="uq_message_subscription_citizen_template"),)


class WeChatEcho(db.Model):
    """Outbox of WeChat subscription messages echoing a message-centre row; retried until sent or given up."""

    __tablename__ = "wechat_echo"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("citizen_message.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending / sent / failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("message_id", name="uq_wechat_echo_message_id"),
        Index("ix_wechat_echo_state_next", "state", "next_attempt_at"),
    )


class RightsAlert(db.Model):
    """An alert for staff: a case due tomorrow / overdue, or next year's calendar missing."""

    __tablename__ = "rights_alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    # What it is about and which occurrence: unique, so a job run twice writes one alert.
    subject: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(String(300))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("rights_case.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("kind", "subject", name="uq_rights_alert_kind_subject"),)


class EvidenceUpload(db.Model):
    """One evidence image uploaded ahead of a filing (WeChat's ``wx.uploadFile`` sends one file per request):
    owned by one citizen, named by an opaque id the filing then cites, usable once and only until it expires.
    ``used_for`` says what took it: an objection or a repair copies the file into the case (this one is then
    removed); a voluntary report ("voluntary:<ref>") keeps it as its evidence."""

    __tablename__ = "evidence_upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id", ondelete="CASCADE"))
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_for: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_evidence_upload_citizen", "citizen_id"),
        Index("ix_evidence_upload_expires", "expires_at"),
        Index("ix_evidence_upload_used_for", "used_for"),
    )
