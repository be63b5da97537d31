"""What the mini-program does for a citizen: WeChat login, binding to a real person, and their own data.

Every function here acts for the citizen on their own data, so their reads are not audited (the audit trail is
for everyone else); what they change (binding, consents) is.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from datetime import date, datetime

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app import ratelimit
from app.audit import service as audit
from app.citizens import service as citizens
from app.citizens.idnumber import InvalidIdNumber, parse_id_number
from app.citizens.models import Citizen
from app.errors import ApiError
from app.extensions import db
from app.paging import Page, paginate
from app.records.models import Department, Record
from app.rights import cases as rights_cases
from app.scoring import service as scoring
from app.scoring.models import Score, ScoreHistory
from app.security.pii import mask_name, mask_phone, vault
from app.timeutil import CITY_TZ, city_today, utcnow
from benefits import trail_names
from miniprogram_api import auth, cache, wechat
from miniprogram_api.models import WeChatAccount
from score_model import DIMENSION_NAMES, DIMENSIONS, Rules, RulesError, load_rules

MP = "mp"
# The channel a citizen acts through, as the audit trail names it (accounts: WeChatAccount.app_kind).
CHANNELS = {"mp": ("miniprogram", "微信小程序"), "zlb": ("zlb", "浙里办")}
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
LOGIN_LOCKED = ratelimit.Refusal("login_locked", "登录失败次数过多，请 {minutes} 分钟后再试。")
BIND_LOCKED = ratelimit.Refusal("too_many_attempts", "身份核验失败次数过多，请约 {minutes} 分钟后再试。")
HISTORY_MONTHS = 12

STATUS_NAMES = {"active": "有效", "disputed": "异议处理中", "repaired": "已修复", "revoked": "已撤销",
                "expired": "已过期"}
NOT_COUNTED_TEXT = {
    "status_disputed": "异议处理期间暂不计分",
    "status_repaired": "已完成信用修复，不再计分",
    "status_revoked": "记录已撤销，不计分",
    "status_expired": "已过有效期，不再计分",
    "status_invalid": "记录状态异常，不计分",
    "expired": "已过有效期，不再计分",
    "not_yet_occurred": "尚未到发生日期",
    "same_incident": "同一事件只按最重的一条记录计分",
    "superseded": "已被更新的公共信用评价取代",
    "invalid_grade": "评价等级无法识别，暂不计分",
    "sub_cap_reached": "同类加分已达上限",
    "unknown_type": "目录中没有该记录类型，暂不计分",
}
ACTION_NAMES = {
    "citizen.register": "登记信用档案",
    "citizen.lookup": "查询信用档案",
    "score.read": "查看信用分",
    "score.recompute": "重新计算信用分",
    "records.ingest": "报送信用记录",
    "record.status": "变更信用记录状态",
    "consent.grant": "授权",
    "consent.withdraw": "撤回授权",
    "wechat.bind": "绑定微信",
    "wechat.unbind": "解除微信绑定",
    "wechat.bind_failed": "尝试绑定微信，身份核验未通过",
    "zlb.bind": "浙里办实名登录并关联",
    "zlb.unbind": "解除浙里办关联",
    "records.expire": "信用记录到期失效",
    "benefits.verify": "商户核验信用码",
    "benefits.cancel": "商户撤销核销",
    "benefits.redemptions.read": "查看权益使用记录",
    "partners.attest": "出具城市互认证明",
    "partners.revoke": "撤销城市互认证明",
    "partners.receipt": "互认城市回传权益使用记录",
    "report.issue": "出具个人信用报告",
    "report.revoke": "撤销个人信用报告",
    "report.verify": "核验个人信用报告",
    "report.lookup": "查询个人信用报告",
    "rights.case.view": "查看异议/修复案件",
    "rights.cases.list": "查看异议/修复案件列表",
}


# --------------------------------------------------------------------------------------------------------
# What the apps read instead of hard-coding it
# --------------------------------------------------------------------------------------------------------

TEMPLATE_NAMES = {"record_notice": "信用信息告知", "case_result": "异议与修复办理结果", "reminder": "到期提醒"}


def client_settings() -> dict:
    """Subscription-message template ids by purpose, the consent texts and versions, the evidence limits and the
    credit code's lifetime: the same answer for every caller (nothing personal in it)."""
    from app.rights import messages, uploads

    config = current_app.config
    return {
        "subscription_templates": [{"kind": kind, "name": TEMPLATE_NAMES.get(kind, kind),
                                    "template_id": config[setting]}
                                   for kind, setting in messages.TEMPLATES.items() if config.get(setting)],
        "consents": citizens.consent_texts(),
        "evidence": uploads.limits(),
        "credit_code_ttl_seconds": config["CREDIT_CODE_TTL_SECONDS"],
        "score_name": config["SCORE_NAME"],
    }


