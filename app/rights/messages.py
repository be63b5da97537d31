"""The citizen's message centre (the record of truth) and its WeChat subscription-message echo (best effort).

``post_message`` writes a row in the caller's transaction and, when the citizen subscribed to the notice's
template, an outbox row (``wechat_echo``). ``deliver_pending`` sends due echoes through wechatpy
(``send_subscribe_message``); a failed send is retried with back-off and never touches the message itself.

WeChat is reached through what the mini-program's edge registers at start (``register_wechat_sender``, from
``miniprogram_api/echo.py``): who a citizen is there and a client. A domain does not import an edge.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from flask import current_app
from sqlalchemy import func, select, update
from wechatpy.exceptions import WeChatClientException

from app.errors import ApiError
from app.extensions import db
from app.rights.models import Message, MessageSubscription, WeChatEcho
from app.security.secrets_util import new_ref
from app.timeutil import CITY_TZ, utcnow

log = logging.getLogger(__name__)

# Our subscription templates (each maps to a WeChat template id in the config) and the kinds each echoes.
TEMPLATES = {
    "record_notice": "WECHAT_TEMPLATE_RECORD_NOTICE",  # 三书同达: a new adverse record
    "case_result": "WECHAT_TEMPLATE_CASE_RESULT",  # objections / repairs: received and decided
    "reminder": "WECHAT_TEMPLATE_REMINDER",  # deadlines and everything else (commitments …)
}
_RETRY_MINUTES = (1, 5, 15, 60, 240, 720)
# WeChat 43101: the user did not subscribe or used up a one-time subscription; retrying cannot help.
_NOT_SUBSCRIBED = 43101


def template_for(kind: str) -> str:
    if kind == "record_notice":
        return "record_notice"
    if kind.startswith(("objection", "repair")):
        return "case_result"
    return "reminder"


def post_message(citizen_id: int, kind: str, title: str, body: str, *, link: str | None = None,
                 related_ref: str | None = None) -> Message:
    """Write a message-centre row in the current transaction (the caller commits) and queue its WeChat echo."""
    message = Message(citizen_id=citizen_id, kind=kind[:32], title=title[:100], body=body, link=link,
                      related_ref=related_ref)
    db.session.add(message)
    db.session.flush()
    subscribed = db.session.scalar(select(MessageSubscription.id).where(
        MessageSubscription.citizen_id == citizen_id, MessageSubscription.template == template_for(kind)))
    if subscribed is not None:
        db.session.add(WeChatEcho(message_id=message.id))
    return message


def post_messages(rows: list[dict]) -> int:
    """Many messages at once (a batch of records landing): dicts with post_message's arguments; same rules."""
    if not rows:
        return 0
    from sqlalchemy import insert

    citizen_ids = sorted({row["citizen_id"] for row in rows})
    subscribed: set[tuple[int, str]] = set()
    for start in range(0, len(citizen_ids), 900):
        part = citizen_ids[start:start + 900]
        found = db.session.execute(select(MessageSubscription.citizen_id, MessageSubscription.template)
                                   .where(MessageSubscription.citizen_id.in_(part)))
        subscribed.update((row.citizen_id, row.template) for row in found)
    now = utcnow()
    values = [{"ref": new_ref(), "citizen_id": row["citizen_id"], "kind": row["kind"][:32],
               "title": row["title"][:100], "body": row["body"], "link": row.get("link"),
               "related_ref": row.get("related_ref"), "created_at": now} for row in rows]
    db.session.execute(insert(Message), values)
    echo_refs = [v["ref"] for v in values if (v["citizen_id"], template_for(v["kind"])) in subscribed]
    for start in range(0, len(echo_refs), 900):
        ids = db.session.scalars(select(Message.id).where(Message.ref.in_(echo_refs[start:start + 900])))
        db.session.execute(insert(WeChatEcho), [{"message_id": i, "state": "pending", "attempts": 0,
                                                 "next_attempt_at": now} for i in ids])
    return len(values)


# ------------------------------------------------------------------------------------------------------------
# The citizen's side
# ------------------------------------------------------------------------------------------------------------


def list_messages(citizen_id: int, page: int, per_page: int, unread_only: bool = False) -> tuple[list[Message], int]:
    stmt = select(Message).where(Message.citizen_id == citizen_id)
    if unread_only:
        stmt = stmt.where(Message.read_at.is_(None))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(Message.id.desc()).offset((page - 1) * per_page).limit(per_page))
    return list(rows), total


def unread_count(citizen_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Message).where(
        Message.citizen_id == citizen_id, Message.read_at.is_(None)))


def mark_read(citizen_id: int, refs: list[str] | None) -> int:
    """Mark the given messages (or all, when ``refs`` is None) read; returns how many changed."""
    stmt = update(Message).where(Message.citizen_id == citizen_id, Message.read_at.is_(None))
    if refs is not None:
        stmt = stmt.where(Message.ref.in_(refs))
    changed = db.session.execute(stmt.values(read_at=utcnow())).rowcount
    db.session.commit()
    return changed


