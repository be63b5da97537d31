"""社区版 / 乡村版 credit points: divisions, schemes and their rulebooks, households and members, the points ledger,
the 积分超市 (catalog and redemptions), desk accounts and year-end ratings.

The ledger is apart from the 信用分: nothing here is read by the score engine. A rating reaches the score only as a
credit record pushed through app/records (see ``ratings``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.security.secrets_util import new_ref
from app.timeutil import UTCDateTime, utcnow

DIVISION_KINDS = ("村", "社区")
RULEBOOK_STATES = ("pending", "approved", "rejected")
CAP_PERIODS = ("month", "quarter", "year")
# declared (by the member, awaiting review) -> publicised (approved, shown for 公示) -> posted (counts in the
# balance); objected (a member objected during 公示: the reviewer decides) ; rejected (never counts).
ENTRY_STATES = ("declared", "publicised", "objected", "posted", "rejected")
ENTRY_KINDS = ("earn", "deduct", "spend")
WORKER_ROLES = ("grid", "reviewer", "counter", "manager")
REDEMPTION_STATES = ("issued", "redeemed")


class Division(db.Model):
    """A village (村) or community (社区) of the city, from the statistical division file (统计用区划代码)."""

    __tablename__ = "division"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    town: Mapped[str] = mapped_column(String(64))  # 镇 / 街道
    county: Mapped[str] = mapped_column(String(64))  # 区 / 县级市 / 县
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Scheme(db.Model):
    """One village's or community's points scheme (文明银行 / 有礼积分 …)."""

    __tablename__ = "points_scheme"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    division_id: Mapped[int] = mapped_column(ForeignKey("division.id"), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    publicity_days: Mapped[int] = mapped_column(default=5)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    division: Mapped[Division] = relationship()


class Rulebook(db.Model):
    """One version of a scheme's 村规民约 / 社区公约 points items; counts only once staff approved it."""

    __tablename__ = "points_rulebook"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("points_scheme.id", ondelete="CASCADE"))
    version: Mapped[int]
    adopted_on: Mapped[date] = mapped_column(Date)
    adopted_by: Mapped[str] = mapped_column(String(64))  # 村民会议 / 村民代表会议 / 居民会议
    state: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list[RuleItem]] = relationship(back_populates="rulebook", order_by="RuleItem.id")

    __table_args__ = (UniqueConstraint("scheme_id", "version", name="uq_points_rulebook_scheme_version"),)


class RuleItem(db.Model):
    __tablename__ = "points_rule_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    rulebook_id: Mapped[int] = mapped_column(ForeignKey("points_rulebook.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(16))
    points: Mapped[int]  # per unit (an hour of volunteering, one occasion); negative for a deduction
    unit: Mapped[str] = mapped_column(String(8), default="次")
    cap_points: Mapped[int | None]  # most points one member can earn from it per period (positive items)
    cap_period: Mapped[str] = mapped_column(String(8), default="month")
    evidence_required: Mapped[bool] = mapped_column(default=False)

    rulebook: Mapped[Rulebook] = relationship(back_populates="items")

    __table_args__ = (UniqueConstraint("rulebook_id", "code", name="uq_points_rule_item_rulebook_code"),
                      CheckConstraint("points <> 0", name="points_nonzero"))


class Household(db.Model):
    __tablename__ = "points_household"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("points_scheme.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))  # 户名, e.g. 王建国户
    grid: Mapped[str] = mapped_column(String(32), default="")  # 网格
    show_on_honour_board: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_points_household_scheme", "scheme_id"),)


class Member(db.Model):
    """A person in a household; ``balance`` is the sum of their posted ledger entries, kept in the same
    transaction as every posting and spending (read in constant time)."""

    __tablename__ = "points_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("points_scheme.id", ondelete="CASCADE"))
    household_id: Mapped[int] = mapped_column(ForeignKey("points_household.id", ondelete="CASCADE"))
    # One scheme per person: where they live.
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id", ondelete="CASCADE"), unique=True)
    is_head: Mapped[bool] = mapped_column(default=False)
    balance: Mapped[int] = mapped_column(default=0)
    show_on_honour_board: Mapped[bool] = mapped_column(default=False)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_points_member_scheme", "scheme_id"), Index("ix_points_member_household",
                                                                          "household_id"))


