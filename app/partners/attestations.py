"""Attestations our citizens show in a partner city, and their revocation.

A partner registered with ``credential_format: sd-jwt-vc`` gets an SD-JWT VC (app/partners/sdjwt.py: the level
always visible, the native score and the name disclosed only as the citizen chooses, a ``status`` entry in our
Token Status List, app/partners/status_list.py). Until PARTNER_LEGACY_JWS_UNTIL the others get the legacy form,
a compact JWS (``EdDSA``, our current ``kid``; header ``typ: JWT``) with the claims::

    iss       our city code ("330600")            aud   the partner's city code ("330100")
    sub       the citizen's pairwise pseudonym for that partner (see service.pseudonym)
    lvl       level on the common ladder, 1–5      lvl_name  its name in our ladder ("良好")
    iat, exp  Unix seconds (PARTNER_ATTESTATION_TTL_SECONDS, 7 days by default)
    jti       unique id (single use at the partner; the key of the revocation feed)
    score, score_name, scale   only with the citizen's raw-score-sharing consent

Any JOSE library verifies it with our ``/.well-known/jwks.json``. A citizen who falls to L0, loses their score
or withdraws partner sharing has every outstanding attestation revoked; partners pull the revoked ``jti``s (with
the pseudonym, for their own records) from ``/partner/v1/revocations``.
"""

from __future__ import annotations

import base64
import logging
import secrets
import time
from datetime import UTC, date, datetime

from flask import current_app
from sqlalchemy import exists, func, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from app import ratelimit
from app.audit import service as audit
from app.citizens.models import Citizen, Consent
from app.citizens.service import has_consent
from app.errors import ApiError
from app.extensions import db
from app.partners import jws, sdjwt, status_list
from app.partners import service as registry
from app.partners.models import Attestation, Partner
from app.scoring import service as scoring
from app.scoring.models import Score
from app.security.signing import b64url, b64url_decode, keyring
from app.signals import consent_withdrawn, scores_changed
from app.timeutil import city_today, utcnow

log = logging.getLogger(__name__)

ISSUE_LIMIT_PER_MINUTE = 10
TOO_MANY_ATTESTATIONS = ratelimit.Refusal("too_many_attestations", "申请互认证明过于频繁，请 {minutes} 分钟后再试。")
# Any fixed number: revocations take feed positions one transaction at a time (PostgreSQL advisory lock).
_FEED_LOCK_ID = 0x5A0C1B
_CURSOR_PREFIX = "r1:"
REVOKE_REASONS = {
    "restricted": "信用等级变为“受限”",
    "no_score": "信用评分授权已撤回或信用分不可用",
    "consent_withdrawn": "本人撤回城市互认共享授权",
    "raw_score_withdrawn": "本人撤回分值共享授权",
    "citizen_revoked": "本人撤销",
}


def clock() -> float:
    return time.time()


# -- issuing --------------------------------------------------------------------------------------------

def _rate_limit(citizen: Citizen) -> None:
    ratelimit.hit(f"{ISSUE_LIMIT_PER_MINUTE} per minute", TOO_MANY_ATTESTATIONS, "partner-attestations", citizen.ref)


DISCLOSABLE = ("score", "name")


def legacy_jws_allowed(today=None) -> bool:
    """Whether the compact JWS of xyf-partner/1 is still issued and accepted (PARTNER_LEGACY_JWS_UNTIL)."""
    until = date.fromisoformat(current_app.config["PARTNER_LEGACY_JWS_UNTIL"])
    return (today or city_today()) <= until


