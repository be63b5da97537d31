"""What staff do for a citizen at the service counter (窗口): register them, record consents given on paper.

Kept apart from ``service`` because what follows is announced to the layers above (``app/signals.py``): app/records
attaches the records held for a newly registered person, app/scoring scores them (or drops the score) at once.
"""

from __future__ import annotations

from flask import current_app

from app.audit import service as audit
from app.citizens import service
from app.citizens.models import Citizen
from app.extensions import db
from app.signals import citizens_registered, consent_changed


def register(name: str, id_number: str, phone: str | None, scoring_consent: bool) -> Citizen:
    citizen = service.register(name, id_number, phone)
    if scoring_consent:
        service.grant_consent(citizen, "scoring", channel="counter")
    audit.log(citizen.id, "citizen.register", "窗口登记")
    db.session.commit()
    attach_held_records([citizen.id_index])
    if scoring_consent:
        _announce_consent(citizen, "scoring", "授权后首次计算")
    return citizen


def attach_held_records(id_indexes: list[str] | None) -> set[int]:
    """Records departments pushed before these people were registered (None: anyone registered) join their files
    now; returns the ids of the citizens that got records."""
    answers = citizens_registered.send(current_app._get_current_object(), id_indexes=id_indexes)
    return set().union(*(attached for _, attached in answers if attached))


def _announce_consent(citizen: Citizen, kind: str, reason: str) -> None:
    consent_changed.send(current_app._get_current_object(), citizen_id=citizen.id, kind=kind, reason=reason)


def set_consent(citizen: Citizen, kind: str, grant: bool) -> None:
    """Record a consent given or withdrawn at the counter; a scoring consent change rescores (or drops) at once."""
    changed = service.grant_consent(citizen, kind, channel="counter") if grant \
        else service.withdraw_consent(citizen, kind)
    if changed:
        audit.log(citizen.id, "consent.grant" if grant else "consent.withdraw", "窗口办理授权", {"kind": kind})
    db.session.commit()
    if changed:
        _announce_consent(citizen, kind, "授权变更")
