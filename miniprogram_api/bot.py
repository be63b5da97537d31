"""The official account's chatbot: check and open WeChat's callback, answer in Chinese, once per message.

WeChat waits 5 seconds for an answer and then delivers the same message again (up to three times), so the
reply to a message is kept in the key-value store under its MsgId (events: sender + CreateTime) and every
delivery of it gets that same reply, computed once.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import time

from flask import current_app, g
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wechatpy import create_reply, parse_message
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

from app.audit.service import Actor
from app.citizens.models import Citizen
from app.citizens.service import has_consent
from app.errors import ApiError
from app.extensions import db, kv
from app.scoring import service as scoring
from app.scoring.models import Score
from app.security.pii import mask_name
from benefits.ledger import offers_for
from miniprogram_api import wechat
from miniprogram_api.models import WeChatAccount
from score_model import DIMENSION_NAMES, DIMENSIONS, RulesError, load_rules

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY = 64 * 1024  # WeChat's messages are a few hundred bytes; anything near this is not WeChat
_FORBIDDEN_XML = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_PENDING = "\x00pending"
_REPLY_TTL = 600  # longer than WeChat's retry window (3 retries over ~15 s)
_PENDING_TTL = 30
_WAIT_FOR_FIRST = 4.0  # a retry waits for the first delivery's reply, inside WeChat's 5 s
_NO_UNIONID_TTL = 600
DEFAULT_MAX_SKEW = 600

SCORE_WORDS = ("查分", "我的信用分", "信用分")
# Mini-program pages the replies link to (the mini-program's routes).
PAGES = {"home": "pages/index/index", "score": "pages/score/index", "bind": "pages/bind/index",
         "benefits": "pages/benefits/index", "code": "pages/code/index", "objection": "pages/objections/index",
         "repair": "pages/repairs/index", "commitment": "pages/commitments/index"}


# --------------------------------------------------------------------------------------------------------
# The envelope: signature, size, XML safety, secure mode
# --------------------------------------------------------------------------------------------------------


def max_body() -> int:
    return int(current_app.config.get("WECHAT_CALLBACK_MAX_BYTES", DEFAULT_MAX_BODY))


def _check_signature(args) -> None:
    try:
        check_signature(current_app.config["WECHAT_OA_TOKEN"], args.get("signature", ""),
                        args.get("timestamp", ""), args.get("nonce", ""))
    except InvalidSignatureException:
        raise ApiError(403, "invalid_signature", "签名校验失败。") from None


def echo(args) -> str:
    """WeChat's server check when the callback URL is configured: echo ``echostr`` if the signature holds."""
    _check_signature(args)
    return args.get("echostr", "")


def refuse_unsafe_xml(raw: bytes) -> None:
    # WeChat never sends a DTD; one here can only be an entity-expansion or external-entity attack, and the
    # XML parser under wechatpy (expat via xmltodict) expands internal entities.
    if _FORBIDDEN_XML.search(raw):
        raise ApiError(400, "xml_forbidden", "不接受含 DOCTYPE 或实体声明的 XML。")


def _check_fresh(args) -> None:
    # The plaintext signature covers timestamp and nonce, not the body: a captured query string must not stay
    # usable for ever. WeChat's own retries reuse it within seconds.
    window = int(current_app.config.get("WECHAT_CALLBACK_MAX_SKEW_SECONDS", DEFAULT_MAX_SKEW))
    try:
        skew = abs(time.time() - int(args.get("timestamp", "")))
    except ValueError:
        skew = window + 1
    if skew > window:
        raise ApiError(403, "stale_timestamp", "请求时间戳无效或已过期。")


def _check_nonce(args, body: bytes) -> None:
    """A nonce is used once, for one body. The plaintext signature does not cover the body, so a captured query
    string would otherwise carry any message within the freshness window; WeChat's own retries resend the same body
    with the same query string, and are let through (the reply cache answers them)."""
    window = int(current_app.config.get("WECHAT_CALLBACK_MAX_SKEW_SECONDS", DEFAULT_MAX_SKEW))
    seen = hashlib.sha256(f"{args.get('timestamp', '')}:{args.get('nonce', '')}".encode()).hexdigest()
    key, body_hash = f"wechat:oa:nonce:{seen}", hashlib.sha256(body).hexdigest()
    # Kept past both ends of the window: a timestamp up to ``window`` seconds ahead stays acceptable that long.
    if kv.set(key, body_hash, nx=True, ex=2 * window + 60):
        return
    if kv.get(key) != body_hash:
        raise ApiError(403, "replayed_nonce", "请求已被使用过，不能再次提交。")


