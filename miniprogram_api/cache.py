"""Read-through caches in the key-value store for the mini-program's hottest reads.

Opening the mini-program asks for the score again and again; answering from the key-value store instead of
four database round trips is what keeps ``GET /mp/v1/me/score`` close to a bare health check. Two entries:

* ``mp:acct:{ref}``: an account's token version and citizen, to check an access token (revocation included).
  Only this package changes them (binding, unbinding), and it overwrites the entry after its commit.
* ``mp:score:{citizen_id}``: the score as the citizen sees it. Scores change elsewhere (recomputes, the counter),
  and the scoring service announces every write or removal of a stored score after its commit
  (``app.signals.scores_changed``); that invalidates the entry. The expiry bounds anything else (a hand-written
  SQL fix).

Fills use ``SET NX`` and invalidation writes a short-lived tombstone instead of deleting, so a reader that loaded
the old row before the writer's commit cannot put it back after the invalidation.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from flask import g
from sqlalchemy import select

from app.extensions import db, kv
from app.signals import scores_changed
from miniprogram_api.models import WeChatAccount

log = logging.getLogger(__name__)

ACCOUNT_TTL_SECONDS = 6 * 3600
SCORE_TTL_SECONDS = 3600
TOMBSTONE_SECONDS = 3  # far longer than the read-then-fill of one request
_TOMBSTONE = "-"


def _account_key(ref: str) -> str:
    return f"mp:acct:{ref}"


def score_key(citizen_id: int) -> str:
    return f"mp:score:{citizen_id}"


# -- accounts -----------------------------------------------------------------------------------------------


# Per process, which citizen an account was bound to when last seen: a guess that lets the account check and the
# score read share one round trip. Always verified against the account state it is fetched with.
_CITIZEN_HINTS: dict[str, int] = {}
_HINTS_MAX = 100_000


def account_state(ref: str, prefetch_score: bool = False) -> dict | None:
    """``{"v": token_version, "c": citizen_id or None}`` of a mini-program account, or None if unknown.

    With ``prefetch_score``, the citizen's cached score is fetched in the same round trip (when this process has
    seen the account before) and kept for ``cached_score`` in this request.
    """
    guess = _CITIZEN_HINTS.get(ref) if prefetch_score else None
    if guess is not None:
        raw, score_raw = kv.mget([_account_key(ref), score_key(guess)])
    else:
        raw, score_raw = kv.get(_account_key(ref)), None
    if raw is not None and raw != _TOMBSTONE:
        state = json.loads(raw)
    else:
        row = db.session.execute(select(WeChatAccount.token_version, WeChatAccount.citizen_id)
                                 .where(WeChatAccount.ref == ref)).first()
        if row is None:
            return None
        state = {"v": row.token_version, "c": row.citizen_id}
        if raw is None:
            kv.set(_account_key(ref), json.dumps(state), nx=True, ex=ACCOUNT_TTL_SECONDS)
    if prefetch_score and state["c"] is not None:
        if guess == state["c"]:
            g.mp_score_prefetch = (guess, score_raw)
        elif len(_CITIZEN_HINTS) < _HINTS_MAX or ref in _CITIZEN_HINTS:
            _CITIZEN_HINTS[ref] = state["c"]
    return state


def remember_account(account: WeChatAccount) -> None:
    """After committing a change of binding or token version: the new state replaces whatever was cached."""
    kv.set(_account_key(account.ref), json.dumps({"v": account.token_version, "c": account.citizen_id}),
           ex=ACCOUNT_TTL_SECONDS)


# -- scores -------------------------------------------------------------------------------------------------


def cached_score(citizen_id: int, build: Callable[[int], str]) -> str:
    """The citizen's score answer as rendered JSON, from the cache or ``build`` (refusals are never cached)."""
    prefetched = g.pop("mp_score_prefetch", None)
    raw = prefetched[1] if prefetched and prefetched[0] == citizen_id else kv.get(score_key(citizen_id))
    if raw is not None and raw != _TOMBSTONE:
        return raw
    rendered = build(citizen_id)
    if raw is None:
        kv.set(score_key(citizen_id), rendered, nx=True, ex=SCORE_TTL_SECONDS)
    return rendered


# One command for a whole chunk of a recompute (2,000 citizens): a pipeline of one SET per citizen cost the client
# more than the recompute itself (redis-py encodes and parses each command in Python: 11 of 21 CPU-seconds of a
# first computation of 100,000 scores).
_TOMBSTONES = """
for _, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[1], 'EX', ARGV[2])
end
return #KEYS
"""
_TOMBSTONES_PER_CALL = 5000


def invalidate_scores(citizen_ids) -> None:
    ids = sorted({int(i) for i in citizen_ids if i is not None})
    script = kv.register_script(_TOMBSTONES)
    for start in range(0, len(ids), _TOMBSTONES_PER_CALL):
        script(keys=[score_key(citizen_id) for citizen_id in ids[start:start + _TOMBSTONES_PER_CALL]],
               args=[_TOMBSTONE, TOMBSTONE_SECONDS])


def _on_scores_changed(_app, citizen_ids) -> None:
    invalidate_scores(citizen_ids)


# Every write or removal of a stored score announces itself after its commit (app/signals.py).
scores_changed.connect(_on_scores_changed)