# --------------------------------------------------------------------------------------------------------
# Login and sessions
# --------------------------------------------------------------------------------------------------------


def _session_answer(account: WeChatAccount, pair: auth.TokenPair) -> dict:
    return {"access_token": pair.access_token, "refresh_token": pair.refresh_token, "token_type": "Bearer",
            "expires_in": pair.expires_in, "bound": account.citizen_id is not None}


def login(code: str) -> dict:
    """``wx.login()`` code -> our tokens. The openid is all we learn; WeChat's session key is never kept."""
    limit, keys = current_app.config["LOGIN_FAILURES_PER_ADDRESS"], ("mp-login-address", ratelimit.client_ip())
    ratelimit.check(limit, LOGIN_LOCKED, *keys)
    try:
        identity = wechat.code_to_session(code)
    except ApiError as error:
        if error.code == "invalid_code":  # someone trying codes: only WeChat can hand out valid ones
            ratelimit.count(limit, *keys)
        raise
    account = _mp_account(identity["openid"])
    if account is None:
        account = WeChatAccount(app_kind=MP, openid=identity["openid"], unionid=identity["unionid"])
        db.session.add(account)
        try:
            db.session.flush()
        except IntegrityError:
            # The same person logging in twice at once: the other request created the row.
            db.session.rollback()
            account = _mp_account(identity["openid"])
    if identity["unionid"] and account.unionid != identity["unionid"]:
        account.unionid = identity["unionid"]
    account.last_login_at = utcnow()
    db.session.commit()
    return _session_answer(account, auth.issue_tokens(account))


def _mp_account(openid: str) -> WeChatAccount | None:
    return db.session.scalar(select(WeChatAccount).where(WeChatAccount.app_kind == MP,
                                                         WeChatAccount.openid == openid))


def refresh(refresh_token: str) -> dict:
    pair = auth.refresh_tokens(refresh_token)
    account = auth.account_for_access_token(pair.access_token)
    return _session_answer(account, pair)


def logout(refresh_token: str | None) -> None:
    if refresh_token:
        auth.revoke_refresh_token(refresh_token)


# --------------------------------------------------------------------------------------------------------
# Binding
# --------------------------------------------------------------------------------------------------------


def _failure_limits(account: WeChatAccount, id_number: str) -> list[tuple[str, tuple[str, ...]]]:
    """Per account, and per (account, ID number): never per ID number alone, or a stranger who knows a name and an
    ID number could lock its owner out. The ID number only ever appears as its keyed blind index."""
    config = current_app.config
    return [(config["BIND_FAILURES_PER_ACCOUNT"], ("mp-bind-fail-account", account.ref)),
            (config["BIND_FAILURES_PER_ACCOUNT_AND_ID"],
             ("mp-bind-fail-account-id", account.ref, citizens.id_index(id_number)))]


def _names_match(registered: str, given: str) -> bool:
    return hmac.compare_digest(registered.encode(), given.strip().encode())


