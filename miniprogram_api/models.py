from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.security.secrets_util import new_ref
from app.timeutil import UTCDateTime, utcnow


class WeChatAccount(db.Model):
    """A citizen app account: a WeChat identity seen by one of our apps ("mp", "oa"), or a 浙里办 user ("zlb",
    ``openid`` holding the province's userId). The mini-program and 浙里办 accounts are the ones bound to a citizen
    (at most one of each per citizen), and share the sessions and guards of miniprogram_api/auth.py.

    The official account's openid differs from the mini-program's; both carry the same unionid, which is how
    the chatbot finds the citizen.
    """

    __tablename__ = "wechat_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    # "mp" (the mini-program), "oa" (the official account) or "zlb" (浙里办): each its own id for the same person.
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