class Worker(db.Model):
    """A desk account of a scheme: 网格员 (grid), 审核员 (reviewer), 积分超市 counter, or manager (all three)."""

    __tablename__ = "points_worker"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("points_scheme.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    grid: Mapped[str] = mapped_column(String(32), default="")
    # The worker as a resident (their own household is never theirs to approve).
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Entry(db.Model):
    """One ledger entry. Its points never change; only its state moves forward (see ENTRY_STATES)."""

    __tablename__ = "points_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("points_scheme.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("points_member.id", ondelete="CASCADE"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("points_rule_item.id"))
    catalog_item_id: Mapped[int | None] = mapped_column(ForeignKey("points_catalog_item.id"))
    kind: Mapped[str] = mapped_column(String(8))
    points: Mapped[int]
    quantity: Mapped[int] = mapped_column(default=1)
    occurred_on: Mapped[date] = mapped_column(Date)
    period: Mapped[str] = mapped_column(String(8))  # the cap period it falls in: 2026-05, 2026-Q2, 2026
    note: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(16))
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("points_worker.id"))  # None: the member declared
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("points_worker.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    publicity_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(String(200))
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_points_entry_member_item_period", "member_id", "item_id", "period"),
        Index("ix_points_entry_scheme_state", "scheme_id", "state"),
        Index("ix_points_entry_due", "publicity_ends_at", postgresql_where=text("state = 'publicised'"),
              sqlite_where=text("state = 'publicised'")),
    )


class Evidence(db.Model):
    """A photo behind an entry. A content hash is unique city-wide: one photo backs one entry."""

    __tablename__ = "points_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    entry_id: Mapped[int] = mapped_column(ForeignKey("points_entry.id", ondelete="CASCADE"))
    scheme_id: Mapped[int] = mapped_column(ForeignKey("points_scheme.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    phash: Mapped[str] = mapped_column(String(16))  # 64-bit difference hash, hex
    content_type: Mapped[str] = mapped_column(String(32))
    stored_name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_points_evidence_scheme", "scheme_id"),)


class Objection(db.Model):
    """A member's objection to an entry during its 公示."""

    __tablename__ = "points_objection"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    entry_id: Mapped[int] = mapped_column(ForeignKey("points_entry.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("points_member.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(16), default="open")  # open, upheld, dismissed
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("points_worker.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("entry_id", "member_id", name="uq_points_objection_entry_member"),)


class CatalogItem(db.Model):
    """A good or service of the scheme's 积分超市, with its points price and stock (None: a service without stock)."""

    __tablename__ = "points_catalog_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("points_scheme.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))  # goods / service
    price: Mapped[int]
    stock: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (CheckConstraint("price > 0", name="price_positive"),
                      CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"))


class Redemption(db.Model):
    """A member's redeem code for one catalog item, spent once at the counter (its spending entry's idempotency
    key is the code, so the database refuses a second spending even if the key-value store forgot the first)."""

    __tablename__ = "points_redemption"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("points_scheme.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("points_member.id", ondelete="CASCADE"))
    catalog_item_id: Mapped[int] = mapped_column(ForeignKey("points_catalog_item.id"))
    price: Mapped[int]
    state: Mapped[str] = mapped_column(String(16), default="issued")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redeemed_by_id: Mapped[int | None] = mapped_column(ForeignKey("points_worker.id"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("points_entry.id"))


class Rating(db.Model):
    """A year-end rating: 星级信誉户 (a household, ``stars`` 3-5) or 诚信人 (a person); each becomes credit records."""

    __tablename__ = "points_rating"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("points_scheme.id", ondelete="CASCADE"))
    year: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))  # household / person
    household_id: Mapped[int | None] = mapped_column(ForeignKey("points_household.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("points_member.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(24))  # h:<household id> / m:<member id>: unique per year
    stars: Mapped[int | None]
    points: Mapped[int]
    confirmed_by: Mapped[str] = mapped_column(String(64))
    records: Mapped[list] = mapped_column(JSON, default=list)  # credit record refs it became
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("scheme_id", "year", "subject", name="uq_points_rating_subject_year"),
        Index("ix_points_rating_scheme_year", "scheme_id", "year"),
    )
