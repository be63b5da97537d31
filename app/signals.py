"""Domain notices that other parts may act on, sent only once the change they announce has committed.

``scores_changed`` (sender: the app, ``citizen_ids``): a citizen's stored score was written or dropped — the
mini-program's score cache listens to it. Services queue a notice with :func:`notify_scores_changed` inside
their transaction; it goes out after the commit and is dropped on rollback, so no listener ever acts on a
change that did not happen.
"""

from __future__ import annotations

from blinker import Namespace
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

_signals = Namespace()
scores_changed = _signals.signal("scores-changed")
_PENDING = "pending_scores_changed"


def notify_scores_changed(citizen_ids) -> None:
    db.session.info.setdefault(_PENDING, set()).update(citizen_ids)


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending and has_app_context():
        scores_changed.send(current_app._get_current_object(), citizen_ids=sorted(pending))


@event.listens_for(Session, "after_rollback")
def _drop_on_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
