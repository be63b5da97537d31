from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import UTCDateTime, utcnow


class Score(db.Model):
    """A citizen's current score; one row per scored citizen."""

    __tablename__ = "score"

    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id", ondelete="CASCADE"), primary_key=True)
    total: Mapped[int]
    public: Mapped[int]
    law: Mapped[int]
    commitment: Mapped[int]
    honour: Mapped[int]
    level: Mapped[int]
    rules_version: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[date] = mapped_column(Date)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The first day on which this score can change by itself (a record starts or stops counting); None when no
    # date can change it. The nightly job rescores only citizens whose date has come (and marked ones).
    next_change: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (Index("ix_score_next_change", "next_change"),)


class ScoreHistory(db.Model):
    """Every change of a citizen's score, for the history chart and for audits of the rules."""

    __tablename__ = "score_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id", ondelete="CASCADE"))
    total: Mapped[int]
    public: Mapped[int]
    law: Mapped[int]
    commitment: Mapped[int]
    honour: Mapped[int]
    level: Mapped[int]
    rules_version: Mapped[str] = mapped_column(String(16))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_score_history_citizen_time", "citizen_id", "computed_at"),)