def get_message(citizen_id: int, ref: str) -> Message:
    message = db.session.scalar(select(Message).where(Message.ref == ref, Message.citizen_id == citizen_id))
    if message is None:
        raise ApiError(404, "message_not_found", "未找到该消息。")
    return message


def subscribe(citizen_id: int, templates: list[str]) -> list[str]:
    """Record the templates the citizen accepted in ``wx.requestSubscribeMessage``."""
    unknown = [name for name in templates if name not in TEMPLATES]
    if unknown:
        raise ApiError(422, "unknown_template", "订阅的消息类型不存在。", {"templates": unknown})
    have = set(db.session.scalars(select(MessageSubscription.template).where(
        MessageSubscription.citizen_id == citizen_id)))
    for name in templates:
        if name not in have:
            db.session.add(MessageSubscription(citizen_id=citizen_id, template=name))
            have.add(name)
    db.session.commit()
    return sorted(have)


def subscriptions(citizen_id: int) -> list[str]:
    return sorted(db.session.scalars(select(MessageSubscription.template).where(
        MessageSubscription.citizen_id == citizen_id)))


# ------------------------------------------------------------------------------------------------------------
# The WeChat echo
# ------------------------------------------------------------------------------------------------------------


def _short(text: str, limit: int = 20) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _payload(message: Message) -> dict:
    when = message.created_at.astimezone(CITY_TZ).strftime("%Y-%m-%d %H:%M")
    return {"thing1": {"value": _short(message.title)}, "thing2": {"value": _short(message.body)},
            "time3": {"value": when}}


@dataclass(frozen=True)
class WeChatSender:
    openid_of: Callable[[int], str | None]  # the citizen's mini-program openid, None when they have not bound one
    client: Callable[[], Any]  # a wechatpy client (``.wxa.send_subscribe_message``)


_senders: list[WeChatSender] = []


def register_wechat_sender(openid_of: Callable[[int], str | None], client: Callable[[], Any]) -> None:
    _senders[:] = [WeChatSender(openid_of, client)]


def _openid(citizen_id: int) -> str | None:
    return _senders[0].openid_of(citizen_id)


def deliver_pending(limit: int = 200, now: datetime | None = None) -> dict:
    """Send due echoes (one claim per row: a conditional UPDATE, so two senders never send one twice)."""
    now = now or utcnow()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    if not _senders:
        return counts  # no WeChat edge in this process: the echoes wait for one
    mp_client = _senders[0].client
    due = list(db.session.scalars(select(WeChatEcho.id).where(
        WeChatEcho.state == "pending", WeChatEcho.next_attempt_at <= now).order_by(WeChatEcho.id).limit(limit)))
    client = None
    for echo_id in due:
        # Claim: push next_attempt_at ahead; whoever changes the row sends it.
        claimed = db.session.execute(update(WeChatEcho).where(
            WeChatEcho.id == echo_id, WeChatEcho.state == "pending", WeChatEcho.next_attempt_at <= now,
        ).values(next_attempt_at=now + timedelta(minutes=10), attempts=WeChatEcho.attempts + 1)).rowcount
        db.session.commit()
        if not claimed:
            continue
        echo = db.session.get(WeChatEcho, echo_id)
        message = db.session.get(Message, echo.message_id)
        openid = _openid(message.citizen_id)
        if openid is None:
            echo.state, echo.last_error = "failed", "no mini-program account bound"
            counts["failed"] += 1
            db.session.commit()
            continue
        template_id = current_app.config[TEMPLATES[template_for(message.kind)]]
        error = None
        try:
            client = client or mp_client()
            result = client.wxa.send_subscribe_message(openid, template_id, _payload(message), page=message.link)
            if isinstance(result, dict) and result.get("errcode", 0) not in (0, None):
                error = (result.get("errcode"), str(result.get("errmsg", ""))[:150])
        except WeChatClientException as exc:
            error = (exc.errcode, str(exc.errmsg or "")[:150])
        except requests.RequestException as exc:
            error = (None, type(exc).__name__)
        if error is None:
            echo.state, echo.sent_at, echo.last_error = "sent", utcnow(), None
            counts["sent"] += 1
        elif error[0] == _NOT_SUBSCRIBED or echo.attempts > len(_RETRY_MINUTES):
            echo.state, echo.last_error = "failed", f"{error[0]}: {error[1]}"
            counts["failed"] += 1
        else:
            echo.last_error = f"{error[0]}: {error[1]}"
            echo.next_attempt_at = now + timedelta(minutes=_RETRY_MINUTES[echo.attempts - 1])
            counts["retry"] += 1
        db.session.commit()
    if counts["retry"] or counts["failed"]:
        log.warning("wechat echoes not sent", extra={"fields": counts})
    return counts


def deliver_soon() -> None:
    """Best effort right after a request committed its messages: a failure waits for the scheduler's retry."""
    try:
        deliver_pending(limit=20)
    except Exception as error:  # noqa: BLE001 - the message centre already has the message; the job retries
        db.session.rollback()
        # The kind of failure only: a driver's message would carry statement parameters (message bodies).
        log.warning("wechat echo attempt failed; the scheduler retries it",
                    extra={"fields": {"error": type(error).__name__}})
