"""What the 浙里办 channel adds for a citizen: sign-on through the province, and the account bound at first login.

A 浙里办 user is real-name verified by the province, so their account (a ``WeChatAccount`` row of kind "zlb": the
same sessions, token versions and guards as the mini-program's, keyed by the province's userId) is bound to the
citizen whose ID number the province gives, without asking for it. Scoring consent is not implied: the app asks
for it (PUT consents) before any score is computed. Everything else the H5 does goes to the same services as /mp/v1.
"""

from __future__ import annotations

from flask import g
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.audit import service as audit
from app.audit.service import Actor
from app.citizens import service as citizens
from app.citizens.idnumber import InvalidIdNumber, parse_id_number
from app.errors import ApiError
from app.extensions import db
from app.timeutil import utcnow
from miniprogram_api import auth, cache
from miniprogram_api.models import WeChatAccount
from zlb_api import sso

ZLB = "zlb"


def _account(user_id: str) -> WeChatAccount | None:
    return db.session.scalar(select(WeChatAccount).where(WeChatAccount.app_kind == ZLB,
                                                         WeChatAccount.openid == user_id))


def _not_registered() -> ApiError:
    return ApiError(403, "citizen_not_registered",
                    "未找到与您浙里办实名身份对应的信用档案。如您是本市居民，请携带身份证到信用中心窗口登记后再登录。")


def _bound_elsewhere() -> ApiError:
    return ApiError(409, "already_bound_other",
                    "您的身份已关联另一个浙里办账号。如非本人操作，请携带身份证到信用中心窗口处理。")


def login(ticket_id: str) -> dict:
    """``ticketId`` from ZWJSBridge.ssoTicket() -> our tokens, binding the account at its first login."""
    person = sso.person_for_ticket(ticket_id)
    user_id = str(person["userId"])[:64]
    try:
        resident = parse_id_number(str(person["idNo"]))
    except InvalidIdNumber:
        raise ApiError(403, "id_type_unsupported",
                       "目前只支持以居民身份证实名的浙里办账号登录信用分应用。") from None
    account = _account(user_id)
    if account is not None and account.citizen_id is not None:
        account.last_login_at = utcnow()
        db.session.commit()
        return _session_answer(account)
    citizen = citizens.find_by_id_number(resident.number)
    if citizen is None:
        raise _not_registered()
    if account is None:
        account = WeChatAccount(app_kind=ZLB, openid=user_id)
        db.session.add(account)
        try:
            db.session.flush()
        except IntegrityError:  # the same person's first two logins at once: the other one created it
            db.session.rollback()
            account = _account(user_id)
    now = utcnow()
    g.actor = Actor("citizen", account.ref)  # the binding is the person's own act, as in the mini-program
    try:
        won = db.session.execute(update(WeChatAccount)
                                 .where(WeChatAccount.id == account.id, WeChatAccount.citizen_id.is_(None))
                                 .values(citizen_id=citizen.id, bound_at=now, last_login_at=now)
                                 .execution_options(synchronize_session=False)).rowcount
        if won:
            audit.log(citizen.id, "zlb.bind", "本人首次登录浙里办，按省统一身份认证的实名信息关联信用档案",
                      {"channel": ZLB})
        db.session.commit()
    except IntegrityError:  # another 浙里办 account holds this citizen (one per citizen and channel)
        db.session.rollback()
        raise _bound_elsewhere() from None
    db.session.refresh(account)
    if account.citizen_id != citizen.id:
        raise _bound_elsewhere()
    cache.remember_account(account)
    return _session_answer(account)


def _session_answer(account: WeChatAccount) -> dict:
    pair = auth.issue_tokens(account, with_refresh=False)
    return {"access_token": pair.access_token, "token_type": "Bearer", "expires_in": pair.expires_in,
            "bound": account.citizen_id is not None, "channel": ZLB}