def open_message(args, body: bytes) -> tuple[str, bool]:
    """Check the request and return the message XML and whether it came in secure (AES) mode."""
    if len(body) > max_body():
        raise ApiError(413, "payload_too_large", "消息内容过大。")
    refuse_unsafe_xml(body)
    _check_signature(args)
    _check_fresh(args)
    _check_nonce(args, body)
    if args.get("encrypt_type", "raw") != "aes":
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            raise ApiError(400, "invalid_xml", "消息不是有效的 XML。") from None
    msg_signature = args.get("msg_signature")
    if not msg_signature:
        raise ApiError(403, "invalid_signature", "安全模式消息缺少 msg_signature。")
    try:
        xml = wechat.oa_crypto().decrypt_message(body, msg_signature, args.get("timestamp", ""),
                                                 args.get("nonce", ""))
    except InvalidSignatureException:
        raise ApiError(403, "invalid_signature", "消息签名校验失败。") from None
    except InvalidAppIdException:
        raise ApiError(400, "invalid_ciphertext", "消息密文不属于本公众号。") from None
    except Exception:  # noqa: BLE001 - base64, padding, length and XML errors all mean a bad envelope
        raise ApiError(400, "invalid_ciphertext", "消息密文无法解密。") from None
    refuse_unsafe_xml(xml.encode("utf-8"))
    return xml, True


def seal_reply(reply_xml: str) -> str:
    """Encrypt a rendered reply for secure mode (a fresh nonce and timestamp each time)."""
    return wechat.oa_crypto().encrypt_message(reply_xml, secrets.token_hex(8), str(int(time.time())))


def handle(args, body: bytes) -> tuple[str, str]:
    """The whole callback: returns (body, mimetype)."""
    xml, secure = open_message(args, body)
    try:
        message = parse_message(xml)
        key = _dedupe_key(message)
    except Exception:  # noqa: BLE001 - malformed XML or fields of the wrong type
        raise ApiError(400, "invalid_xml", "消息不是有效的微信消息 XML。") from None
    reply_xml = _reply_once(key, lambda: _render(message))
    if not reply_xml:
        return "success", "text/plain"  # WeChat's "no reply"
    return (seal_reply(reply_xml) if secure else reply_xml), "application/xml"


# --------------------------------------------------------------------------------------------------------
# Once per message
# --------------------------------------------------------------------------------------------------------


def _dedupe_key(message) -> str:
    if message is None:
        raise ValueError("empty message")
    # WeChat's rule for events is sender + CreateTime; the event name keeps a subscribe and an unsubscribe
    # within one second apart.
    identity = (f"msg:{message.id}" if message.id
                else f"event:{message.source}:{message.time}:{getattr(message, 'event', message.type)}")
    return "wechat:oa:reply:" + hashlib.sha256(identity.encode()).hexdigest()


def _reply_once(key: str, build) -> str:
    if kv.set(key, _PENDING, nx=True, ex=_PENDING_TTL):
        try:
            reply = build()
        except BaseException:
            kv.delete(key)  # let WeChat's next delivery try again
            raise
        kv.set(key, reply, ex=_REPLY_TTL)
        return reply
    deadline = time.monotonic() + _WAIT_FOR_FIRST
    while True:
        stored = kv.get(key)
        if stored is None:
            return _reply_once(key, build)  # the first attempt failed and let go
        if stored != _PENDING:
            return stored
        if time.monotonic() > deadline:
            return ""  # still being answered: WeChat will deliver again and get the stored reply
        time.sleep(0.05)


def _render(message) -> str:
    text = reply_text(message)
    return create_reply(text, message).render() if text else ""


# --------------------------------------------------------------------------------------------------------
# What to say
# --------------------------------------------------------------------------------------------------------


def _link(page: str, label: str) -> str:
    appid = current_app.config["WECHAT_MP_APPID"]
    return f'<a data-miniprogram-appid="{appid}" data-miniprogram-path="{PAGES[page]}">{label}</a>'


def _app_name() -> str:
    return current_app.config["SCORE_NAME"]


def menu_text() -> str:
    return (f"您好，这里是{_app_name()}。请回复关键词：\n"
            "【查分】查看我的信用分\n【权益】我能享受的信易+权益\n【信用码】如何出示信用码\n"
            "【异议】对信用记录提出异议\n【修复】申请信用修复\n【承诺】作出信用承诺\n"
            f"也可以{_link('home', '打开小程序')}查看全部信息。")


def welcome_text(citizen: Citizen | None) -> str:
    text = f"欢迎关注{_app_name()}！守信者处处受益。\n"
    if citizen is None:
        text += unbound_text() + "\n\n"
    return text + menu_text()


