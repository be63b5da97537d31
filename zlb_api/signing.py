"""The province gateway's request signature (IRS / 浙里办 "BG" HMAC), made by our client and checked by the
stand-in: ``X-BG-HMAC-SIGNATURE = base64(HMAC-SHA256(SK, "METHOD\\nPATH\\nsorted query\\nAK\\nDATE\\n"))`` with the
date in RFC 1123 GMT, accepted within 90 seconds of the gateway's clock."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import parse_qsl, quote

ALGORITHM = "hmac-sha256"
MAX_SKEW_SECONDS = 90
HEADER_KEY, HEADER_ALGORITHM = "X-BG-HMAC-ACCESS-KEY", "X-BG-HMAC-ALGORITHM"
HEADER_DATE, HEADER_SIGNATURE = "X-BG-DATE-TIME", "X-BG-HMAC-SIGNATURE"


def http_date(moment: datetime | None = None) -> str:
    return format_datetime((moment or datetime.now(UTC)).astimezone(UTC), usegmt=True)


def canonical_query(query: str) -> str:
    """The query's pairs sorted by name then value, each ``name=value`` URL-encoded, joined by ``&``."""
    pairs = sorted(parse_qsl(query or "", keep_blank_values=True))
    return "&".join(f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in pairs)


def string_to_sign(method: str, path: str, query: str, access_key: str, date: str) -> str:
    return f"{method.upper()}\n{path}\n{canonical_query(query)}\n{access_key}\n{date}\n"


def signature(secret_key: str, method: str, path: str, query: str, access_key: str, date: str) -> str:
    digest = hmac.new(secret_key.encode(), string_to_sign(method, path, query, access_key, date).encode(),
                      hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def sign_headers(access_key: str, secret_key: str, method: str, path: str, query: str = "",
                 now: datetime | None = None) -> dict[str, str]:
    date = http_date(now)
    return {HEADER_KEY: access_key, HEADER_ALGORITHM: ALGORITHM, HEADER_DATE: date,
            HEADER_SIGNATURE: signature(secret_key, method, path, query, access_key, date)}


def check(headers, secrets: dict[str, str], method: str, path: str, query: str,
          now: datetime | None = None) -> str | None:
    """None when the request is signed by a known key within the skew, else the gateway's 401 body text."""
    access_key = headers.get(HEADER_KEY, "")
    secret_key = secrets.get(access_key)
    given = headers.get(HEADER_SIGNATURE, "")
    date = headers.get(HEADER_DATE, "")
    if secret_key is None or headers.get(HEADER_ALGORITHM, "").lower() != ALGORITHM or not given or not date:
        return "Invalid signature"
    expected = signature(secret_key, method, path, query, access_key, date)
    if not hmac.compare_digest(expected.encode(), given.encode()):
        return "Invalid signature"
    try:
        sent = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        return "Invalid signature"
    if sent.tzinfo is None:
        return "Invalid signature"
    if abs(((now or datetime.now(UTC)) - sent).total_seconds()) > MAX_SKEW_SECONDS:
        return "Clock skew exceeded"
    return None
