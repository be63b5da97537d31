"""A merchant terminal verifies a credit code for one offer; an eligible code is redeemed at once.

Order of checks (the first that fails is the answer): the code's format, key, signature and expiry; whether
the code was already used; the offer (exists, active, within its dates); merchant and branch; then the holder:
consent, restriction (L0), level / minimum score; then per-citizen limits and the quota.

Single use: right after its signature, the code is claimed in the key-value store (``SET NX``): a second scan,
on any server, hears "already used" before the offer and the holder are looked at — a cashier who scans a spent
code twice must hear that, not "limit reached" because the first scan used up today's limit. A refusal after
the claim gives the code back, so the customer can use it elsewhere. The redemption row's unique ``code_id``
stays the final word if the store forgets.

Concurrency: a redemption first takes a place in the quota with one conditional
``UPDATE … SET redeemed_count = redeemed_count + 1 WHERE quota IS NULL OR redeemed_count < quota``. That
statement holds the offer's row (PostgreSQL) or the database's single writer lock (SQLite) until commit, so the
holder, the per-citizen limits and the used-code check read next (one statement) see a settled ledger; a
refusal after it rolls the place back. A CHECK (redeemed_count <= quota) backs the quota in the database.

Cost: this runs on every scan at every counter of the city, so the hot path uses prebuilt Core statements on the
session's connection (building and compiling ORM statements per request cost more than the round trips), the
terminal and the offer come from a per-process cache of a few seconds (``app/local_cache.py``), and a successful
scan makes six statements: reservation, holder with usage, redemption, attempt, audit entry, commit. On
PostgreSQL the three writes are one statement and travel with the commit, the reservation and the read with the
transaction's start: two round trips (``ledger_sql``).

A partner city's citizen (互认) shows their home city's credit code or an attestation made for us; it is checked
by the checker app/partners registered in ``benefits.visitors`` (issuer, key, signature, audience, expiry,
revocation) instead of our own code check, must meet the offer's partner minimum level on offers open to partner
citizens, and is limited and used once under the issuer and the pseudonym it carries. Its redemption is announced
in the same transaction (``partner_redeemed``), so app/partners queues a receipt for the home city there; the
receipt is sent once the merchant has its answer (``partner_redemptions_committed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import Boolean, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from app import local_cache, metrics
from app.audit import service as audit
from app.audit.service import Actor
from app.bulk import is_postgresql
from app.citizens.models import Citizen, Consent
from app.errors import ApiError
from app.extensions import db, kv
from app.scoring import service as scoring
from app.scoring.models import Score
from app.security.pii import mask_name
from app.security.secrets_util import digest, new_ref
from app.signals import partner_redeemed, partner_redemption_cancelled, partner_redemptions_committed
from app.timeutil import CITY_TZ
from benefits import codes, credit_code, ledger_sql, visitors
from benefits.catalog import VERIFICATION_CACHE
from benefits.models import Attempt, Branch, Merchant, Offer, Redemption, Subject, Terminal, offer_branch

CANCEL_WINDOW = timedelta(minutes=30)

# What the cashier's screen says for each reason.
REASONS: dict[str, str] = {
    "ok": "核验通过，权益已核销。",
    "malformed": "无法识别的信用码，请顾客在小程序中刷新后重新出示。",
    "unknown_key": "无法识别该信用码的签发密钥，请顾客刷新信用码后重试。",
    "bad_signature": "信用码签名校验失败，可能被篡改或伪造。",
    "expired": "信用码已过期，请顾客刷新后重新出示。",
    "already_used": "该信用码已使用，请顾客刷新后重新出示。",
    "offer_not_found": "没有这个权益，请刷新权益列表。",
    "offer_inactive": "该权益已暂停或不在有效期内。",
    "wrong_merchant_or_branch": "该权益不适用于本商户或本门店。",
    "consent_withdrawn": "顾客已撤回信用评分授权，无法享受信易+权益。",
    "restricted": "顾客的信用等级为“受限”，不能享受信易+权益。",
    "level_too_low": "顾客的信用等级未达到该权益的要求。",
    "limit_reached": "顾客使用该权益的次数已达上限。",
    "quota_exhausted": "该权益的名额已用完。",
    "partner_unknown": "出示的是未与本市开展信用分互认的城市的凭证。",
    "partner_suspended": "与该城市的信用分互认暂停中，暂不能核验其市民的凭证。",
    "wrong_audience": "该互认证明不是出具给本市的，请顾客在本人城市的小程序中申请给本市的证明。",
    "attestation_revoked": "该互认证明已被签发城市撤销。",
    "partner_not_accepted": "该权益仅限本市居民，不对互认城市市民开放。",
    "key_out_of_window": "该凭证的签发密钥不在有效期内，请顾客刷新后重新出示。",
    "partner_keys_stale": "暂时无法取得签发城市的最新公钥，请稍后重试。",
    "bad_disclosure": "互认证明中的出示信息与签名不符，可能被篡改。",
    "status_unavailable": "暂时无法核实该互认证明是否已被撤销，请稍后重试。",
    "legacy_format_retired": "该互认证明为已停用的旧格式，请顾客在本人城市的小程序中重新申请。",
}
PARTNER_OK = "核验通过（{city}市民，{score_name}互认），权益已核销。"
LIMIT_MESSAGES = {
    "day": "顾客今天已使用过该权益，请明天再来。",
    "month": "顾客本月使用该权益的次数已达上限。",
    "total": "顾客使用该权益的次数已达上限。",
}

_TERMINAL = Terminal.__table__
_MERCHANT = Merchant.__table__
_OFFER = Offer.__table__
_BRANCH = Branch.__table__
_REDEMPTION = Redemption.__table__
_ATTEMPT = Attempt.__table__

_TERMINAL_BY_DIGEST = (
    select(_TERMINAL.c.id, _TERMINAL.c.ref, _TERMINAL.c.name, _TERMINAL.c.branch_id, _TERMINAL.c.revoked_at,
           _MERCHANT.c.id.label("merchant_id"), _MERCHANT.c.ref.label("merchant_ref"),
           _MERCHANT.c.name.label("merchant_name"), _MERCHANT.c.status)
    .join(_MERCHANT, _MERCHANT.c.id == _TERMINAL.c.merchant_id)
    .where(_TERMINAL.c.key_digest == bindparam("digest"))
)
# The offer, its merchant's status and the branch asked for (by ref, or the terminal's own by id), in one trip.
_OFFER_COLUMNS = (
    _OFFER.c.id, _OFFER.c.merchant_id, _OFFER.c.status, _OFFER.c.valid_from, _OFFER.c.valid_until,
    _OFFER.c.min_level, _OFFER.c.min_score, _OFFER.c.limit_per_day, _OFFER.c.limit_per_month, _OFFER.c.limit_total,
    _OFFER.c.quota, _OFFER.c.partner_allowed, _OFFER.c.partner_min_level, _MERCHANT.c.status.label("merchant_status"),
    _BRANCH.c.id.label("branch_id"), _BRANCH.c.merchant_id.label("branch_merchant_id"),
    _BRANCH.c.active.label("branch_active"),
    exists().where(offer_branch.c.offer_id == _OFFER.c.id).label("offer_has_branches"),
    exists().where(offer_branch.c.offer_id == _OFFER.c.id, offer_branch.c.branch_id == _BRANCH.c.id)
    .label("offer_at_branch"),
)
_OFFER_AT_BRANCH_REF = (
    select(*_OFFER_COLUMNS).join(_MERCHANT, _MERCHANT.c.id == _OFFER.c.merchant_id)
    .outerjoin(_BRANCH, _BRANCH.c.ref == bindparam("branch_ref")).where(_OFFER.c.ref == bindparam("ref"))
)
_OFFER_AT_BRANCH_ID = (
    select(*_OFFER_COLUMNS).join(_MERCHANT, _MERCHANT.c.id == _OFFER.c.merchant_id)
    .outerjoin(_BRANCH, _BRANCH.c.id == bindparam("branch_id")).where(_OFFER.c.ref == bindparam("ref"))
)
# Take a place in the quota; the statement also holds the offer until commit (see the module's docstring).
_RESERVE = (
    update(_OFFER)
    .where(_OFFER.c.id == bindparam("offer_id"),
           or_(_OFFER.c.quota.is_(None), _OFFER.c.redeemed_count < _OFFER.c.quota))
    # updated_at explicitly: the column's Python-side onupdate does not reach a statement run by the driver.
    .values(redeemed_count=_OFFER.c.redeemed_count + 1, updated_at=bindparam("now"))
    .returning(_OFFER.c.id)
)
_CITIZEN = Citizen.__table__
_SUBJECT = Subject.__table__
_SCORE = Score.__table__
_CONSENT = Consent.__table__


def _usage_columns(live) -> tuple:
    """Uses of this offer today, this month and ever (not cancelled), and whether this code was used. A count
    runs only when the offer has that limit (the ``count_*`` flags): a one-time filter, so an offer without limits
    reads none of the holder's past redemptions, which grow with every use."""
    def count(flag: str, *conditions):
        return select(func.count()).where(bindparam(flag, type_=Boolean), live, *conditions).scalar_subquery()

    return (count("count_day", _REDEMPTION.c.city_day == bindparam("today")).label("day"),
            count("count_month", _REDEMPTION.c.city_day >= bindparam("month_start")).label("month"),
            count("count_total").label("total"),
            exists().where(_REDEMPTION.c.code_id == bindparam("code_id")).label("code_used"))


