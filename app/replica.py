"""Reads from a PostgreSQL streaming replica where staleness is harmless (``DATABASE_REPLICA_URL``).

A view marked :func:`replica_read` (a citizen's score, records, history and offers; the console's charts and
lists) sends its plain SELECTs to the replica; everything else reads and writes the primary. Within such a view
the primary still answers:

- any statement that is not a plain SELECT (DML, ``SELECT … FOR UPDATE``, raw SQL) and anything after the
  session wrote in this transaction (an audit entry, say), so a request always sees its own writes;
- every read of a person who wrote something in the last ``REPLICA_STICKY_SECONDS`` (filed an objection, made a
  commitment): their next screen shows what they just did, whatever the replica's lag;
- every read while the replica lags more than ``REPLICA_MAX_LAG_SECONDS`` or does not answer (checked at most once
  a second per process, and at once after an error on it). Each such fallback is counted in ``/metrics``
  (``xyf_replica_reads_total{target="primary", reason=…}``).

Anything that decides (a verification, a binding, a decision on a case, a redemption, a batch) is simply never
marked, so it never leaves the primary. Without ``DATABASE_REPLICA_URL`` nothing here does anything.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import wraps

from flask import current_app, g, has_request_context
from flask_sqlalchemy.session import Session as FlaskSession
from prometheus_client import Counter, Gauge
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.sql import Select

log = logging.getLogger(__name__)

REPLICA_READS = Counter("xyf_replica_reads_total", "Requests allowed to read from the replica, by where their "
                        "reads went and why", ["target", "reason"])
REPLICA_LAG = Gauge("xyf_replica_lag_seconds", "Replica lag seen by the last check (-1: unreachable)",
                    multiprocess_mode="mostrecent")

_EXTENSION = "replica"
_WROTE = "replica_wrote"
_STICKY_PREFIX = "xyf:wrote:"
# Lag behind an idle primary: WAL received and replayed are equal, so the replica has everything.
_LAG_SQL = text(
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0 "
    "WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)


class Replica:
    """One per app: the replica's engine and the last health check of it."""

    def __init__(self, engine: Engine, max_lag: float, check_every: float, retry_after_error: float) -> None:
        self.engine = engine
        self.max_lag = max_lag
        self.check_every = check_every
        self.retry_after_error = retry_after_error
        self._lock = threading.Lock()
        self._checked_at = float("-inf")
        self._next_check = float("-inf")
        self._state: tuple[str, float] = ("unavailable", -1.0)

        @event.listens_for(engine, "handle_error")
        def _mark_down(context) -> None:
            # A statement failed on the replica: do not wait for the next check to stop sending reads there.
            if context.is_disconnect or context.sqlalchemy_exception is not None:
                self.mark_unavailable()

    def mark_unavailable(self) -> None:
        with self._lock:
            self._state = ("unavailable", -1.0)
            self._next_check = time.monotonic() + self.retry_after_error

    def state(self) -> tuple[str, float]:
        """``("ok" | "lagging" | "unavailable", lag seconds)``, checked at most every ``check_every`` seconds."""
        now = time.monotonic()
        if now < self._next_check:
            return self._state
        with self._lock:
            if now < self._next_check:  # another thread checked meanwhile
                return self._state
            self._next_check = now + self.check_every  # one checker at a time; the others use the last state
        try:
            with self.engine.connect() as connection:
                lag = float(connection.execute(_LAG_SQL).scalar() or 0) \
                    if self.engine.dialect.name == "postgresql" else 0.0
        except Exception as error:  # noqa: BLE001 - any failure means "do not read there now"
            log.warning("replica check failed: %s", type(error).__name__)
            self.mark_unavailable()
            REPLICA_LAG.set(-1)
            return self._state
        REPLICA_LAG.set(lag)
        with self._lock:
            self._state = ("ok" if lag <= self.max_lag else "lagging", lag)
            return self._state


