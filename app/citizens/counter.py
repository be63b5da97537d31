"""What staff do for a citizen at the service counter (窗口): register them, record consents given on paper.

Kept apart from ``service`` because it also rescores, and the scoring service itself builds on ``service``.
"""

from __future__ import annotations

from app.audit import service as audit
from app.citizens import service
from app.citizens.models import Citizen
from app.extensions import db
from app.scoring import service as scoring


def register(name: str, id_number: str, phone: str | None, scoring_consent: bool) -> Citizen:
    citizen = service.register(name, id_number, phone)
    if scoring_consent:
        service.grant_consent(citizen, "scoring", channel="counter")
    audit.log(citizen.id, "citizen.register", "窗口登记")
    db.session.commit()
    attach_held_records([citizen.id_index])
    if scoring_consent:
        scoring.recompute_citizen(citizen, reason="授权后首次计算")
    return citizen


def attach_held_records(id_indexes: list[str]) -> set[int]:
    """Records departments pushed before these people were registered join their files now."""
    from app.records.service import attach_pending

    return attach_pending(id_indexes)


def set_consent(citizen: Citizen, kind: str, grant: bool) -> None:
    """Record a consent given or withdrawn at the counter; a scoring consent change rescores (or drops) at once."""
    changed = service.grant_consent(citizen, kind, channel="counter") if grant \
        else service.withdraw_consent(citizen, kind)
    if changed:
        audit.log(citizen.id, "consent.grant" if grant else "consent.withdraw", "窗口办理授权", {"kind": kind})
    db.session.commit()
    if changed and kind == "scoring":
        scoring.recompute_citizen(citizen, reason="授权变更")
