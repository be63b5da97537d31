from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.security.secrets_util import new_ref
from app.timeutil import UTCDateTime, utcnow


class WeChatAccount(db.Model):
    """A WeChat identity seen by one of our apps; the mini-program account is the one bound to a citizen.

    The official account's openid differs from the mini-program's; both carry the same unionid, which is how
    the chatbot finds the citizen.
    """

    __tablename__ = "wechat_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    # "mp" (the mini-program) or "oa" (the official account): each gives the same person its own openid.
    app_kind: Mapped[str] = mapped_column(String(8))
    openid: Mapped[str] = mapped_column(String(64))
    unionid: Mapped[str | None] = mapped_column(String(64))
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id", ondelete="SET NULL"))
    # Bumped on unbinding (and on demand): every token carrying an older version stops working.
    token_version: Mapped[int] = mapped_column(default=0)
    bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("app_kind", "openid", name="uq_wechat_account_app_openid"),
        # One WeChat mini-program account per citizen (NULLs, i.e. unbound accounts, do not collide).
        UniqueConstraint("app_kind", "citizen_id", name="uq_wechat_account_app_citizen"),
        Index("ix_wechat_account_unionid", "unionid"),
    )