# One of ours: who holds the code (name, scoring consent, current score) and their use of the offer, in one trip.
_HOLDER_AND_USAGE = (
    select(_CITIZEN.c.id, _CITIZEN.c.name,
           exists().where(_CONSENT.c.citizen_id == _CITIZEN.c.id, _CONSENT.c.kind == "scoring",
                          _CONSENT.c.withdrawn_at.is_(None)).label("consent"),
           _SCORE.c.level, _SCORE.c.total.label("score_total"),
           *_usage_columns((_REDEMPTION.c.offer_id == bindparam("offer_id"))
                           & (_REDEMPTION.c.citizen_id == _CITIZEN.c.id) & _REDEMPTION.c.cancelled_at.is_(None)))
    .join(_SUBJECT, _SUBJECT.c.citizen_id == _CITIZEN.c.id)
    .outerjoin(_SCORE, _SCORE.c.citizen_id == _CITIZEN.c.id)
    .where(_SUBJECT.c.subject == bindparam("subject"))
)
# A partner city's citizen: the same counts, keyed by the issuing city and the pseudonym its token carries.
_PARTNER_USAGE = select(*_usage_columns((_REDEMPTION.c.offer_id == bindparam("offer_id"))
                                        & (_REDEMPTION.c.partner_id == bindparam("partner_id"))
                                        & (_REDEMPTION.c.partner_subject == bindparam("partner_subject"))
                                        & _REDEMPTION.c.cancelled_at.is_(None)))