def bind(account: WeChatAccount, name: str, id_number: str, phone: str, scoring_consent: bool = True) -> Citizen:
    """Bind the caller's WeChat account to the citizen whose name and ID number both match the registry."""
    if account.citizen_id is not None:
        raise ApiError(409, "account_already_bound", "当前微信账号已绑定身份。如需更换，请先解除绑定。")
    phone = (phone or "").strip()
    if not _MOBILE.match(phone):
        raise ApiError(422, "invalid_phone", "请填写正确的11位手机号码。", {"phone": ["手机号码格式不正确。"]})
    try:
        resident = parse_id_number(id_number)
    except InvalidIdNumber as error:
        raise ApiError(422, error.code, error.message, {"id_number": [error.message]}) from None
    limits = _failure_limits(account, resident.number)
    for limit, keys in limits:
        ratelimit.check(limit, BIND_LOCKED, *keys)
    citizen = citizens.find_by_id_number(resident.number)
    if citizen is None or not _names_match(citizen.name, name or ""):
        for limit, keys in limits:
            ratelimit.count(limit, *keys)
        # The registered person sees that someone tried their identity ("who looked at my data"). An unknown ID
        # number is logged too (without a subject), so both cases take the same time: the answer must not be a
        # registry oracle, neither by its words nor by its timing.
        audit.log(citizen.id if citizen else None, "wechat.bind_failed", "微信小程序绑定身份时姓名核验未通过")
        db.session.commit()
        raise ApiError(422, "identity_mismatch",
                       "姓名与身份证号码核验未通过，请核对后重试。如尚未办理信用档案，请到信用中心窗口登记。")
    other = db.session.scalar(select(WeChatAccount.id).where(WeChatAccount.app_kind == MP,
                                                             WeChatAccount.citizen_id == citizen.id))
    if other is not None and other != account.id:
        raise _bound_elsewhere()
    # Conditional on still being unbound: of two bindings racing from one account, exactly one wins.
    # The unique index (one account per citizen) may refuse the UPDATE itself when another account bound the
    # same person a moment ago: that is the "bound elsewhere" answer, not an error.
    bound_at = utcnow()
    try:
        won = db.session.execute(update(WeChatAccount)
                                 .where(WeChatAccount.id == account.id, WeChatAccount.citizen_id.is_(None))
                                 .values(citizen_id=citizen.id, bound_at=bound_at)
                                 .execution_options(synchronize_session=False)).rowcount
    except IntegrityError:
        db.session.rollback()
        raise _bound_elsewhere() from None
    if won != 1:
        db.session.rollback()
        raise ApiError(409, "account_already_bound", "当前微信账号已绑定身份。如需更换，请先解除绑定。")
    citizen.phone_cipher = vault().encrypt(phone, citizens.PHONE_PURPOSE)
    citizen.phone_masked = mask_phone(phone)
    granted = scoring_consent and citizens.grant_consent(citizen, "scoring", channel="miniprogram")
    audit.log(citizen.id, "wechat.bind", "本人在微信小程序绑定身份", {"scoring_consent": bool(scoring_consent)})
    if granted:
        audit.log(citizen.id, "consent.grant", "本人在微信小程序绑定时授权", {"kind": "scoring"})
    try:
        db.session.commit()
    except IntegrityError:
        # Another WeChat account bound the same person a moment ago (one account per citizen).
        db.session.rollback()
        raise _bound_elsewhere() from None
    db.session.refresh(account)
    cache.remember_account(account)
    for limit, keys in limits:
        ratelimit.clear(limit, *keys)
    scoring.recompute_citizen(citizen, reason="微信小程序绑定并授权后计算")
    return citizen


def _bound_elsewhere() -> ApiError:
    return ApiError(409, "already_bound_other",
                    "该身份已绑定其他微信账号。请用原微信账号解除绑定；如非本人操作，请携带身份证到信用中心窗口处理。")


def unbind(account: WeChatAccount) -> None:
    """Unbind; bumping the token version revokes every access and refresh token this account holds."""
    citizen_id = account.citizen_id
    account.citizen_id, account.bound_at = None, None
    account.token_version += 1
    action = "zlb.unbind" if account.app_kind == "zlb" else "wechat.unbind"
    audit.log(citizen_id, action, f"本人在{CHANNELS.get(account.app_kind, CHANNELS[MP])[1]}解除绑定")
    db.session.commit()
    cache.remember_account(account)


def binding_status(account: WeChatAccount, citizen: Citizen | None) -> dict:
    return {"bound": citizen is not None, "bound_at": account.bound_at,
            "masked_name": mask_name(citizen.name) if citizen else None}


