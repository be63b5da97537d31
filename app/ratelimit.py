"""Rate limits and lockouts on the ``limits`` library's storage and fixed-window strategy (Redis in production,
memory embedded).

``limits`` is the engine Flask-Limiter is built on. Flask-Limiter itself is not used: every limit here is counted
where its event happens, and Flask-Limiter's per-request hooks (three on every request of the app, limited or
not) cost about 80 µs a request, a quarter of a whole ``/healthz``.

Every limit here is named: ``hit`` counts one event (an issued code, a failed login) and refuses with a 429
``{code, status, message}`` and ``Retry-After`` once the window's budget is spent; ``check`` refuses without
counting (a lockout: failures are counted, the next try is checked first). Keys are opaque: callers pass refs and
keyed digests, never an ID number, a phone or a password.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import Flask, current_app, request
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from app.errors import ApiError


@dataclass(frozen=True)
class Refusal:
    code: str
    # Formatted with ``minutes``: how long until the window ends, rounded up.
    message: str


_KEY_PREFIX = "xyf-limit"


class RateLimits:
    """One per app (it keeps its storage), so several apps can live in one process (tests, two cities)."""

    def __init__(self, storage_uri: str) -> None:
        self.storage = storage_from_string(storage_uri)
        self.limiter = FixedWindowRateLimiter(self.storage)

    def reset(self) -> None:
        self.storage.reset()


def init_app(app: Flask) -> None:
    from app.kv import limits_storage_uri

    app.extensions["rate_limiter"] = RateLimits(limits_storage_uri(app.config))


def _limiter() -> RateLimits:
    return current_app.extensions["rate_limiter"]


def client_ip() -> str:
    # remote_addr is the proxy's address unless the app trusts X-Forwarded-For (ProxyFix, see gunicorn.conf.py).
    return request.remote_addr or "unknown"


def _refuse(limit_text: str, refusal: Refusal, keys: tuple[str, ...]) -> ApiError:
    item = parse(limit_text)
    reset_at, _ = _limiter().limiter.get_window_stats(item, _KEY_PREFIX, *keys)
    wait = max(int(reset_at - time.time()) + 1, 1)
    return ApiError(429, refusal.code, refusal.message.format(minutes=(wait + 59) // 60),
                    headers={"Retry-After": str(wait)})


def hit(limit_text: str, refusal: Refusal, *keys: str) -> None:
    """Count one event under ``keys``; refuse (without counting) when the window's budget is spent."""
    if not _limiter().limiter.hit(parse(limit_text), _KEY_PREFIX, *keys):
        raise _refuse(limit_text, refusal, keys)


def check(limit_text: str, refusal: Refusal, *keys: str) -> None:
    """Refuse if ``keys`` has spent its budget (a lockout); counts nothing."""
    if not _limiter().limiter.test(parse(limit_text), _KEY_PREFIX, *keys):
        raise _refuse(limit_text, refusal, keys)


def count(limit_text: str, *keys: str) -> None:
    """Count one failure under ``keys`` (checked by a later ``check``)."""
    _limiter().limiter.hit(parse(limit_text), _KEY_PREFIX, *keys)


def clear(limit_text: str, *keys: str) -> None:
    _limiter().limiter.clear(parse(limit_text), _KEY_PREFIX, *keys)


def reset() -> None:
    """Forget every counter (tests; the Redis store is also emptied by FLUSHDB)."""
    _limiter().reset()
