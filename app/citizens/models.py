from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.security.secrets_util import new_ref
from app.timeutil import UTCDateTime, utcnow

CONSENT_KINDS = ("scoring", "partner_sharing", "raw_score_sharing")
# In the population registry (人口库): listed, moved away, deceased; "unlisted" when a full registry import no
# longer lists someone it did before (the registry gave no reason). A status never deletes anyone's history.
CITIZEN_STATUSES = ("active", "moved", "deceased", "unlisted")


class Citizen(db.Model):
    __tablename__ = "citizen"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    name: Mapped[str] = mapped_column(String(64))
    id_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    id_index: Mapped[str] = mapped_column(String(64), unique=True)
    id_masked: Mapped[str] = mapped_column(String(18))
    phone_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_masked: Mapped[str | None] = mapped_column(String(16))
    birth_date: Mapped[date] = mapped_column(Date)
    # Set when a record changes in a batch; cleared by the recompute that has taken it into account.
    needs_recompute: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    # Keyed digest of what the registry import last wrote (name, phone, status): a re-import rewrites only
    # the rows whose digest differs. None for citizens registered at the counter.
    registry_digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    consents: Mapped[list[Consent]] = relationship(back_populates="citizen", order_by="Consent.granted_at")

    # Partial: the job that rescores marked citizens runs every few seconds, and when nothing is marked its
    # query reads an empty index instead of the city.
    __table_args__ = (Index("ix_citizen_marked", "id", postgresql_where=text("needs_recompute"),
                            sqlite_where=text("needs_recompute")),)


class Consent(db.Model):
    """One grant of one kind of consent; withdrawing stamps ``withdrawn_at`` and a new grant adds a row."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(32))

    citizen: Mapped[Citizen] = relationship(back_populates="consents")

    __table_args__ = (Index("ix_consent_citizen_kind", "citizen_id", "kind"),)
