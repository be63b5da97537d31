"""A verification's round trips on PostgreSQL: fewer statements, and fewer trips for the statements left.

* Data-modifying CTEs: the attempt, its audit entry and, for a successful scan, the redemption are one statement.
  Same rows and columns as the portable path in ``verification._Ledger`` (which SQLite keeps); the redemption's
  unique ``code_id`` still fails the whole statement, so a code that was used raises IntegrityError as before.
* psycopg's pipeline mode: statements that do not need each other's answers travel together. The reservation and
  the holder's read go in one trip with the transaction's ``BEGIN``; the writes go with ``COMMIT``. A successful
  scan is two trips to the database (it was five). The server still runs pipelined statements one after another,
  each with its own snapshot (READ COMMITTED), so the holder is read after the reservation holds the offer's row,
  as the locking argument in ``verification`` requires.

The pipelines run on the driver connection under the session's own connection, in the session's transaction;
after ``write_and_commit`` the session's ``commit()`` finds nothing to send.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

_ATTEMPT_COLUMNS = ("created_at, city_day, terminal_id, merchant_id, offer_id, branch_id, citizen_id, partner_id, "
                    "code_id, reason, eligible")
_ATTEMPT_VALUES = (":created_at, :city_day, :terminal_id, :merchant_id, :offer_id, :branch_id, :citizen_id, "
                   ":partner_id, :code_id, :reason, :eligible")
_AUDIT = ("INSERT INTO audit_pending (occurred_at, actor_type, actor_id, subject_id, action, reason, details, seal) "
          "VALUES (:created_at, :actor_type, :actor_id, :citizen_id, :action, :audit_reason, CAST(:details AS json), "
          ":seal)")

# A refusal before the holder is known (no audit entry: nobody's data was looked at).
ATTEMPT = text(f"INSERT INTO benefit_attempt ({_ATTEMPT_COLUMNS}, redemption_id) VALUES ({_ATTEMPT_VALUES}, NULL)")
ATTEMPT_AND_AUDIT = text(f"WITH a AS (INSERT INTO benefit_attempt ({_ATTEMPT_COLUMNS}, redemption_id) "
                         f"VALUES ({_ATTEMPT_VALUES}, NULL)) {_AUDIT}")
REDEMPTION_ATTEMPT_AND_AUDIT = text(
    "WITH r AS (INSERT INTO benefit_redemption (ref, code_id, citizen_id, partner_id, partner_subject, offer_id, "
    "merchant_id, branch_id, terminal_id, city_day, redeemed_at, cancelled_at) VALUES (:ref, :code_id, :citizen_id, "
    "NULL, NULL, :offer_id, :merchant_id, :branch_id, :terminal_id, :city_day, :created_at, NULL) RETURNING id), "
    f"a AS (INSERT INTO benefit_attempt ({_ATTEMPT_COLUMNS}, redemption_id) SELECT {_ATTEMPT_VALUES}, r.id FROM r), "
    f"p AS ({_AUDIT}) SELECT id FROM r")

_compiled: dict[int, Any] = {}


def audit_details(details: dict) -> str:
    return json.dumps(details, ensure_ascii=False)


def _driver_sql(connection: Connection, statement, params: dict) -> tuple[str, dict]:
    """The statement as psycopg takes it (compiled once per process) and its full parameters (literals too)."""
    compiled = _compiled.get(id(statement))
    if compiled is None:
        compiled = _compiled[id(statement)] = statement.compile(dialect=connection.dialect)
    return compiled.string, compiled.construct_params(params)


def _driver(connection: Connection) -> psycopg.Connection:
    return connection.connection.driver_connection


@contextmanager
def _as_sqlalchemy_errors(connection: Connection, sql: str, args: dict) -> Iterator[None]:
    """The driver's errors as SQLAlchemy raises them (IntegrityError, OperationalError…), so callers and the
    app's error handlers treat them alike (a lost connection is a 503); a lost connection is dropped from the
    pool, as SQLAlchemy does for its own statements."""
    try:
        yield
    except psycopg.Error as error:
        lost = connection.dialect.is_disconnect(error, connection.connection.dbapi_connection, None)
        if lost:
            connection.invalidate(error)
        raise DBAPIError.instance(sql, args, error, psycopg.Error, connection_invalidated=lost,
                                  dialect=connection.dialect) from error


def reserve_and_read(connection: Connection, reserve, reserve_params: dict, read, read_params: dict):
    """Run ``reserve`` (an UPDATE … RETURNING) and then ``read`` in one round trip (with BEGIN when the session's
    transaction has sent nothing yet): (whether ``reserve`` returned a row, ``read``'s first row or None)."""
    raw = _driver(connection)
    reserve_sql, reserve_args = _driver_sql(connection, reserve, reserve_params)
    read_sql, read_args = _driver_sql(connection, read, read_params)
    with _as_sqlalchemy_errors(connection, read_sql, read_args), raw.pipeline():
        reserved = raw.execute(reserve_sql, reserve_args)
        row = raw.cursor(row_factory=namedtuple_row)
        row.execute(read_sql, read_args)
    return reserved.fetchone() is not None, row.fetchone()


def write_and_commit(connection: Connection, statement, params: dict) -> None:
    """Run ``statement`` and commit, in one round trip. A unique violation raises IntegrityError (the session's
    transaction is then failed: roll it back, as after any IntegrityError)."""
    raw = _driver(connection)
    sql, args = _driver_sql(connection, statement, params)
    with _as_sqlalchemy_errors(connection, sql, args), raw.pipeline():
        raw.execute(sql, args)
        raw.commit()
