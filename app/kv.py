"""The key-value store: Redis in production, an in-process fakeredis server for a first look.

Anything that must hold across processes (single-use codes, rate limits, job guards) goes through here.
"""

from __future__ import annotations

import redis
from flask import current_app


class KeyValueStore:
    """Per-app redis client, looked up through ``current_app`` so several apps can live in one process."""

    def init_app(self, app) -> None:
        url = app.config.get("REDIS_URL")
        if url:
            client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=2, socket_connect_timeout=2)
        else:
            import fakeredis

            # One server per app so every client of this app sees the same data.
            client = fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)
        app.extensions["kv_client"] = client

    @property
    def client(self) -> redis.Redis:
        return current_app.extensions["kv_client"]

    def __getattr__(self, name):
        # Delegate get/set/incr/... so call sites read like plain redis-py.
        return getattr(self.client, name)
