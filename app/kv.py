"""The key-value store: Redis in production, an in-process fakeredis server for a first look.

Anything that must hold across processes (single-use codes, rate limits, job guards) goes through here.

With ``REDIS_SENTINELS`` the client asks the sentinels for the current primary (redis-py's Sentinel client) and
asks again after a failover: while the sentinels switch, commands fail with a connection or read-only error, which
the app answers with a 503 (app/errors.py) — a single-use code is never spent twice, because the database's unique
constraints stay the final word when a promoted replica has lost the last writes.
"""

from __future__ import annotations

import redis
from flask import current_app


def parse_sentinels(value: str | None) -> list[tuple[str, int]]:
    """``"host:port,host:port"`` → ``[(host, port), …]``."""
    pairs = []
    for item in (value or "").split(","):
        if item.strip():
            host, _, port = item.strip().rpartition(":")
            pairs.append((host or "127.0.0.1", int(port)))
    return pairs


def limits_storage_uri(config) -> str:
    """The same store for the ``limits`` library (rate limits and lockouts)."""
    sentinels = parse_sentinels(config.get("REDIS_SENTINELS"))
    if sentinels:
        hosts = ",".join(f"{host}:{port}" for host, port in sentinels)
        return f"redis+sentinel://{hosts}/{config['REDIS_SENTINEL_SERVICE']}?db={config['REDIS_SENTINEL_DB']}"
    return config.get("REDIS_URL") or "memory://"


class KeyValueStore:
    """Per-app redis client, looked up through ``current_app`` so several apps can live in one process."""

    def init_app(self, app) -> None:
        url = app.config.get("REDIS_URL")
        sentinels = parse_sentinels(app.config.get("REDIS_SENTINELS"))
        if sentinels:
            from redis.sentinel import Sentinel

            sentinel = Sentinel(sentinels, socket_timeout=0.5, socket_connect_timeout=0.5)
            client = sentinel.master_for(app.config["REDIS_SENTINEL_SERVICE"], db=app.config["REDIS_SENTINEL_DB"],
                                         decode_responses=True, socket_timeout=2, socket_connect_timeout=2)
        elif url:
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
