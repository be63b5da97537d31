"""The citizen registry (ID numbers encrypted, found through a blind index) and consents (授权)."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import exists, select

from app.citizens.idnumber import InvalidIdNumber, ResidentId, normalise, parse_adult_id_number, parse_id_number
from app.citizens.models import CONSENT_KINDS, Citizen, Consent
from app.errors import ApiError
from app.extensions import db
from app.security.pii import mask_id_number, mask_phone, vault
from app.signals import notify_consent_withdrawn
from app.timeutil import city_today, utcnow

ID_PURPOSE = b"resident-id"
PHONE_PURPOSE = b"phone"
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")

CONSENT_NAMES = {"scoring": "信用评分授权", "partner_sharing": "城市互认共享授权", "raw_score_sharing": "分值共享授权"}
# The texts a citizen agrees to, by kind: (version, text). A changed text gets a new version; the apps show both.
CONSENT_TEXTS = {
    "scoring": ("scoring-2026.1",
                "本人授权信用中心依法归集本人的公共信用信息及本人提交的信息，按照公开的评分规则计算本人的个人信用分，"
                "并向本人展示分数、等级、各维度得分及每条记录的影响，用于信易+等守信激励。信用分只向本人展示；"
                "商户核验时只得知是否符合权益条件，不得知分数和身份证号码。本人可随时在“我的授权”中撤回本授权，"
                "撤回后不再计算和显示信用分，已享受的权益不受影响。"),
    "partner_sharing": ("partner-sharing-2026.1",
                        "本人授权信用中心向本人指定的互认合作城市出具本人信用等级的互认证明，用于在该城市享受信用惠民"
                        "权益。证明只包含信用等级与有效期，不包含身份证号码。撤回后不再出具新的证明，已出具的证明随即撤销。"),
    "raw_score_sharing": ("raw-score-sharing-2026.1",
                          "在已开启城市互认共享授权的前提下，本人同意互认证明中同时包含本人的信用分值。撤回后新出具的证明"
                          "只包含信用等级。"),
}


def id_index(id_number: str) -> str:
    return vault().blind_index(normalise(id_number), ID_PURPOSE)


def invalid_id_error(error: InvalidIdNumber) -> ApiError:
    return ApiError(422, error.code, error.message)


def validate_registration(name: str, id_number: str, phone: str | None,
                          today: date | None = None) -> tuple[ResidentId, str]:
    """The rules a registration must meet, at the counter as in the registry import: (the ID, the clean name)."""
    try:
        resident = parse_adult_id_number(id_number, today or city_today())
    except InvalidIdNumber as error:
        raise invalid_id_error(error) from None
    name = (name or "").strip()
    if not 2 <= len(name) <= 32:
        raise ApiError(422, "invalid_name", "请填写与身份证一致的姓名。")
    if phone is not None and not _MOBILE.match(phone):
        raise ApiError(422, "invalid_phone", "手机号码格式不正确。")
    return resident, name


def register(name: str, id_number: str, phone: str | None, today: date | None = None) -> Citizen:
    resident, name = validate_registration(name, id_number, phone, today)
    index = id_index(resident.number)
    if db.session.scalar(select(exists().where(Citizen.id_index == index))):
        raise ApiError(409, "citizen_exists", "该身份证号码已登记。")
    pii = vault()
    citizen = Citizen(
        name=name, id_cipher=pii.encrypt(resident.number, ID_PURPOSE), id_index=index,
        id_masked=mask_id_number(resident.number), birth_date=resident.birth_date,
        phone_cipher=pii.encrypt(phone, PHONE_PURPOSE) if phone else None,
        phone_masked=mask_phone(phone) if phone else None,
    )
    db.session.add(citizen)
    db.session.flush()
    return citizen


def checked_id_number(raw: str) -> str:
    """The number in canonical form, or a 422 that says what is wrong with it (a lookup of a malformed number must
    not answer "not found")."""
    try:
        return parse_id_number(raw, city_today()).number
    except InvalidIdNumber as error:
        raise ApiError(422, "invalid_id_number", error.message, {"id_number": [error.message]}) from None


def find_by_id_number(id_number: str) -> Citizen | None:
    return db.session.scalar(select(Citizen).where(Citizen.id_index == id_index(id_number)))


def get_by_ref(ref: str) -> Citizen:
    citizen = db.session.scalar(select(Citizen).where(Citizen.ref == ref))
    if citizen is None:
        raise ApiError(404, "citizen_not_found", "未找到该居民的信用档案。")
    return citizen


def _open_consent(citizen_id: int, kind: str) -> Consent | None:
    return db.session.scalar(
        select(Consent).where(Consent.citizen_id == citizen_id, Consent.kind == kind,
                              Consent.withdrawn_at.is_(None)).order_by(Consent.granted_at.desc()).limit(1)
    )


def has_consent(citizen_id: int, kind: str) -> bool:
    return _open_consent(citizen_id, kind) is not None


def scoring_consent_clause():
    """SQL condition: the citizen row has an open scoring consent (for streaming recomputes)."""
    return exists().where(Consent.citizen_id == Citizen.id, Consent.kind == "scoring",
                          Consent.withdrawn_at.is_(None))


def _check_kind(kind: str) -> None:
    if kind not in CONSENT_KINDS:
        raise ApiError(404, "unknown_consent", "没有这种授权。")


def grant_consent(citizen: Citizen, kind: str, channel: str) -> bool:
    """Record a grant; returns False when it was already granted (nothing changes)."""
    _check_kind(kind)
    if kind == "raw_score_sharing" and not has_consent(citizen.id, "partner_sharing"):
        raise ApiError(409, "partner_sharing_required", "请先开启城市互认共享授权，再授权共享分值。")
    if has_consent(citizen.id, kind):
        return False
    db.session.add(Consent(citizen_id=citizen.id, kind=kind, channel=channel))
    db.session.flush()
    return True


def withdraw_consent(citizen: Citizen, kind: str) -> bool:
    """Withdraw; returns False when there was nothing to withdraw. Raw-score sharing falls with partner sharing."""
    _check_kind(kind)
    kinds = [kind, "raw_score_sharing"] if kind == "partner_sharing" else [kind]
    withdrawn = []
    for each in kinds:
        consent = _open_consent(citizen.id, each)
        if consent is not None:
            consent.withdrawn_at = utcnow()
            withdrawn.append(each)
    db.session.flush()
    if withdrawn:
        notify_consent_withdrawn(citizen.id, withdrawn)
    return bool(withdrawn)


def consent_texts() -> list[dict]:
    """Every consent kind with the text and version a citizen reads before agreeing."""
    return [{"kind": kind, "name": CONSENT_NAMES[kind], "version": CONSENT_TEXTS[kind][0],
             "text": CONSENT_TEXTS[kind][1]} for kind in CONSENT_KINDS]


def consents_view(citizen: Citizen) -> list[dict]:
    rows = db.session.scalars(
        select(Consent).where(Consent.citizen_id == citizen.id).order_by(Consent.granted_at)
    ).all()
    latest: dict[str, Consent] = {row.kind: row for row in rows}
    return [
        {
            "kind": kind, "name": CONSENT_NAMES[kind],
            "granted": kind in latest and latest[kind].withdrawn_at is None,
            "granted_at": latest[kind].granted_at if kind in latest else None,
            "withdrawn_at": latest[kind].withdrawn_at if kind in latest else None,
        }
        for kind in CONSENT_KINDS
    ]


def summary(citizen: Citizen) -> dict:
    """What staff see of a citizen: masked identifiers, never the numbers themselves."""
    return {
        "ref": citizen.ref, "name": citizen.name, "masked_id_number": citizen.id_masked,
        "masked_phone": citizen.phone_masked, "birth_year": citizen.birth_date.year,
        "consents": consents_view(citizen),
    }