def issue(citizen: Citizen, partner_code: str, disclose: list[str] | tuple[str, ...] = ()) -> dict:
    """A signed attestation of the citizen's level for one partner city, with its record kept for revocation.

    The partner's registry row says the format: an SD-JWT VC (the level always visible; the native score and the
    name only when the citizen lists them in ``disclose``, the score also needing raw-score-sharing consent) or,
    until PARTNER_LEGACY_JWS_UNTIL, the compact JWS (the score when the citizen shares raw scores)."""
    partner = registry.find_partner(partner_code)
    if partner is None:
        raise ApiError(404, "partner_unknown", "该城市尚未与本市开展信用分互认。")
    if partner.status != "active":
        raise ApiError(409, "partner_suspended", f"与{partner.city_name}的信用分互认暂停中，暂不能出具证明。")
    if not has_consent(citizen.id, "partner_sharing"):
        raise ApiError(403, "partner_sharing_required",
                       "您尚未开启“城市互认共享授权”。开启后才能向合作城市出示您的信用等级：我的 → 我的授权。")
    if not has_consent(citizen.id, "scoring"):
        raise ApiError(409, "no_scoring_consent", "请先开启信用评分授权，才能向合作城市出示信用等级。")
    score = scoring.current_score(citizen)
    if score is None:
        raise ApiError(409, "score_not_ready", "您的信用分正在计算中，请稍后再试。")
    if score.level == 0:
        raise ApiError(403, "restricted", "您的信用等级目前为“受限”，暂不能向合作城市出具信用等级证明。"
                                          "履行相关义务后可申请信用修复。")
    sd_jwt_vc = partner.credential_format == "sd-jwt-vc"
    if not sd_jwt_vc and not legacy_jws_allowed():
        raise ApiError(409, "legacy_format_retired",
                       f"{partner.city_name}尚未启用新版互认证明格式，旧格式已停用，暂不能出具证明。")
    raw_score_consent = has_consent(citizen.id, "raw_score_sharing")
    if sd_jwt_vc and "score" in disclose and not raw_score_consent:
        raise ApiError(403, "raw_score_sharing_required",
                       "出示分值需先开启“分值共享授权”：我的 → 我的授权；也可以只出示信用等级。")
    _rate_limit(citizen)
    config = current_app.config
    rules = scoring.rules()
    now = int(clock())
    expires = now + config["PARTNER_ATTESTATION_TTL_SECONDS"]
    jti = b64url(secrets.token_bytes(16))
    subject = registry.pseudonym(partner, citizen.ref)
    key = keyring().current()
    status_entry = (None, None)
    if sd_jwt_vc:
        with_score, with_name = "score" in disclose, "name" in disclose
        status_entry = status_list.allocate()
        claims = {"iss": config["CITY_CODE"], "aud": partner.city_code, "sub": subject, "iat": now, "nbf": now,
                  "exp": expires, "jti": jti, "vct": sdjwt.VCT, "level": score.level,
                  "level_name": rules.level_name(score.level), "score_name": config["SCORE_NAME"],
                  "scale": [0, rules.max_total],
                  "status": {"status_list": {"idx": status_entry[1], "uri": status_list.uri_of(status_entry[0])}}}
        selective = {}
        if with_score:
            selective["score"] = score.total
        if with_name:
            selective["name"] = citizen.name
        issuer_jwt, disclosures = sdjwt.issue(claims, selective, key)
        token = sdjwt.present(issuer_jwt, disclosures.values())
    else:
        with_score, with_name = raw_score_consent, False
        claims = {"iss": config["CITY_CODE"], "aud": partner.city_code, "sub": subject, "lvl": score.level,
                  "lvl_name": rules.level_name(score.level), "iat": now, "exp": expires, "jti": jti}
        if with_score:
            claims.update(score=score.total, score_name=config["SCORE_NAME"], scale=[0, rules.max_total])
        token = jws.sign(claims, key)
    db.session.add(Attestation(jti=jti, citizen_id=citizen.id, partner_id=partner.id, subject=subject,
                               level=score.level, score_included=with_score, name_included=with_name,
                               credential_format=partner.credential_format, status_list_id=status_entry[0],
                               status_idx=status_entry[1], issued_at=datetime.fromtimestamp(now, UTC),
                               expires_at=datetime.fromtimestamp(expires, UTC)))
    audit.log(citizen.id, "partners.attest", f"本人向{partner.city_name}出具信用等级互认证明",
              {"partner": partner.city_code, "jti": jti, "level": score.level, "score_included": with_score,
               "name_included": with_name, "format": partner.credential_format})
    db.session.commit()
    return {
        "attestation": token, "jti": jti, "partner": {"city_code": partner.city_code, "city_name": partner.city_name,
                                                      "score_name": partner.score_name},
        "credential_format": partner.credential_format,
        "level": score.level, "level_name": rules.level_name(score.level), "score_included": with_score,
        "name_included": with_name,
        "issued_at": datetime.fromtimestamp(now, UTC), "expires_at": datetime.fromtimestamp(expires, UTC),
    }


def attestations_of(citizen: Citizen, limit: int = 50, jti: str | None = None) -> list[dict]:
    now = utcnow()
    stmt = (select(Attestation, Partner.city_code, Partner.city_name, Partner.score_name)
            .join(Partner, Partner.id == Attestation.partner_id).where(Attestation.citizen_id == citizen.id))
    if jti is not None:
        stmt = stmt.where(Attestation.jti == jti)
    rows = db.session.execute(stmt.order_by(Attestation.id.desc()).limit(limit)).all()
    out = []
    for attestation, code, name, score_name in rows:
        state = ("revoked" if attestation.revoked_at else "expired" if attestation.expires_at <= now else "valid")
        out.append({"jti": attestation.jti, "partner": {"city_code": code, "city_name": name, "score_name": score_name},
                    "credential_format": attestation.credential_format, "name_included": attestation.name_included,
                    "level": attestation.level, "score_included": attestation.score_included,
                    "issued_at": attestation.issued_at, "expires_at": attestation.expires_at, "state": state,
                    "revoked_at": attestation.revoked_at,
                    "revoke_reason": REVOKE_REASONS.get(attestation.revoke_reason or "")})
    return out


