"""Check pooled database connections before use only when they have been idle.

SQLAlchemy's ``pool_pre_ping`` pings on every checkout: one extra round trip on every request, about a tenth of
a merchant verification's database time. A connection that went back to the pool a moment ago is as alive as
the ping would say, so only one idle for longer than ``DB_PING_AFTER_IDLE_SECONDS`` is pinged; a dead one is
replaced before the request sees it (the pool retries on ``DisconnectionError``), as with ``pool_pre_ping``.
"""

from __future__ import annotations

import time

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

_CHECKED_IN_AT = "checked_in_at"


def ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    @event.listens_for(engine, "checkin")
    def _remember_return(dbapi_connection, record) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy) -> None:
        returned = record.info.get(_CHECKED_IN_AT)
        if returned is None or time.monotonic() - returned < idle_seconds:
            return  # new, or back from a request a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise DisconnectionError("pooled connection is gone") from error
            raise


def remove_session_safely(app, db) -> None:
    """Replace Flask-SQLAlchemy's session teardown with one that cannot fail the request.

    Teardown runs after the response is built and outside the error handlers: when the connection died meanwhile
    (a backend terminated, the server restarted), the rollback in ``session.remove()`` raises and the server
    answers with its own HTML 500 instead of ours. Nothing is lost by going on: the rollback only discards work the
    view did not commit, and SQLAlchemy has already invalidated the dead connection, so the pool replaces it."""
    import logging

    log = logging.getLogger(__name__)
    app.teardown_appcontext_funcs[:] = [func for func in app.teardown_appcontext_funcs
                                        if getattr(func, "__func__", None) is not type(db)._teardown_session]

    @app.teardown_appcontext
    def _remove_session(exc: BaseException | None) -> None:
        try:
            db.session.remove()
        except Exception as error:  # noqa: BLE001 - whatever the driver raised, the answer is already made
            log.warning("session teardown failed (connection lost): %s", type(error).__name__)
            db.session.registry.clear()
