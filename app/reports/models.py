from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import UTCDateTime, utcnow


class CreditReport(db.Model):
    """One issued 个人信用报告: what it disclosed (a snapshot, so verification shows what the paper shows, not
    today's score), for which purpose, until when, and the signed PDF exactly as issued (its bytes' hash is what
    an uploaded copy is checked against)."""

    __tablename__ = "credit_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Opaque and unguessable (printed, in the QR's URL); never the sequence number.
    number: Mapped[str] = mapped_column(String(24), unique=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))  # credit_loan, job, rental, other
    purpose_text: Mapped[str | None] = mapped_column(String(40))  # what "other" means, in the citizen's words
    scope: Mapped[str] = mapped_column(String(16))  # level, level_score, full
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the report shows about its holder and their standing, as printed.
    masked_name: Mapped[str] = mapped_column(String(64))
    masked_id_number: Mapped[str] = mapped_column(String(18))
    level: Mapped[int] = mapped_column(Integer)
    level_name: Mapped[str] = mapped_column(String(16))
    total: Mapped[int | None] = mapped_column(Integer)  # only when the scope shows the score
    rules_version: Mapped[str] = mapped_column(String(16))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    verifications: Mapped[int] = mapped_column(Integer, default=0)
    last_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_credit_report_citizen", "citizen_id", "issued_at"),
        Index("ix_credit_report_issued", "issued_at", "purpose"),
    )