def unbound_text() -> str:
    return ("您还没有绑定本人身份。请打开小程序，用微信登录后填写本人姓名和身份证号码完成绑定，"
            f"再回复【查分】即可查询。{_link('bind', '去绑定')}")


GUIDES = {
    "信用码": ("在小程序首页点击「信用码」即可出示。信用码约每分钟刷新一次，请在商户扫码时现场出示，"
            "不要截图转发。", "code", "打开信用码"),
    "异议": ("如认为某条信用记录有误，可在小程序「我的记录」中选中该记录并「提出异议」。异议处理期间该记录暂不计分，"
           "信用中心将在 5 个工作日内答复。", "objection", "提出异议"),
    "修复": ("已纠正失信行为、履行完相关义务的，在最短公示期满后可申请信用修复：在小程序「信用修复」中提交履行证明"
           "和信用修复承诺，信用中心将在 3 个工作日内办理。", "repair", "申请信用修复"),
    "承诺": ("作出并践行文明行为信用承诺（公共环境、交通出行、文明养宠、文明旅游、乡村文明）可以提升「履约践诺」分。"
           "在小程序「信用承诺」中即可作出承诺。", "commitment", "作出信用承诺"),
}


def reply_text(message) -> str:
    if message.type == "text":
        return text_reply(message.source, (message.content or "").strip())
    if message.type == "location":
        return location_reply(message)
    if message.type == "event":
        event = message.event
        if event in ("subscribe", "subscribe_scan"):
            try:
                citizen = citizen_for_openid(message.source)
            except ApiError:
                citizen = None  # WeChat unreachable: a plain welcome still helps
            return welcome_text(citizen)
        if event == "click" and message.key:
            return text_reply(message.source, message.key.strip())
        return ""  # unsubscribe, view, location …: nothing to say
    if str(getattr(message, "_data", {}).get("MsgType", "")).lower() == "event":
        return ""  # an event wechatpy does not know (template sent, …): nothing to say either
    recognised = (getattr(message, "recognition", None) or "").strip() if message.type == "voice" else ""
    if recognised:
        # WeChat's speech recognition (when turned on for the account): answer what the follower said.
        return text_reply(message.source, recognised.rstrip("。.!！?？"))
    return menu_text()  # images, voice without recognition, links …


def text_reply(openid: str, text: str) -> str:
    if any(word in text for word in SCORE_WORDS):
        return _with_citizen(openid, score_text)
    if "权益" in text:
        return _with_citizen(openid, benefits_text)
    if "承诺" in text:
        answer = _commitments_of_follower(openid)
        if answer is not None:
            return answer  # otherwise (not bound, or WeChat busy): the general guide below
    for word, kind in CASE_WORDS.items():
        if word in text:
            return _with_citizen(openid, lambda citizen, kind=kind: cases_text(citizen, kind), guide=word)
    for word, (guide, page, label) in GUIDES.items():
        if word in text:
            return f"{guide}{_link(page, label)}"
    return menu_text()


CASE_WORDS = {"异议": "objection", "修复": "repair"}


def cases_text(citizen: Citizen, kind: str) -> str:
    """异议 / 修复: how to, then the citizen's open cases with their deadlines and recent decisions."""
    from app.rights.cases import chat_summary

    word = "异议" if kind == "objection" else "修复"
    guide, page, label = GUIDES[word]
    lines = chat_summary(citizen.id, kind)
    if not lines:
        return f"{guide}{_link(page, label)}"
    title = "您的信用异议：" if kind == "objection" else "您的信用修复申请："
    return "\n".join([title, *lines, f"{_link(page, '查看详情')}　处理结果也会发送到小程序「消息中心」。"])


def _with_citizen(openid: str, answer, guide: str | None = None) -> str:
    """``guide``: a GUIDES word whose general answer an unidentified follower gets instead of a refusal."""
    try:
        citizen = citizen_for_openid(openid)
    except ApiError:
        if guide:
            return f"{GUIDES[guide][0]}{_link(GUIDES[guide][1], GUIDES[guide][2])}"
        return "暂时无法确认您的身份（微信服务繁忙），请稍后再试。"
    if citizen is None:
        if guide:
            return f"{GUIDES[guide][0]}{_link(GUIDES[guide][1], GUIDES[guide][2])}"
        return unbound_text()
    g.actor = Actor("citizen", f"oa:{citizen.ref}")
    return answer(citizen)


