"""Partner cities' citizens (互认) at our merchants, as benefits sees them: a verified holder, and their redemptions.

Benefits knows no partner city. app/partners, above it, registers at start what recognises and checks their tokens
(``register_checker``: issuer, key, signature, audience, expiry, revocation) and hears of each of their redemptions
through ``app/signals.py`` (``partner_redeemed`` and ``partner_redemption_cancelled`` inside the redemption's
transaction, ``partner_redemptions_committed`` after it), so it queues the home city's receipt in the same
transaction and sends it once the merchant has its answer. What it reads of our ledger, it reads here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from benefits.models import Merchant, Offer, Redemption, Scene, Subject


@dataclass(frozen=True)
class PartnerHolder:
    """What a merchant's verification learns of a partner city's citizen."""

    partner_id: int
    city_code: str
    city_name: str
    score_name: str
    kind: str  # attestation | credit_code
    jti: str
    subject: str
    level: int  # on our ladder
    expires_at: int

    @property
    def code_id(self) -> str:
        """The redemption's single-use key: the issuer's city in front, so no issuer can collide with another."""
        return f"{self.city_code}:{self.jti}"


@dataclass(frozen=True)
class _Checker:
    recognises: Callable[[str], bool]
    verify: Callable[[str, float], PartnerHolder]


_checkers: list[_Checker] = []


def register_checker(recognises: Callable[[str], bool], verify: Callable[[str, float], PartnerHolder]) -> None:
    """``recognises(token)``: a partner city's token, not one of our codes; ``verify(token, now)``: the holder, or
    :class:`benefits.codes.CodeRefused` with the reason."""
    _checkers[:] = [_Checker(recognises, verify)]


def is_partner_token(token: str) -> bool:
    return bool(_checkers) and _checkers[0].recognises(token)


def verify_token(token: str, now: float) -> PartnerHolder:
    return _checkers[0].verify(token, now)


# -- what app/partners reads of our ledger ---------------------------------------------------------------------

def receipt_details(redemption_ids: list[int]) -> dict[int, object]:
    """Per redemption id: what its home city's receipt tells (ref, token id, subject, day, times, scene, merchant,
    offer)."""
    if not redemption_ids:
        return {}
    rows = db.session.execute(
        select(Redemption.id, Redemption.ref, Redemption.code_id, Redemption.partner_subject, Redemption.city_day,
               Redemption.redeemed_at, Redemption.cancelled_at, Scene.code.label("scene_code"),
               Scene.name.label("scene_name"), Merchant.name.label("merchant_name"), Offer.title)
        .join(Offer, Offer.id == Redemption.offer_id).join(Scene, Scene.id == Offer.scene_id)
        .join(Merchant, Merchant.id == Redemption.merchant_id)
        .where(Redemption.id.in_(redemption_ids))).all()
    return {row.id: row for row in rows}


def partner_redemption_counts(partner_id: int, day: date) -> list[tuple[str, str, int]]:
    """(scene code, scene name, count) of redemptions here on ``day`` by that partner's citizens, net of
    cancellations."""
    return [tuple(row) for row in db.session.execute(
        select(Scene.code, Scene.name, func.count()).select_from(Redemption)
        .join(Offer, Offer.id == Redemption.offer_id).join(Scene, Scene.id == Offer.scene_id)
        .where(Redemption.partner_id == partner_id, Redemption.city_day == day, Redemption.cancelled_at.is_(None))
        .group_by(Scene.code, Scene.name).order_by(Scene.code)).all()]


def citizen_of_subject(subject: str) -> int | None:
    """Our citizen behind the pseudonymous subject our credit codes carry."""
    return db.session.scalar(select(Subject.citizen_id).where(Subject.subject == subject))
