"""信易+ catalog (scenes, merchants, branches, terminals, offers) and the redemption ledger."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    Table,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.security.secrets_util import new_ref
from app.timeutil import UTCDateTime, utcnow

MERCHANT_STATUSES = ("active", "suspended")
OFFER_STATUSES = ("active", "paused")
SCENE_PROVIDERS = ("government", "alliance")  # 政府部门提供 / 信用惠民联盟商户提供

merchant_scene = Table(
    "benefit_merchant_scene",
    db.metadata,
    Column("merchant_id", ForeignKey("benefit_merchant.id", ondelete="CASCADE"), primary_key=True),
    Column("scene_id", ForeignKey("benefit_scene.id", ondelete="CASCADE"), primary_key=True),
)

# An offer with no rows here applies at every branch of its merchant.
offer_branch = Table(
    "benefit_offer_branch",
    db.metadata,
    Column("offer_id", ForeignKey("benefit_offer.id", ondelete="CASCADE"), primary_key=True),
    Column("branch_id", ForeignKey("benefit_branch.id", ondelete="CASCADE"), primary_key=True),
)


class Scene(db.Model):
    """A 信易+ scene (信易游, 信易行 …); the 13 of the plan are seeded by the migration, staff add more."""

    __tablename__ = "benefit_scene"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(200), default="")
    provider: Mapped[str] = mapped_column(String(16), default="alliance")
    sort_order: Mapped[int] = mapped_column(default=100)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Merchant(db.Model):
    """A member of the 信用惠民联盟 (or a government service granting 信易批 / 信易管)."""

    __tablename__ = "benefit_merchant"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    name: Mapped[str] = mapped_column(String(100))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)  # 统一社会信用代码 (GB 32100)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    scenes: Mapped[list[Scene]] = relationship(secondary=merchant_scene, order_by="Scene.sort_order")
    branches: Mapped[list[Branch]] = relationship(back_populates="merchant", order_by="Branch.id")


class Branch(db.Model):
    __tablename__ = "benefit_branch"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("benefit_merchant.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(200))
    # GCJ-02 (what WeChat's wx.getLocation and Chinese maps give), degrees; both or neither.
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    merchant: Mapped[Merchant] = relationship(back_populates="branches")

    __table_args__ = (Index("ix_benefit_branch_merchant", "merchant_id"),)


class Terminal(db.Model):
    """A scanner account of a merchant; its API key is kept only as a SHA-256 digest."""

    __tablename__ = "benefit_terminal"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("benefit_merchant.id", ondelete="CASCADE"))
    # A terminal fixed at one branch may only redeem there; None: any branch of its merchant.
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("benefit_branch.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    key_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    merchant: Mapped[Merchant] = relationship()
    branch: Mapped[Branch | None] = relationship()

    __table_args__ = (Index("ix_benefit_terminal_merchant", "merchant_id"),)


class Offer(db.Model):
    """A merchant's concrete benefit in one scene, with who qualifies, how often, how many, when and where."""

    __tablename__ = "benefit_offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("benefit_merchant.id", ondelete="CASCADE"))
    scene_id: Mapped[int] = mapped_column(ForeignKey("benefit_scene.id"))
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(1000), default="")
    min_level: Mapped[int] = mapped_column(default=1)
    min_score: Mapped[int | None]
    partner_allowed: Mapped[bool] = mapped_column(default=False)  # 互认: partner-city citizens qualify
    partner_min_level: Mapped[int | None]
    limit_per_day: Mapped[int | None]
    limit_per_month: Mapped[int | None]
    limit_total: Mapped[int | None]
    quota: Mapped[int | None]
    # Redemptions not cancelled; changed only under the offer's row lock, and the check keeps it in the quota.
    redeemed_count: Mapped[int] = mapped_column(default=0)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)  # inclusive, city time
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    merchant: Mapped[Merchant] = relationship()
    scene: Mapped[Scene] = relationship()
    branches: Mapped[list[Branch]] = relationship(secondary=offer_branch, order_by="Branch.id")

    __table_args__ = (
        CheckConstraint("quota IS NULL OR redeemed_count <= quota", name="within_quota"),
        CheckConstraint("redeemed_count >= 0", name="redeemed_not_negative"),
        Index("ix_benefit_offer_merchant", "merchant_id"),
        Index("ix_benefit_offer_scene", "scene_id"),
    )


class Subject(db.Model):
    """The pseudonymous subject a credit code carries instead of anything identifying (stable per citizen)."""

    __tablename__ = "benefit_subject"

    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id", ondelete="CASCADE"), primary_key=True)
    subject: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Redemption(db.Model):
    """One use of one offer by one citizen with one credit code; a code redeems once (unique ``code_id``).

    The holder is one of ours (``citizen_id``) or a partner city's citizen, known only by the issuing city and
    the pseudonym its token carries (``partner_id``, ``partner_subject``); a partner's token id is stored as
    ``<issuer city>:<jti>`` so that no issuer can collide with another's ids.
    """

    __tablename__ = "benefit_redemption"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    code_id: Mapped[str] = mapped_column(String(64), unique=True)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id", ondelete="CASCADE"))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"))
    partner_subject: Mapped[str | None] = mapped_column(String(64))
    offer_id: Mapped[int] = mapped_column(ForeignKey("benefit_offer.id", ondelete="CASCADE"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("benefit_merchant.id", ondelete="CASCADE"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("benefit_branch.id", ondelete="CASCADE"))
    terminal_id: Mapped[int] = mapped_column(ForeignKey("benefit_terminal.id", ondelete="CASCADE"))
    city_day: Mapped[date] = mapped_column(Date)  # Asia/Shanghai date: per-day limits and daily totals
    redeemed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    offer: Mapped[Offer] = relationship()
    branch: Mapped[Branch] = relationship()

    __table_args__ = (
        Index("ix_benefit_redemption_usage", "offer_id", "citizen_id", "city_day"),
        Index("ix_benefit_redemption_merchant_day", "merchant_id", "city_day"),
        Index("ix_benefit_redemption_citizen", "citizen_id", "redeemed_at"),
        # Partial: our own citizens' redemptions (nearly all) need no entry in the partner indexes.
        Index("ix_benefit_redemption_partner_usage", "offer_id", "partner_id", "partner_subject", "city_day",
              postgresql_where=text("partner_id IS NOT NULL"), sqlite_where=text("partner_id IS NOT NULL")),
        Index("ix_benefit_redemption_partner_day", "partner_id", "city_day",
              postgresql_where=text("partner_id IS NOT NULL"), sqlite_where=text("partner_id IS NOT NULL")),
        CheckConstraint("(citizen_id IS NULL) <> (partner_id IS NULL)", name="one_holder"),
    )


class Attempt(db.Model):
    """The ledger of every verification a terminal asked for, with its answer."""

    __tablename__ = "benefit_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    city_day: Mapped[date] = mapped_column(Date)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("benefit_terminal.id", ondelete="CASCADE"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("benefit_merchant.id", ondelete="CASCADE"))
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("benefit_offer.id", ondelete="SET NULL"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("benefit_branch.id", ondelete="SET NULL"))
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id", ondelete="SET NULL"))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id", ondelete="SET NULL"))
    code_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))
    eligible: Mapped[bool]
    redemption_id: Mapped[int | None] = mapped_column(ForeignKey("benefit_redemption.id", ondelete="SET NULL"))

    __table_args__ = (
        Index("ix_benefit_attempt_merchant_day", "merchant_id", "city_day"),
        Index("ix_benefit_attempt_day_reason", "city_day", "reason"),
        Index("ix_benefit_attempt_citizen", "citizen_id"),
    )