def score_text(citizen: Citizen) -> str:
    if not has_consent(citizen.id, "scoring"):
        return ("您已撤回（或尚未开启）信用评分授权，因此不计算也不显示信用分。"
                f"如需查看，请在小程序「我的授权」中开启。{_link('score', '去开启')}")
    stored = db.session.get(Score, citizen.id)
    if stored is None:
        return "您的信用分正在计算中，请稍后再查。"
    try:
        rules = load_rules(stored.rules_version)
    except RulesError:
        rules = scoring.rules()
    lines = [f"{mask_name(citizen.name)}您好，您的{_app_name()}为 {stored.total} 分，"
             f"等级「{rules.level_name(stored.level)}」。"]
    lines.append("　".join(f"{DIMENSION_NAMES[key]} {getattr(stored, key)}/{rules.dimensions[key].cap}"
                          for key in DIMENSIONS))
    if stored.level == 0:
        lines.append("您目前在严重失信名单或失信被执行人名单中，暂不能享受信易+守信激励。")
    reasons = top_reasons(citizen)
    if reasons:
        lines.append("影响最大的几项：")
        lines.extend(f"{i}. {reason}" for i, reason in enumerate(reasons, 1))
    else:
        lines.append("目前没有影响分数的信用记录，各维度按基础分计算。")
    lines.append(_link("score", "查看详情和提升建议"))
    return "\n".join(lines)


def top_reasons(citizen: Citizen, count: int = 3) -> list[str]:
    """What moves the score most, records of one kind taken together (three kept commitments are one reason)."""
    kinds: dict[tuple[str, bool], list[int]] = {}
    for c in scoring.explain(citizen).contributions:
        if c.counted and c.points:
            kinds.setdefault((c.name, c.points > 0), []).append(c.points)
    ranked = sorted(kinds.items(), key=lambda item: (-abs(sum(item[1])), item[0][0]))
    return [f"{name}{f' {len(points)} 条' if len(points) > 1 else ''}（{'+' if up else ''}{sum(points)} 分）"
            for (name, up), points in ranked[:count]]


def _commitments_of_follower(openid: str) -> str | None:
    try:
        citizen = citizen_for_openid(openid)
    except ApiError:
        return None
    if citizen is None:
        return None
    g.actor = Actor("citizen", f"oa:{citizen.ref}")
    return commitment_text(citizen)


def commitment_text(citizen: Citizen) -> str:
    """承诺: the citizen's commitments (active ones with days left) and the ones they can still make, with points."""
    from app.rights import commitments

    held = commitments.list_for(citizen.id)
    lines = []
    active = [c for c in held if c["status"] == "active"]
    if active:
        lines.append("您履约中的信用承诺：")
        lines.extend(f"· {c['name']}（至 {c['ends_on'].isoformat()}，还剩 {c['days_left']} 天）" for c in active)
    closed = [c for c in held if c["status"] != "active"][:3]
    if closed:
        lines.append("最近结束的承诺：" + "；".join(f"{c['name']}（{c['status_name']}）" for c in closed))
    offers = [t for t in commitments.catalog_view(citizen.id, self_service_only=True) if not t["held"]]
    if offers:
        lines.append("您还可以作出：" + "、".join(f"{t['name']}（履约 +{t['points_kept']} 分）" for t in offers))
        lines.append("承诺期 12 个月，期内被记录相关违法或不文明行为即为未履约，按承诺书约定扣分。")
    elif not active:
        lines.append("作出并践行文明行为信用承诺可以提升「履约践诺」分。")
    return "\n".join(lines) + _link("commitment", "作出信用承诺")


def _offers_listing(citizen: Citizen, near: tuple[float, float] | None = None) -> dict | None:
    """The 信易+ listing of the benefits part, or None when it cannot be had (a chat reply must still go out)."""
    try:
        return offers_for(citizen, near=near)
    except Exception:  # noqa: BLE001 - answer with the general line rather than leave the follower without reply
        db.session.rollback()
        log.exception("could not list offers for the chatbot")
        return None


MAX_OFFERS_LISTED = 5


def benefits_text(citizen: Citizen) -> str:
    more = _link("benefits", "查看全部信易+权益")
    listing = _offers_listing(citizen)
    if listing is None:
        return ("信易+守信激励覆盖景区门票、图书借阅、公共自行车免押金等场景，按信用等级享受。"
                f"可在小程序「信易+」中查看您能享受的权益。{more}")
    if not has_consent(citizen.id, "scoring"):
        return f"信易+权益按信用等级享受。您尚未开启（或已撤回）信用评分授权，开启后即可查看。{more}"
    if listing.get("level") == 0:
        return f"您目前的信用等级为「{listing.get('level_name')}」，暂不能享受信易+守信激励。{more}"
    qualified = listing.get("qualified") or []
    if not qualified:
        return f"目前暂无您可以享受的信易+权益，新的优惠会陆续上线。{more}"
    lines = [f"您的信用等级「{listing.get('level_name')}」，可以享受 {len(qualified)} 项信易+权益："]
    for i, offer in enumerate(qualified[:MAX_OFFERS_LISTED], 1):
        scene = (offer.get("scene") or {}).get("name")
        lines.append(f"{i}. {offer.get('title')}（{offer.get('merchant_name')}{'·' + scene if scene else ''}）")
    if len(qualified) > MAX_OFFERS_LISTED:
        lines.append(f"……还有 {len(qualified) - MAX_OFFERS_LISTED} 项")
    lines.append(f"使用时请在商户处出示信用码。{more}")
    return "\n".join(lines)


