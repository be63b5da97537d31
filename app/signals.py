"""Domain notices that other parts may act on, sent only once the change they announce has committed.

``scores_changed`` (sender: the app, ``citizen_ids``): a citizen's stored score was written or dropped — the
mini-program's score cache and the partner attestations (a citizen who fell to L0 loses them) listen to it.
``consent_withdrawn`` (sender: the app, ``citizen_id``, ``kinds``): a citizen withdrew consents — partner
attestations stop when partner sharing (or raw-score sharing) is withdrawn.

Services queue a notice with :func:`notify_scores_changed` / :func:`notify_consent_withdrawn` inside their
transaction; it goes out after the commit and is dropped on rollback, so no listener ever acts on a change that
did not happen. Listeners run after the session's commit, when it can emit no more SQL: one that writes uses a
connection of its own.

The core's layers (citizens → records → scoring → rights, benefits, partners … → the edges) hear the layer below
only through these signals; a lower package never imports a higher one. Three are sent by the lower layer itself
right after its own commit, in the same request and before its answer, so a listener may use the session and
commit, exactly as the lower layer's code did when it called the higher one directly:

``citizens_registered`` (sender: the app, ``id_indexes``: blind indexes of the people just registered, or None
after a registry import): app/records attaches the records departments sent before these people were registered
and answers with the ids of the citizens that got records.
``consent_changed`` (sender: the app, ``citizen_id``, ``kind``, ``reason``): a consent was given or withdrawn at
the counter; app/scoring scores (or drops the score of) a citizen whose scoring consent changed.
``records_changed`` (sender: the app, ``citizen_ids``): app/records changed these citizens' records and marked
them for rescoring, and wants their scores to follow now (a batch small enough, a status changed by staff);
app/scoring rescores them and answers True, so a batch's answer can say ``done`` rather than ``queued``.
"""

from __future__ import annotations

from blinker import Namespace
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

_signals = Namespace()
# Sent by app/records inside the ingest transaction, before the commit (sender: the app, ``record_ids``: the
# records just inserted): listeners write in the same transaction (三书同达 notices in app/rights/notices.py).
records_landed = _signals.signal("records-landed")
scores_changed = _signals.signal("scores-changed")
citizens_registered = _signals.signal("citizens-registered")
consent_changed = _signals.signal("consent-changed")
records_changed = _signals.signal("records-changed")
# Sent by benefits about a partner city's citizen (互认) at one of our merchants (sender: the app), for app/partners:
# inside the redemption's transaction, ``partner_redeemed`` (``connection``, ``holder``: a
# benefits.visitors.PartnerHolder, ``redemption_id``) and ``partner_redemption_cancelled`` (``redemption_id``), so
# the home city's receipt is queued, or queued again, with it; after the commit, ``partner_redemptions_committed``
# (``partner_id``), so the receipt goes once the merchant has its answer.
partner_redeemed = _signals.signal("partner-redeemed")
partner_redemption_cancelled = _signals.signal("partner-redemption-cancelled")
partner_redemptions_committed = _signals.signal("partner-redemptions-committed")
consent_withdrawn = _signals.signal("consent-withdrawn")
_PENDING = "pending_scores_changed"
_PENDING_CONSENTS = "pending_consent_withdrawn"


def notify_scores_changed(citizen_ids) -> None:
    db.session.info.setdefault(_PENDING, set()).update(citizen_ids)


def notify_consent_withdrawn(citizen_id: int, kinds) -> None:
    db.session.info.setdefault(_PENDING_CONSENTS, {}).setdefault(citizen_id, set()).update(kinds)


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    consents = session.info.pop(_PENDING_CONSENTS, None)
    if not has_app_context():
        return
    app = current_app._get_current_object()
    if pending:
        scores_changed.send(app, citizen_ids=sorted(pending))
    for citizen_id, kinds in sorted((consents or {}).items()):
        consent_withdrawn.send(app, citizen_id=citizen_id, kinds=sorted(kinds))


@event.listens_for(Session, "after_rollback")
def _drop_on_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_PENDING_CONSENTS, None)
