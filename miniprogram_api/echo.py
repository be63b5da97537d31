"""The mini-program's side of the message centre's WeChat echo (app/rights/messages.py keeps the messages and the
outbox and retries): who a citizen is on the mini-program, and the client to send with. Registered at start by
the app factory; app/rights, a domain, does not import this edge."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.rights.messages import register_wechat_sender
from miniprogram_api.models import WeChatAccount
from miniprogram_api.wechat import mp_client


def openid_of(citizen_id: int) -> str | None:
    return db.session.scalar(select(WeChatAccount.openid).where(
        WeChatAccount.citizen_id == citizen_id, WeChatAccount.app_kind == "mp"))


register_wechat_sender(openid_of, mp_client)
