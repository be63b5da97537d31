"""The floor of a merchant verification, served by the same gunicorn workers as the app (WSGI: ``application``).

``POST /floor/verifications`` does the least a correct verification can do on this stack, so the benchmark can
say how close the real endpoint comes to it, measured in the same run:

* a bare Flask handler (no flask-smorest, no schema, no access log, no audit entry, no attempt row);
* the Ed25519 check of the credit code (the app's own ``codes.verify`` and keys);
* single use: Redis ``SET NX`` on the code;
* one transaction: the conditional quota ``UPDATE … RETURNING`` and the ``INSERT`` of the redemption (the
  holder found by the code's subject inside the insert), on a psycopg connection of the worker's own.

Terminals and branches come from a per-process dictionary, as the app caches them. Everything else under ``/`` is
the app itself (``wsgi:app``).
"""

from __future__ import annotations

import os
import secrets
import time
from datetime import UTC, datetime

import psycopg
import redis
from flask import Flask, jsonify, request
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from app.security.secrets_util import digest
from app.timeutil import CITY_TZ
from benefits import codes, credit_code
from wsgi import app as real_app

floor = Flask("verification_floor")
_state: dict = {}

_RESERVE = ("UPDATE benefit_offer SET redeemed_count = redeemed_count + 1 "
            "WHERE ref = %s AND status = 'active' AND (quota IS NULL OR redeemed_count < quota) "
            "RETURNING id, merchant_id")
_INSERT = ("INSERT INTO benefit_redemption (ref, code_id, citizen_id, offer_id, merchant_id, branch_id, terminal_id, "
           "city_day, redeemed_at) SELECT %s, %s, s.citizen_id, %s, %s, %s, %s, %s, %s FROM benefit_subject s "
           "WHERE s.subject = %s")


def _connection() -> psycopg.Connection:
    if "pg" not in _state:
        url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        _state["pg"] = psycopg.connect(url)
        _state["redis"] = redis.Redis.from_url(os.environ["REDIS_URL"])
        _state["terminals"], _state["branches"] = {}, {}
    return _state["pg"]


def _cached(kind: str, key: str, sql: str):
    cache = _state[kind]
    if key not in cache:
        cache[key] = _state["pg"].execute(sql, (key,)).fetchone()
        _state["pg"].commit()
    return cache[key]


@floor.post("/verifications")
def verify():
    body = request.get_json()
    connection = _connection()
    terminal = _cached("terminals", digest(request.headers["Authorization"].removeprefix("Bearer ")),
                       "SELECT id, merchant_id FROM benefit_terminal WHERE key_digest = %s")
    branch = _cached("branches", body["branch_id"], "SELECT id FROM benefit_branch WHERE ref = %s")
    now_ts = time.time()
    with real_app.app_context():
        try:
            claims = codes.verify(body["code"], credit_code.key_for, now_ts)
        except codes.CodeRefused as refusal:
            return jsonify(eligible=False, reason=refusal.reason)
    if not _state["redis"].set(f"floor:used:{claims.code_id}", 1, nx=True, ex=3600):
        return jsonify(eligible=False, reason="already_used")
    now = datetime.fromtimestamp(now_ts, UTC)
    reserved = connection.execute(_RESERVE, (body["offer_id"],)).fetchone()
    if reserved is None:
        connection.rollback()
        return jsonify(eligible=False, reason="quota_exhausted")
    ref = secrets.token_hex(16)
    try:
        connection.execute(_INSERT, (ref, claims.code_id, reserved[0], reserved[1], branch[0], terminal[0],
                                     now.astimezone(CITY_TZ).date(), now, claims.subject))
        connection.commit()
    except psycopg.errors.UniqueViolation:
        connection.rollback()
        return jsonify(eligible=False, reason="already_used")
    return jsonify(eligible=True, reason="ok", redemption_id=ref)


application = DispatcherMiddleware(real_app, {"/floor": floor})