# -- revoking -------------------------------------------------------------------------------------------

_A = Attestation.__table__


def revoke_own(citizen: Citizen, jti: str) -> dict:
    """The citizen withdraws one attestation they issued: partners see it in the revocation feed."""
    row = db.session.scalar(select(Attestation).where(Attestation.jti == jti, Attestation.citizen_id == citizen.id))
    if row is None:
        raise ApiError(404, "attestation_not_found", "未找到该互认证明。")
    if row.revoked_at is not None:
        raise ApiError(409, "attestation_already_revoked", "该互认证明已撤销。")
    if row.expires_at <= utcnow():
        raise ApiError(409, "attestation_expired", "该互认证明已过期，合作城市不再认可，无需撤销。")
    revoked = _revoke(db.session.connection(), select(_A.c.id).where(_A.c.id == row.id, _A.c.revoked_at.is_(None)),
                      "citizen_revoked")
    if not revoked:  # revoked a moment ago by another request or the sweep
        db.session.rollback()
        raise ApiError(409, "attestation_already_revoked", "该互认证明已撤销。")
    audit.log(citizen.id, "partners.revoke", "本人撤销城市信用分互认证明", {"jti": jti})
    db.session.commit()
    return attestations_of(citizen, 1, jti=jti)[0]


def _revoke(connection: Connection, candidates, reason: str) -> int:
    """Revoke the outstanding attestations selected by ``candidates`` (a select of ids); returns how many.

    Feed positions are handed out in commit order: on PostgreSQL under an advisory lock held to commit; on SQLite
    the single writer does it, and the unique position catches the rare race (the nightly sweep retries).
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _FEED_LOCK_ID})
    ids = list(connection.execute(candidates).scalars())
    if not ids:
        return 0
    now = utcnow()
    position = connection.execute(select(func.coalesce(func.max(_A.c.revocation_seq), 0))).scalar_one()
    for attestation_id in sorted(ids):
        position += 1
        connection.execute(update(_A).where(_A.c.id == attestation_id, _A.c.revoked_at.is_(None))
                           .values(revoked_at=now, revoke_reason=reason, revocation_seq=position))
    log.info("partner attestations revoked", extra={"fields": {"count": len(ids), "reason": reason}})
    return len(ids)


def _outstanding(citizen_ids: list[int], now: datetime):
    return (select(_A.c.id).where(_A.c.citizen_id.in_(citizen_ids), _A.c.revoked_at.is_(None),
                                  _A.c.expires_at > now))


def _revoke_on_own_connection(work) -> int:
    """Listeners run after the session's commit, when the session can emit no SQL: they use a connection of their
    own. A failure is logged, never raised into the request whose commit already succeeded; the sweep of
    :func:`sweep` catches up."""
    for attempt in (1, 2):
        try:
            with db.engine.begin() as connection:
                return work(connection)
        except IntegrityError:
            if attempt == 2:
                log.exception("revoking partner attestations failed twice; the nightly sweep will retry")
        except Exception:  # noqa: BLE001 - see the docstring
            log.exception("revoking partner attestations failed; the nightly sweep will retry")
            return 0
    return 0


def _chunks(ids: list[int], size: int = 900):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def revoke_ineligible(connection: Connection, citizen_ids: list[int]) -> int:
    """Revoke the outstanding attestations of those of ``citizen_ids`` now at L0 or without a score."""
    now = utcnow()
    revoked = 0
    score = Score.__table__
    for chunk in _chunks(sorted(set(citizen_ids))):
        for reason, condition in (("restricted", score.c.level == 0), ("no_score", score.c.citizen_id.is_(None))):
            candidates = (_outstanding(chunk, now).outerjoin(score, score.c.citizen_id == _A.c.citizen_id)
                          .where(condition))
            revoked += _revoke(connection, candidates, reason)
    return revoked


def _any_outstanding(connection: Connection) -> bool:
    return bool(connection.execute(select(exists().where(_A.c.revoked_at.is_(None), _A.c.expires_at > utcnow())))
                .scalar())


def _on_scores_changed(_app, citizen_ids) -> None:
    def work(connection):
        # A city-wide recompute announces thousands of citizens per chunk: most cities hold few attestations.
        if not citizen_ids or not _any_outstanding(connection):
            return 0
        return revoke_ineligible(connection, list(citizen_ids))

    _revoke_on_own_connection(work)


def _on_consent_withdrawn(_app, citizen_id, kinds) -> None:
    if "partner_sharing" in kinds:
        reason, only_with_score = "consent_withdrawn", False
    elif "raw_score_sharing" in kinds:
        reason, only_with_score = "raw_score_withdrawn", True
    elif "scoring" in kinds:
        reason, only_with_score = "no_score", False
    else:
        return

    def work(connection):
        candidates = _outstanding([citizen_id], utcnow())
        if only_with_score:
            candidates = candidates.where(_A.c.score_included.is_(True))
        return _revoke(connection, candidates, reason)

    _revoke_on_own_connection(work)


scores_changed.connect(_on_scores_changed)
consent_withdrawn.connect(_on_consent_withdrawn)


def sweep() -> int:
    """Second line of defence (nightly): revoke whatever a listener missed — L0, no score, no partner consent."""
    connection = db.session.connection()
    now = utcnow()
    holders = list(connection.execute(select(_A.c.citizen_id).where(_A.c.revoked_at.is_(None), _A.c.expires_at > now)
                                      .distinct()).scalars())
    revoked = revoke_ineligible(connection, holders)
    consent = Consent.__table__
    no_consent = ~exists().where(consent.c.citizen_id == _A.c.citizen_id, consent.c.kind == "partner_sharing",
                                 consent.c.withdrawn_at.is_(None))
    no_raw = ~exists().where(consent.c.citizen_id == _A.c.citizen_id, consent.c.kind == "raw_score_sharing",
                             consent.c.withdrawn_at.is_(None))
    for chunk in _chunks(holders):
        revoked += _revoke(connection, _outstanding(chunk, now).where(no_consent), "consent_withdrawn")
        revoked += _revoke(connection, _outstanding(chunk, now).where(_A.c.score_included.is_(True), no_raw),
                           "raw_score_withdrawn")
    db.session.commit()
    return revoked


# -- the feed partners pull ----------------------------------------------------------------------------------

def _cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{position}".encode()).rstrip(b"=").decode()


# revocation_seq is a 32-bit INTEGER column: a larger position cannot be compared with it on PostgreSQL.
_MAX_POSITION = 2**31 - 1


def _position(cursor: str | None) -> int:
    if not cursor or cursor == "0":
        return 0  # the first pull: no cursor, an empty one, or "0" as partners tend to try
    try:
        raw = b64url_decode(cursor).decode()
        if not raw.startswith(_CURSOR_PREFIX):
            raise ValueError(cursor)
        digits = raw[len(_CURSOR_PREFIX):]
        if not digits.isascii() or not digits.isdigit() or len(digits) > 10:
            raise ValueError(cursor)
        position = int(digits)
        if position > _MAX_POSITION:
            raise ValueError(cursor)
        return position
    except (ValueError, UnicodeDecodeError):
        raise ApiError(422, "bad_cursor", "cursor 无效：请使用上次应答中的 cursor，首次拉取不带此参数。",
                       {"since": ["无效的 cursor。"]}) from None


def revocation_feed(partner: Partner, since: str | None, limit: int = 500) -> dict:
    """Attestations issued for ``partner`` and revoked after ``since``, oldest first, with the next cursor."""
    after = _position(since)
    rows = db.session.execute(
        select(_A.c.jti, _A.c.subject, _A.c.revoked_at, _A.c.revoke_reason, _A.c.revocation_seq, _A.c.expires_at)
        .where(_A.c.partner_id == partner.id, _A.c.revocation_seq > after)
        .order_by(_A.c.revocation_seq).limit(limit + 1)).all()
    page = rows[:limit]
    return {
        "items": [{"jti": row.jti, "sub": row.subject, "revoked_at": row.revoked_at, "reason": row.revoke_reason,
                   "exp": int(row.expires_at.timestamp())} for row in page],
        "cursor": _cursor(page[-1].revocation_seq if page else after),
        "has_more": len(rows) > limit,
    }


def outstanding_count(partner_id: int | None = None) -> int:
    stmt = select(func.count()).select_from(_A).where(_A.c.revoked_at.is_(None), _A.c.expires_at > utcnow())
    if partner_id is not None:
        stmt = stmt.where(_A.c.partner_id == partner_id)
    return db.session.scalar(stmt) or 0