NEARBY_COUNT = 3


def location_reply(message) -> str:
    """A Location message (the follower shared where they are; WeChat gives GCJ-02 Location_X = latitude,
    Location_Y = longitude): the three nearest offers they can use, or how to bind."""
    try:
        lat, lng = float(message.location_x), float(message.location_y)
    except (TypeError, ValueError):
        lat = lng = float("nan")
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):  # also false for NaN
        return "未能识别您发送的位置，请重新发送位置。"
    return _with_citizen(message.source, lambda citizen: nearby_text(citizen, lat, lng))


def _distance_text(metres: int) -> str:
    if metres < 1000:
        return f"约 {max(10, round(metres, -1))} 米"
    return f"约 {metres / 1000:.1f} 公里"


def nearby_text(citizen: Citizen, lat: float, lng: float) -> str:
    more = _link("benefits", "查看附近全部权益")
    listing = _offers_listing(citizen, near=(lat, lng))
    if listing is None:
        return f"暂时无法查询附近的信易+权益，请稍后再试。{more}"
    if not has_consent(citizen.id, "scoring"):
        return f"信易+权益按信用等级享受。您尚未开启（或已撤回）信用评分授权，开启后即可查看。{more}"
    if listing.get("level") == 0:
        return f"您目前的信用等级为「{listing.get('level_name')}」，暂不能享受信易+守信激励。{more}"
    located = [offer for offer in listing.get("qualified") or [] if offer.get("distance_m") is not None]
    if not located:
        return f"您附近暂无可以享受的信易+权益。{more}"
    lines = [f"离您最近的 {min(NEARBY_COUNT, len(located))} 项您可以享受的信易+权益："]
    for i, offer in enumerate(located[:NEARBY_COUNT], 1):
        lines.append(f"{i}. {offer['title']}（{offer['merchant_name']}·{offer['nearest_branch']}，"
                     f"{_distance_text(offer['distance_m'])}）")
    lines.append(f"使用时请在商户处出示信用码。{more}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------
# Who is writing: official-account openid -> unionid -> the bound mini-program account -> citizen
# --------------------------------------------------------------------------------------------------------


def citizen_for_openid(openid: str) -> Citizen | None:
    """The citizen behind an official-account openid, or None when they have not bound the mini-program.

    The official account and the mini-program see different openids for one person; only the unionid is shared.
    The official-account row keeps the unionid (asked of WeChat once); the binding itself lives on the
    mini-program row, so unbinding there is seen here at once.
    """
    if not openid or len(openid) > 64:
        return None
    account = db.session.scalar(select(WeChatAccount).where(WeChatAccount.app_kind == "oa",
                                                            WeChatAccount.openid == openid))
    unionid = account.unionid if account is not None else None
    no_union_key = "wechat:oa:no-unionid:" + hashlib.sha256(openid.encode()).hexdigest()
    if unionid is None and not kv.exists(no_union_key):
        unionid = wechat.oa_unionid(openid)
        account = _remember_oa_account(account, openid, unionid)
        if unionid is None:
            kv.set(no_union_key, 1, ex=_NO_UNIONID_TTL)
    if unionid is None:
        return None
    return db.session.scalar(
        select(Citizen).join(WeChatAccount, WeChatAccount.citizen_id == Citizen.id)
        .where(WeChatAccount.app_kind == "mp", WeChatAccount.unionid == unionid).limit(1))


def _remember_oa_account(account: WeChatAccount | None, openid: str, unionid: str | None) -> WeChatAccount:
    if account is None:
        account = WeChatAccount(app_kind="oa", openid=openid)
        db.session.add(account)
    account.unionid = unionid
    try:
        db.session.commit()
    except IntegrityError:
        # The same follower's retry got here first.
        db.session.rollback()
        account = db.session.scalar(select(WeChatAccount).where(WeChatAccount.app_kind == "oa",
                                                                WeChatAccount.openid == openid))
    return account
