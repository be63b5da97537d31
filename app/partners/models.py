"""Partner cities: the registry, attestations we issued, revocations we pulled, receipts in and out, reports."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, LargeBinary, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.security.secrets_util import new_ref
from app.timeutil import UTCDateTime, utcnow

PARTNER_STATUSES = ("active", "suspended")
# What a partner takes from us: the SD-JWT VC (RFC 9901, draft-ietf-oauth-sd-jwt-vc) or, until
# PARTNER_LEGACY_JWS_UNTIL, the compact JWS of protocol xyf-partner/1.
CREDENTIAL_FORMATS = ("jws", "sd-jwt-vc")
REPORT_STATUSES = ("matched", "mismatched", "retry")
RECEIPT_STATUSES = ("redeemed", "cancelled")


class Partner(db.Model):
    """A partner city of the alliance, identified by its administrative division code (杭州 330100 …)."""

    __tablename__ = "partner"

    id: Mapped[int] = mapped_column(primary_key=True)
    city_code: Mapped[str] = mapped_column(String(6), unique=True)
    city_name: Mapped[str] = mapped_column(String(32))
    score_name: Mapped[str] = mapped_column(String(32))
    # Native scale and where each of L1–L5 starts on it; None while the partner has not told us (placeholders).
    scale_min: Mapped[int | None]
    scale_max: Mapped[int | None]
    cutoffs: Mapped[list | None] = mapped_column(JSON)
    scale_confirmed: Mapped[bool] = mapped_column(default=False)
    scale_note: Mapped[str] = mapped_column(String(200), default="")
    # Their public keys: inline, or fetched from jwks_url (then kept here as the last good copy).
    jwks: Mapped[dict | None] = mapped_column(JSON)
    jwks_url: Mapped[str | None] = mapped_column(String(500))
    jwks_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    api_base_url: Mapped[str | None] = mapped_column(String(500))  # e.g. https://xy.hangzhou.gov.cn/partner/v1
    # Key of the pairwise pseudonyms we give our citizens for this partner; AES-GCM under the PII key.
    pseudonym_key_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="active")
    credential_format: Mapped[str] = mapped_column(String(16), default="jws", server_default="jws")
    revocations_cursor: Mapped[str | None] = mapped_column(String(200))  # where we are in their feed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Attestation(db.Model):
    """An attestation we issued to one of our citizens for one partner; revoked ones feed the partner's pull."""

    __tablename__ = "partner_attestation"

    id: Mapped[int] = mapped_column(primary_key=True)
    jti: Mapped[str] = mapped_column(String(32), unique=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id", ondelete="CASCADE"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(64))  # the pairwise pseudonym it carries
    level: Mapped[int]
    score_included: Mapped[bool] = mapped_column(default=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(String(32))
    # Position in the revocation feed; assigned in commit order (under a lock), so a cursor never skips one.
    revocation_seq: Mapped[int | None] = mapped_column(unique=True)
    credential_format: Mapped[str] = mapped_column(String(16), default="jws", server_default="jws")
    name_included: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Its entry in a Token Status List (SD-JWT VC only): list number and index, never reused.
    status_list_id: Mapped[int | None] = mapped_column(ForeignKey("partner_status_list.id"))
    status_idx: Mapped[int | None]

    partner: Mapped[Partner] = relationship()

    __table_args__ = (
        Index("ix_partner_attestation_citizen", "citizen_id", "revoked_at"),
        Index("ix_partner_attestation_feed", "partner_id", "revocation_seq"),
        UniqueConstraint("status_list_id", "status_idx", name="uq_partner_attestation_status_entry"),
    )


class StatusList(db.Model):
    """One Token Status List (draft-ietf-oauth-status-list), served at /partner/v1/status-lists/<id>.

    ``next_index`` is handed out by one conditional UPDATE (row lock on PostgreSQL, the single writer on
    SQLite), so no two attestations share an index and none is reused; a full list is followed by a new one.
    """

    __tablename__ = "partner_status_list"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    bits: Mapped[int] = mapped_column(default=1)
    size: Mapped[int]
    next_index: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PulledRevocation(db.Model):
    """A partner's attestation that its home city revoked (pulled from its feed); refused here from then on."""

    __tablename__ = "partner_revocation"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"))
    jti: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(32))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("partner_id", "jti"),)


class ReceiptOutbox(db.Model):
    """A redemption here by a partner's citizen that the home city must hear about (best effort, then retried).

    The receipt is rebuilt from the redemption at each send, so a cancellation only needs the row marked unsent.
    """

    __tablename__ = "partner_receipt_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"))
    redemption_id: Mapped[int] = mapped_column(ForeignKey("benefit_redemption.id", ondelete="CASCADE"), unique=True)
    token_kind: Mapped[str] = mapped_column(String(16))  # attestation | credit_code
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_partner_receipt_outbox_pending", "partner_id", "delivered_at"),)


class Receipt(db.Model):
    """A partner's receipt for a redemption there by one of our citizens: our own record of it."""

    __tablename__ = "partner_receipt"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"))
    receipt_id: Mapped[str] = mapped_column(String(64))  # their redemption id
    kind: Mapped[str] = mapped_column(String(16))  # attestation | credit_code
    jti: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64))
    # Our citizen, when the token is one we can trace (the attestation's row, the credit code's subject).
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id", ondelete="SET NULL"))
    scene_code: Mapped[str] = mapped_column(String(32))
    scene_name: Mapped[str] = mapped_column(String(32), default="")
    merchant_name: Mapped[str] = mapped_column(String(100), default="")
    offer_title: Mapped[str] = mapped_column(String(100), default="")
    city_day: Mapped[date] = mapped_column(Date)
    redeemed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("partner_id", "receipt_id"),
        Index("ix_partner_receipt_day", "partner_id", "city_day"),
        Index("ix_partner_receipt_citizen", "citizen_id"),
    )


class ReconciliationReport(db.Model):
    """One partner, one day: their count of our citizens' redemptions there against our receipts, by scene."""

    __tablename__ = "partner_reconciliation"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"))
    city_day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # matched | mismatched | retry
    rows: Mapped[list] = mapped_column(JSON, default=list)
    errors: Mapped[list] = mapped_column(JSON, default=list)
    theirs_total: Mapped[int | None]
    ours_total: Mapped[int | None]
    revocations_pulled: Mapped[int] = mapped_column(default=0)
    receipts_sent: Mapped[int] = mapped_column(default=0)
    runs: Mapped[int] = mapped_column(default=1)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    partner: Mapped[Partner] = relationship()

    __table_args__ = (UniqueConstraint("partner_id", "city_day"),)