_INSERT_REDEMPTION = insert(_REDEMPTION).returning(_REDEMPTION.c.id)
_INSERT_ATTEMPT = insert(_ATTEMPT)
_AUDIT_ACTION, _AUDIT_REASON = "benefits.verify", "商户扫码核验信易+权益"


@dataclass(frozen=True)
class TerminalInfo:
    """The authenticated caller of the merchant API."""

    id: int
    ref: str
    name: str
    branch_id: int | None
    merchant_id: int
    merchant_ref: str
    merchant_name: str


def _terminal_row(key_digest: str):
    return db.session.connection().execute(_TERMINAL_BY_DIGEST, {"digest": key_digest}).first()


def authenticate_terminal(key: str) -> TerminalInfo | None | str:
    """The terminal for an API key; None when unknown or revoked, "suspended" when its merchant is."""
    key_digest = digest(key)
    row = local_cache.get(VERIFICATION_CACHE, ("terminal", key_digest), lambda: _terminal_row(key_digest))
    if row is None or row.revoked_at is not None:
        return None
    if row.status != "active":
        return "suspended"
    return TerminalInfo(row.id, row.ref, row.name, row.branch_id, row.merchant_id, row.merchant_ref,
                        row.merchant_name)


@dataclass
class Outcome:
    eligible: bool
    reason: str
    message: str
    level_name: str | None = None
    masked_name: str | None = None
    redemption_id: str | None = None
    partner_city: str | None = None  # the holder's home city, for a partner city's citizen

    def as_dict(self) -> dict:
        body = {"eligible": self.eligible, "reason": self.reason, "message": self.message,
                "level_name": self.level_name, "masked_name": self.masked_name}
        if self.redemption_id:
            body["redemption_id"] = self.redemption_id
        if self.partner_city:
            body["partner_city"] = self.partner_city
        return body