# --------------------------------------------------------------------------------------------------------
# The citizen's own data
# --------------------------------------------------------------------------------------------------------


def profile(account: WeChatAccount, citizen: Citizen) -> dict:
    return {"masked_name": mask_name(citizen.name), "masked_id_number": citizen.id_masked,
            "masked_phone": citizen.phone_masked, "bound_at": account.bound_at,
            "score_name": current_app.config["SCORE_NAME"]}


def _rules_for(version: str) -> Rules:
    try:
        return load_rules(version)
    except RulesError:
        return scoring.rules()


def _require_consent(citizen_id: int) -> None:
    if not citizens.has_consent(citizen_id, "scoring"):
        raise ApiError(409, "no_scoring_consent",
                       "您尚未授权（或已撤回授权）信用评分，因此不计算也不显示信用分。可在「我的授权」中开启信用评分授权。")


def _dimensions(score_rules: Rules, values=None) -> list[dict]:
    return [{"key": key, "name": DIMENSION_NAMES[key], "cap": score_rules.dimensions[key].cap,
             **({"points": getattr(values, key)} if values is not None else {})}
            for key in DIMENSIONS]


def score_view(citizen_id: int) -> dict:
    _require_consent(citizen_id)
    stored = db.session.get(Score, citizen_id)
    if stored is None:
        raise ApiError(404, "score_not_ready", "信用分正在计算中，请稍后再查看。")
    score_rules = _rules_for(stored.rules_version)
    return {
        "score_name": current_app.config["SCORE_NAME"], "total": stored.total, "max_total": score_rules.max_total,
        "level": stored.level, "level_name": score_rules.level_name(stored.level), "restricted": stored.level == 0,
        "dimensions": _dimensions(score_rules, stored), "rules_version": stored.rules_version,
        "computed_at": stored.computed_at, "as_of": stored.as_of,
    }


def my_score(citizen_id: int, render: Callable[[dict], str]) -> str:
    """The citizen's own score answer, rendered by ``render`` and cached (invalidated when score or consent
    change), so a repeat read costs no database round trip and no serialisation."""
    return cache.cached_score(citizen_id, lambda cid: render(score_view(cid)))


