"""A short-lived, per-process cache for rows that change rarely but are read on every request of a hot path.

A merchant terminal's key and the offer it redeems are looked up on every scan; caching them for a few seconds
takes two database round trips off each verification. The price is staleness: a change made by another process
(a revoked terminal, a paused offer) reaches this one within ``LOCAL_CACHE_SECONDS``. A change made in this
process clears the namespace at once and again when its transaction commits, so another thread of this process
that read the old row in between does not keep it. Only found rows are kept, so an unknown key cannot fill the
cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

MAX_ENTRIES = 10_000


def _namespace(name: str) -> dict:
    return current_app.extensions.setdefault("local_cache", {}).setdefault(name, {})


def get(namespace: str, key: Hashable, load: Callable[[], Any]) -> Any:
    """The cached value for ``key``, or ``load()`` (kept when not None)."""
    seconds = current_app.config["LOCAL_CACHE_SECONDS"]
    entries = _namespace(namespace)
    now = time.monotonic()
    hit = entries.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = load()
    if value is not None and seconds > 0:
        if len(entries) >= MAX_ENTRIES:
            entries.clear()
        entries[key] = (now + seconds, value)
    return value


def forget(namespace: str, session: Session | None = None) -> None:
    """Clear ``namespace`` now and, given the session that holds the change, once more after it commits."""
    _namespace(namespace).clear()
    if session is not None:
        session.info.setdefault("local_cache_forget", set()).add(namespace)


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    namespaces = session.info.pop("local_cache_forget", ())
    if namespaces and has_app_context():
        for namespace in namespaces:
            _namespace(namespace).clear()