@dataclass
class _Ledger:
    """Collects what is known about one attempt and writes it (with its audit entry) once, at the end."""

    terminal: TerminalInfo
    now: datetime
    today: date
    offer_id: int | None = None
    offer_ref: str | None = None
    branch_id: int | None = None
    citizen_id: int | None = None
    partner_id: int | None = None
    partner_city: str | None = None
    code_id: str | None = None
    level_name: str | None = None
    masked_name: str | None = None

    def _attempt(self, reason: str, eligible: bool) -> dict:
        return {"created_at": self.now, "city_day": self.today, "terminal_id": self.terminal.id,
                "merchant_id": self.terminal.merchant_id, "offer_id": self.offer_id, "branch_id": self.branch_id,
                "citizen_id": self.citizen_id, "partner_id": self.partner_id, "code_id": self.code_id,
                "reason": reason, "eligible": eligible}

    def _audit_details(self, reason: str) -> dict:
        return {"merchant": self.terminal.merchant_name, "merchant_id": self.terminal.merchant_ref,
                "terminal_id": self.terminal.ref, "offer_id": self.offer_ref, "branch": self.branch_id,
                "result": reason}

    def _audit_params(self, reason: str) -> dict:
        details = self._audit_details(reason)
        return {"actor_type": "merchant", "actor_id": self.terminal.merchant_ref, "action": _AUDIT_ACTION,
                "audit_reason": _AUDIT_REASON, "details": ledger_sql.audit_details(details),
                "seal": audit.seal_of(self.now, "merchant", self.terminal.merchant_ref, self.citizen_id,
                                      _AUDIT_ACTION, _AUDIT_REASON, details)}

    def _write(self, reason: str, eligible: bool, redemption_id: int | None) -> None:
        metrics.VERIFICATIONS.labels(reason).inc()
        connection = db.session.connection()
        if redemption_id is None and is_postgresql(connection):
            # The attempt (and its audit entry) and the commit in one round trip.
            if self.citizen_id is None:
                ledger_sql.write_and_commit(connection, ledger_sql.ATTEMPT, self._attempt(reason, eligible))
            else:
                ledger_sql.write_and_commit(connection, ledger_sql.ATTEMPT_AND_AUDIT,
                                            {**self._attempt(reason, eligible), **self._audit_params(reason)})
            db.session.commit()  # ends the session's transaction: nothing is left to send
            return
        connection.execute(_INSERT_ATTEMPT, {**self._attempt(reason, eligible), "redemption_id": redemption_id})
        if self.citizen_id is not None:
            # A merchant learned something about this person (at least that the code is theirs): 全过程留痕.
            audit.log(self.citizen_id, _AUDIT_ACTION, _AUDIT_REASON, self._audit_details(reason),
                      actor=Actor("merchant", self.terminal.merchant_ref))
        db.session.commit()

    def redeem_in_one_statement(self, redemption_ref: str) -> Outcome:
        """PostgreSQL, one of our citizens: the redemption, the attempt, the audit entry and the commit in one
        round trip (IntegrityError when the code's row exists, as with the separate insert)."""
        ledger_sql.write_and_commit(db.session.connection(), ledger_sql.REDEMPTION_ATTEMPT_AND_AUDIT, {
            **self._attempt("ok", True), **self._audit_params("ok"), "ref": redemption_ref})
        db.session.commit()
        metrics.VERIFICATIONS.labels("ok").inc()
        return Outcome(True, "ok", REASONS["ok"], self.level_name, self.masked_name, redemption_ref, self.partner_city)

    def refuse(self, reason: str, message: str | None = None) -> Outcome:
        self._write(reason, False, None)
        return Outcome(False, reason, message or REASONS[reason], self.level_name, self.masked_name,
                       partner_city=self.partner_city)

    def succeed(self, redemption_id: int, redemption_ref: str, message: str | None = None) -> Outcome:
        self._write("ok", True, redemption_id)
        return Outcome(True, "ok", message or REASONS["ok"], self.level_name, self.masked_name, redemption_ref,
                       self.partner_city)