def init_app(app, db) -> None:
    url = app.config.get("DATABASE_REPLICA_URL")
    if not url:
        return
    from app.config import _sqlalchemy_url

    connect_args = {"connect_timeout": app.config["REPLICA_CONNECT_TIMEOUT_SECONDS"]} \
        if url.startswith(("postgres", "postgresql")) else {}
    max_lag, check_every = app.config["REPLICA_MAX_LAG_SECONDS"], app.config["REPLICA_CHECK_SECONDS"]
    if app.config["REPLICA_STICKY_SECONDS"] <= max_lag + check_every:
        # A person's write older than the stickiness must be on any replica still in use, or they could read
        # the state before it.
        raise RuntimeError("REPLICA_STICKY_SECONDS must exceed REPLICA_MAX_LAG_SECONDS + REPLICA_CHECK_SECONDS")
    engine = create_engine(_sqlalchemy_url(url), pool_pre_ping=True, connect_args=connect_args)
    app.extensions[_EXTENSION] = Replica(engine, max_lag, check_every, app.config["REPLICA_RETRY_SECONDS"])


def replica_read(view):
    """Marks a view whose plain reads may come from the replica (see the module's docstring for when they don't)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        g.replica_allowed = True
        return view(*args, **kwargs)

    return wrapper


def _sticky_keys(actor) -> list[str]:
    """The person's markers: their account (the actor) and, once known, their citizen file, so that a write through
    the mini-program keeps a read through 浙里办 on the primary too."""
    keys = [f"{_STICKY_PREFIX}{actor.type}:{actor.id}"]
    citizen_id = g.get("citizen_id") or getattr(g.get("citizen"), "id", None)
    if citizen_id is not None:
        keys.append(f"{_STICKY_PREFIX}citizen-file:{citizen_id}")
    return keys


def _replica_for_request() -> Engine | None:
    """Decided once per request, at its first read: the replica's engine, or None for the primary."""
    if "replica_engine" in g:
        return g.replica_engine
    replica: Replica | None = current_app.extensions.get(_EXTENSION)
    engine, reason = None, "not_configured"
    if replica is not None:
        from app.extensions import kv

        actor = g.get("actor")
        try:
            own_write = actor is not None and bool(kv.exists(*_sticky_keys(actor)))
        except Exception:  # noqa: BLE001 - the store cannot tell: the primary is always right
            own_write = True
        if own_write:
            reason = "own_write"
        else:
            state, _lag = replica.state()
            if state == "ok":
                engine, reason = replica.engine, "ok"
            else:
                reason = state
    if replica is not None:
        REPLICA_READS.labels("replica" if engine is not None else "primary", reason).inc()
    g.replica_engine = engine
    return engine


class RoutingSession(FlaskSession):
    """Flask-SQLAlchemy's session, sending a marked view's plain SELECTs to the replica."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if (bind is None and isinstance(clause, Select) and clause._for_update_arg is None
                and not self._flushing and not self.info.get(_WROTE)
                and has_request_context() and g.get("replica_allowed")):
            engine = _replica_for_request()
            if engine is not None:
                return engine
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def _note_write(session) -> None:
    session.info[_WROTE] = True


@event.listens_for(RoutingSession, "after_flush")
def _after_flush(session, flush_context) -> None:
    _note_write(session)


@event.listens_for(RoutingSession, "do_orm_execute")
def _on_execute(state) -> None:
    if not state.is_select or state.statement._for_update_arg is not None:  # DML or a row lock
        _note_write(state.session)


@event.listens_for(RoutingSession, "after_commit")
def _after_commit(session) -> None:
    wrote = session.info.pop(_WROTE, False)
    if not wrote or not has_request_context():
        return
    replica: Replica | None = current_app.extensions.get(_EXTENSION)
    actor = g.get("actor")
    if replica is None or actor is None or actor.type == "system":
        return
    from app.extensions import kv

    try:
        milliseconds = int(current_app.config["REPLICA_STICKY_SECONDS"] * 1000)
        with kv.client.pipeline(transaction=False) as pipe:
            for key in _sticky_keys(actor):
                pipe.set(key, "1", px=milliseconds)
            pipe.execute()
    except Exception as error:  # noqa: BLE001 - the write has committed; only the stickiness is lost
        log.warning("could not remember a write for read-your-writes: %s", type(error).__name__)
        replica.mark_unavailable()  # without the marker, reads of this person must not go to a stale copy


@event.listens_for(RoutingSession, "after_rollback")
def _after_rollback(session) -> None:
    session.info.pop(_WROTE, None)
