"""Reject JSON text that no database can store, before any view sees it.

JSON may spell a lone UTF-16 surrogate (``"\\ud800"``); Python decodes it into a string that cannot be encoded
as UTF-8, so PostgreSQL, SQLite, Redis and WeChat would all fail on it later, as a 500. Valid UTF-8 bytes cannot
hold a surrogate, so only the ``\\uXXXX`` escapes of a JSON body need a look; a cheap byte search keeps the usual
request off the slow path.
"""

from __future__ import annotations

import json
import re

from flask import Flask, request

from app.errors import ApiError

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_lone_surrogate(value) -> bool:
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


def register(app: Flask) -> None:
    @app.before_request
    def _reject_unstorable_json() -> None:
        if not request.is_json:
            return
        body = request.get_data(cache=True)
        if not _SURROGATE_ESCAPE.search(body):
            return
        try:
            parsed = json.loads(body)
        except ValueError:
            return  # the view's parser answers malformed JSON with its own 400
        if _has_lone_surrogate(parsed):
            raise ApiError(400, "invalid_characters", "提交的内容含有无法识别的字符，请检查后重试。")