def _used_key(code_id: str) -> str:
    return f"benefits:used:{code_id}"


def _branch_for(terminal: TerminalInfo, offer) -> int | None:
    """The branch of this redemption, or None when the offer or the branch is not this terminal's to redeem."""
    if offer.merchant_id != terminal.merchant_id or offer.branch_id is None:
        return None
    if offer.branch_merchant_id != terminal.merchant_id or not offer.branch_active:
        return None
    if terminal.branch_id is not None and offer.branch_id != terminal.branch_id:
        return None
    if offer.offer_has_branches and not offer.offer_at_branch:
        return None
    return offer.branch_id


def _limit_hit(offer, usage) -> str | None:
    for period, limit, used in (("day", offer.limit_per_day, usage.day), ("month", offer.limit_per_month, usage.month),
                                ("total", offer.limit_total, usage.total)):
        if limit is not None and used >= limit:
            return period
    return None


def _check_token(token: str, now_ts: float) -> tuple[str, int, visitors.PartnerHolder | None, object]:
    """(code id, expiry, partner holder or None, our code's claims or None); raises CodeRefused."""
    if visitors.is_partner_token(token):
        holder = visitors.verify_token(token, now_ts)
        return holder.code_id, holder.expires_at, holder, None
    claims = codes.verify(token, credit_code.key_for, now_ts)
    return claims.code_id, claims.expires_at, None, claims


def _offer_row(terminal: TerminalInfo, offer_ref: str, branch_ref: str | None):
    """The offer with its merchant's status and the branch asked for (or, when none is named, the terminal's)."""
    def load():
        connection = db.session.connection()
        if branch_ref or terminal.branch_id is None:
            return connection.execute(_OFFER_AT_BRANCH_REF, {"ref": offer_ref, "branch_ref": branch_ref}).first()
        return connection.execute(_OFFER_AT_BRANCH_ID, {"ref": offer_ref, "branch_id": terminal.branch_id}).first()

    return local_cache.get(VERIFICATION_CACHE, ("offer", offer_ref, branch_ref, terminal.branch_id), load)


def verify(terminal: TerminalInfo, token: str, offer_ref: str, branch_ref: str | None = None) -> Outcome:
    now_ts = credit_code.clock()
    now = datetime.fromtimestamp(now_ts, UTC)
    ledger = _Ledger(terminal, now, now.astimezone(CITY_TZ).date(), offer_ref=offer_ref)
    try:
        code_id, expires_at, holder, claims = _check_token(token, now_ts)
    except codes.CodeRefused as refusal:
        return ledger.refuse(refusal.reason)
    ledger.code_id = code_id
    if holder is not None:
        ledger.partner_id, ledger.partner_city = holder.partner_id, holder.city_name
    used_key = _used_key(code_id)
    # Kept a little past the code's expiry; after that the expiry check refuses the code anyway.
    if not kv.set(used_key, terminal.ref, nx=True, ex=max(expires_at - int(now_ts), 0) + 120):
        return ledger.refuse("already_used")
    try:
        outcome = _redeem(ledger, terminal, holder, claims, offer_ref, branch_ref)
    except Exception:
        # Nothing was redeemed (or, if the commit itself was cut off, the code's unique row says so on the next
        # try): let the customer try the same code again. First, since the rollback can fail too (a dead link).
        kv.delete(used_key)
        db.session.rollback()
        raise
    if outcome.reason not in ("ok", "already_used"):
        kv.delete(used_key)  # refused: the code is still the customer's to use
    if outcome.eligible and holder is not None:
        partner_redemptions_committed.send(current_app._get_current_object(), partner_id=holder.partner_id)
    return outcome


