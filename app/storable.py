"""Characters that pass HTTP and JSON parsing but that no store of ours can keep.

NUL: PostgreSQL text cannot hold it. A lone UTF-16 surrogate: JSON can spell one (``"\\ud800"``), UTF-8 cannot
encode it, so PostgreSQL, SQLite, Redis and WeChat all fail on it. Either would surface as a 500 far from the
input that carried it.
"""

from __future__ import annotations

import re

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def contains_unstorable(value) -> bool:
    """Whether a string, or any key or string inside parsed JSON, holds such a character."""
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(contains_unstorable(k) or contains_unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_unstorable(item) for item in value)
    return False
