"""Issuing a citizen's credit code (扫码亮信) and resolving the pseudonymous subject a code carries."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from app import ratelimit
from app.citizens.models import Citizen
from app.citizens.service import has_consent
from app.errors import ApiError
from app.extensions import db
from app.scoring import service as scoring
from app.security.keys import load_or_create_secret
from app.security.signing import b64url, b64url_decode, keyring
from benefits import codes, qr
from benefits.models import Subject

# A citizen refreshing the code by hand never comes near this; a script hammering the endpoint does.
ISSUE_LIMIT_PER_MINUTE = 30
TOO_MANY_CODES = ratelimit.Refusal("too_many_codes", "刷新信用码过于频繁，请 {minutes} 分钟后再试。")
RESTRICTED_MESSAGE = ("您的信用等级目前为“受限”（存在失信被执行人或严重失信名单记录），暂不能享受信易+权益。"
                      "履行相关义务后可申请信用修复。")


def clock() -> float:
    """Seconds since the epoch; tests move time through this one function."""
    return time.time()


def _subject_key() -> bytes:
    app = current_app._get_current_object()
    key = app.extensions.get("benefits_subject_key")
    if key is None:
        # Production: BENEFITS_SUBJECT_KEY (base64 of 32 bytes), the same on every app server and kept for good:
        # a new key gives every citizen a new pseudonym. First look: generated under KEYS_DIR.
        key = load_or_create_secret(app.config.get("BENEFITS_SUBJECT_KEY"), app.config["KEYS_DIR"],
                                    "benefits_subject_key")
        app.extensions["benefits_subject_key"] = key
    return key


def subject_of(citizen: Citizen) -> bytes:
    """12 bytes of HMAC-SHA256 over the citizen's opaque ref: stable, unlinkable without our key."""
    return hmac.new(_subject_key(), b"benefits-subject\x00" + citizen.ref.encode(), hashlib.sha256).digest()[:12]


def ensure_subject(citizen: Citizen) -> str:
    subject = b64url(subject_of(citizen))
    if db.session.scalar(select(Subject.subject).where(Subject.citizen_id == citizen.id)) == subject:
        return subject
    module = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    # Two phones of one citizen asking at once must both succeed: an upsert, never a unique error. (A changed
    # subject key re-keys the citizen's row; codes made under the old key then stop resolving, as they should.)
    stmt = module.insert(Subject).values(citizen_id=citizen.id, subject=subject)
    db.session.execute(stmt.on_conflict_do_update(index_elements=["citizen_id"], set_={"subject": subject}))
    db.session.commit()
    return subject


def _rate_limit(citizen: Citizen) -> None:
    ratelimit.hit(f"{ISSUE_LIMIT_PER_MINUTE} per minute", TOO_MANY_CODES, "credit-codes", citizen.ref)


def sign_code(citizen: Citizen, ttl: int | None = None) -> tuple[str, int, int, int]:
    """A fresh signed code: (code, level, issued_at, expires_at); refused without consent, score, or at L0."""
    if not has_consent(citizen.id, "scoring"):
        raise ApiError(409, "no_scoring_consent", "请先开启信用评分授权，才能使用信用码和信易+权益。")
    score = scoring.current_score(citizen)
    if score is None:
        raise ApiError(409, "score_not_ready", "您的信用分正在计算中，请稍后再试。")
    if score.level == 0:
        # Refused here rather than at the counter: a citizen should learn this privately, not in a queue.
        raise ApiError(403, "restricted", RESTRICTED_MESSAGE)
    _rate_limit(citizen)
    ttl = ttl or current_app.config["CREDIT_CODE_TTL_SECONDS"]
    key = keyring().current()
    now = int(clock())
    token = codes.encode(kid=key.kid, sign=key.sign, code_id=codes.new_code_id(),
                         subject=b64url_decode(ensure_subject(citizen)), level=score.level,
                         issuer=current_app.config["CITY_CODE"], issued_at=now, expires_at=now + ttl)
    return token, score.level, now, now + ttl


def issue(citizen: Citizen, ttl: int | None = None) -> dict:
    """What the mini-program shows: the code, its expiry and the QR images."""
    token, level, issued_at, expires_at = sign_code(citizen, ttl)
    qr_png, qr_svg = qr.render(token)
    return {
        "code": token,
        "expires_at": datetime.fromtimestamp(expires_at, UTC),
        "expires_in": expires_at - issued_at,
        "level": level,
        "level_name": scoring.rules().level_name(level),
        "qr_png": qr_png,
        "qr_svg": qr_svg,
    }


def key_for(claims: codes.CodeClaims):
    """Our own keys only; partner cities' keys come with the partner issue."""
    if claims.issuer != current_app.config["CITY_CODE"]:
        return None
    # The key must have been in its validity window when the code says it was signed (app/security/key_windows.py).
    return keyring().verifying_key(claims.kid, claims.issued_at)