def _redeem(ledger: _Ledger, terminal: TerminalInfo, holder: visitors.PartnerHolder | None, claims,
            offer_ref: str, branch_ref: str | None) -> Outcome:
    """Everything after the code was claimed: offer, branch, holder, limits, quota; the redemption if all hold."""
    offer = _offer_row(terminal, offer_ref, branch_ref)
    if offer is None:
        ledger.offer_ref = None
        return ledger.refuse("offer_not_found")
    ledger.offer_id = offer.id
    if (offer.status != "active" or offer.merchant_status != "active"
            or (offer.valid_from and ledger.today < offer.valid_from)
            or (offer.valid_until and ledger.today > offer.valid_until)):
        return ledger.refuse("offer_inactive")
    branch_id = _branch_for(terminal, offer)
    if branch_id is None:
        return ledger.refuse("wrong_merchant_or_branch")
    ledger.branch_id = branch_id
    if holder is not None:
        if not offer.partner_allowed:
            return ledger.refuse("partner_not_accepted")
        ledger.level_name = scoring.rules().level_name(holder.level)
        if holder.level == 0:
            return ledger.refuse("restricted")
        if holder.level < (offer.partner_min_level or offer.min_level):
            return ledger.refuse("level_too_low")

    connection = db.session.connection()
    usage_params = {"offer_id": offer.id, "code_id": ledger.code_id, "today": ledger.today,
                    "month_start": ledger.today.replace(day=1), "count_day": offer.limit_per_day is not None,
                    "count_month": offer.limit_per_month is not None, "count_total": offer.limit_total is not None}
    if holder is not None:
        reserved, usage = _reserve_and_read(connection, offer.id, ledger.now, _PARTNER_USAGE, {
            **usage_params, "partner_id": holder.partner_id, "partner_subject": holder.subject})
        holder_columns = {"citizen_id": None, "partner_id": holder.partner_id, "partner_subject": holder.subject}
    else:
        reserved, usage = _reserve_and_read(connection, offer.id, ledger.now, _HOLDER_AND_USAGE,
                                            {**usage_params, "subject": claims.subject})
        refusal = _holder_refusal(ledger, offer, usage, claims.level)
        if refusal:
            db.session.rollback()  # gives the reserved place back
            return ledger.refuse(refusal)
        holder_columns = {"citizen_id": usage.id, "partner_id": None, "partner_subject": None}

    period = _limit_hit(offer, usage)
    refusal = "already_used" if usage.code_used else "limit_reached" if period else None if reserved else \
        "quota_exhausted"
    if refusal:
        db.session.rollback()  # gives the reserved place back
        return ledger.refuse(refusal, LIMIT_MESSAGES[period] if refusal == "limit_reached" else None)
    try:
        redemption_ref = new_ref()
        if holder is None and is_postgresql(connection):
            return ledger.redeem_in_one_statement(redemption_ref)
        redemption_id = connection.execute(_INSERT_REDEMPTION, {
            "ref": redemption_ref, "code_id": ledger.code_id, **holder_columns, "offer_id": offer.id,
            "merchant_id": terminal.merchant_id, "branch_id": ledger.branch_id, "terminal_id": terminal.id,
            "city_day": ledger.today, "redeemed_at": ledger.now, "cancelled_at": None}).scalar_one()
        if holder is None:
            return ledger.succeed(redemption_id, redemption_ref)
        partner_redeemed.send(current_app._get_current_object(), connection=connection, holder=holder,
                              redemption_id=redemption_id)
        return ledger.succeed(redemption_id, redemption_ref,
                              PARTNER_OK.format(city=holder.city_name, score_name=holder.score_name))
    except IntegrityError:
        # The code's row exists although the key-value store had forgotten it: the database has the last word.
        db.session.rollback()
        return ledger.refuse("already_used")