def _year_ago(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _point(day: date, row, score_rules: Rules) -> dict:
    return {"date": day, "total": row.total, "public": row.public, "law": row.law, "commitment": row.commitment,
            "honour": row.honour, "level": row.level, "level_name": score_rules.level_name(row.level)}


def history_view(citizen: Citizen, today: date | None = None) -> dict:
    """The last 12 months as chart points: one per day the score changed (the day's last value), plus the value
    in force at the window's start and today, so the line spans the whole window."""
    _require_consent(citizen.id)
    today = today or city_today()
    start = _year_ago(today)
    start_utc = datetime(start.year, start.month, start.day, tzinfo=CITY_TZ)
    base = select(ScoreHistory).where(ScoreHistory.citizen_id == citizen.id)
    before = db.session.scalar(base.where(ScoreHistory.computed_at < start_utc)
                               .order_by(ScoreHistory.computed_at.desc(), ScoreHistory.id.desc()).limit(1))
    rows = db.session.scalars(base.where(ScoreHistory.computed_at >= start_utc)
                              .order_by(ScoreHistory.computed_at, ScoreHistory.id)).all()
    score_rules = scoring.rules()
    by_day: dict[date, object] = {}
    if before is not None:
        by_day[start] = before
    for row in rows:
        by_day[row.computed_at.astimezone(CITY_TZ).date()] = row
    points = [_point(day, row, score_rules) for day, row in by_day.items()]
    if points and points[-1]["date"] < today:
        points.append({**points[-1], "date": today})
    return {"from": start, "to": today, "dimensions": _dimensions(score_rules), "points": points}


def record_view(citizen: Citizen, ref: str) -> dict:
    """One of the citizen's records, shaped as in ``records_page``; someone else's is a 404 like a missing one."""
    items = records_page(citizen, 1, 1, ref=ref)["items"]
    if not items:
        raise ApiError(404, "record_not_found", "未找到该信用记录，或该记录不属于您。")
    return items[0]


def records_page(citizen: Citizen, page: int, per_page: int, dimension: str | None = None,
                 status: str | None = None, ref: str | None = None) -> dict:
    """The citizen's records, newest first, each with what it contributes and until when it counts.

    Contributions are left out after the citizen withdrew scoring consent: the records are theirs to see, the
    score is not computed at all."""
    score_rules = scoring.rules()
    stmt = (select(Record, Department.name).join(Department, Department.id == Record.department_id)
            .where(Record.citizen_id == citizen.id))
    if dimension:
        stmt = stmt.where(Record.type_code.in_(
            [code for code, kind in score_rules.catalog.items() if kind.dimension == dimension]))
    if status:
        stmt = stmt.where(Record.status == status)
    if ref:
        stmt = stmt.where(Record.ref == ref)
    result: Page = paginate(stmt.order_by(Record.occurred_at.desc(), Record.id.desc()), page, per_page,
                            scalars=False)
    contributions = {}
    scored = citizens.has_consent(citizen.id, "scoring")
    if scored and result.items:
        contributions = {c.ref: c for c in scoring.explain(citizen).contributions}
    open_cases = rights_cases.open_cases_by_record([record.id for record, _ in result.items])
    items = []
    for record, department_name in result.items:
        kind = score_rules.catalog.get(record.type_code)
        contribution = contributions.get(record.ref)
        reason = contribution.not_counted_reason if contribution else None
        items.append({
            "ref": record.ref, "type_code": record.type_code, "name": kind.name if kind else "未知记录类型",
            "dimension": kind.dimension if kind else None,
            "dimension_name": DIMENSION_NAMES[kind.dimension] if kind else None,
            "status": record.status, "status_name": STATUS_NAMES.get(record.status, record.status),
            "occurred_at": record.occurred_at, "summary": record.summary, "department": department_name,
            "scored": contribution is not None,
            "points": contribution.points if contribution else None,
            "counted": contribution.counted if contribution else None,
            "counts_until": contribution.counts_until if contribution else None,
            "not_counted_reason": reason, "not_counted_text": NOT_COUNTED_TEXT.get(reason) if reason else None,
            "open_case": open_cases.get(record.id),
        })
    return result.as_dict(items)


def hints_view(citizen: Citizen) -> dict:
    _require_consent(citizen.id)
    from app.rights import whatif

    return {"hints": whatif.hints(citizen)}


def consents_view(citizen: Citizen) -> dict:
    return {"consents": citizens.consents_view(citizen)}


def set_consent(citizen: Citizen, kind: str, grant: bool, channel: str = MP) -> dict:
    """Grant or withdraw one consent through ``channel`` (mp / zlb). Withdrawing scoring consent drops the score in
    the same transaction, so it is never shown after the answer; the scoring service skips citizens without consent
    from then on."""
    channel_code, channel_name = CHANNELS[channel]
    if grant:
        changed = citizens.grant_consent(citizen, kind, channel=channel_code)
    else:
        changed = citizens.withdraw_consent(citizen, kind)
        if changed and kind == "scoring":
            scoring.drop_score(citizen)
    if changed:
        audit.log(citizen.id, "consent.grant" if grant else "consent.withdraw",
                  f"本人在{channel_name}" + ("授权" if grant else "撤回授权"), {"kind": kind, "channel": channel})
    db.session.commit()
    if changed and grant and kind == "scoring":
        scoring.recompute_citizen(citizen, reason="本人授权后计算")
    return consents_view(citizen)


def audit_page(citizen: Citizen, page: int, per_page: int) -> dict:
    """查询留痕: who read or changed this citizen's data, when and why, newest first."""
    entries, total = audit.entries_for_subject(citizen.id, page, per_page)
    names = trail_names.actor_names(entries)
    items = [{
        "occurred_at": entry.occurred_at,
        "who": names[id(entry)],
        "who_type": entry.actor_type,
        "action": entry.action, "action_name": ACTION_NAMES.get(entry.action, entry.action),
        "reason": entry.reason,
    } for entry in entries]
    return Page(items, page, per_page, total).as_dict()