def _reserve_and_read(connection, offer_id: int, now: datetime, read, params: dict):
    """Take a place in the offer's quota, then read the holder's use of it: (place taken, the row read). On
    PostgreSQL both travel in one round trip (``ledger_sql``); the read still runs after the reservation."""
    if is_postgresql(connection):
        return ledger_sql.reserve_and_read(connection, _RESERVE, {"offer_id": offer_id, "now": now}, read, params)
    reserved = connection.execute(_RESERVE, {"offer_id": offer_id, "now": now}).first() is not None
    return reserved, connection.execute(read, params).first()


def _holder_refusal(ledger: _Ledger, offer, holder, code_level: int) -> str | None:
    """Why one of our citizens may not have this offer (consent, restriction, level), or None; records on the
    ledger who they are and what the cashier may see (level name, masked name)."""
    if holder is None or not holder.consent:
        ledger.citizen_id = holder.id if holder else None
        return "consent_withdrawn"
    ledger.citizen_id = holder.id
    # The server answers from the current score; the level inside the code serves offline checks.
    level = holder.level if holder.level is not None else code_level
    ledger.level_name, ledger.masked_name = scoring.rules().level_name(level), mask_name(holder.name)
    if level == 0:
        return "restricted"
    if level < offer.min_level or (offer.min_score is not None and (holder.score_total or 0) < offer.min_score):
        return "level_too_low"
    return None


def _lock_offer(offer_id: int) -> None:
    """Hold the offer row until commit (cancellations; redemptions lock it by reserving a place)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Offer.id).where(Offer.id == offer_id).with_for_update())
    else:
        # SQLite has no row locks: the first write of a transaction takes the single writer lock instead.
        db.session.execute(update(Offer).where(Offer.id == offer_id).values(redeemed_count=Offer.redeemed_count))


def cancel(terminal: TerminalInfo, redemption_ref: str) -> Redemption:
    """Undo a redemption of this merchant within 30 minutes; the use and the quota place are given back."""
    now = datetime.fromtimestamp(credit_code.clock(), UTC)
    offer_id = db.session.scalar(select(Redemption.offer_id).where(Redemption.ref == redemption_ref,
                                                                   Redemption.merchant_id == terminal.merchant_id))
    if offer_id is None:
        raise ApiError(404, "redemption_not_found", "未找到本商户的这笔核销记录。")
    _lock_offer(offer_id)
    redemption = db.session.scalar(select(Redemption).where(Redemption.ref == redemption_ref)
                                   .execution_options(populate_existing=True))
    if redemption.cancelled_at is not None:
        db.session.commit()
        return redemption  # a scanner retrying its cancel gets the same answer
    if now - redemption.redeemed_at > CANCEL_WINDOW:
        db.session.rollback()
        raise ApiError(409, "cancel_window_passed", "核销超过 30 分钟，不能再撤销。如有误请联系信用中心。")
    redemption.cancelled_at = now
    db.session.execute(update(Offer).where(Offer.id == offer_id).values(redeemed_count=Offer.redeemed_count - 1))
    # A partner citizen's home city holds a receipt of it: send it again, now saying cancelled.
    partner_id = redemption.partner_id
    if partner_id is not None:
        partner_redemption_cancelled.send(current_app._get_current_object(), redemption_id=redemption.id)
    audit.log(redemption.citizen_id, "benefits.cancel", "商户撤销信易+权益核销",
              {"merchant": terminal.merchant_name, "merchant_id": terminal.merchant_ref,
               "terminal_id": terminal.ref, "redemption_id": redemption.ref, "branch": redemption.branch_id},
              actor=Actor("merchant", terminal.merchant_ref))
    db.session.commit()
    if partner_id is not None:
        partner_redemptions_committed.send(current_app._get_current_object(), partner_id=partner_id)
    return redemption
