"""Refuse, before any view sees it, text that no store of ours can keep (see ``app/storable.py``).

NUL arrives as ``%00`` in a URL or ``\\u0000`` in JSON; a lone surrogate as a ``\\uD8xx``–``\\uDFxx`` escape.
Valid UTF-8 bytes carry neither, so a byte search keeps the usual request off the slow path. A view that checks
each row of a batch itself (so the good rows are kept) is marked with ``checks_own_text``.
"""

from __future__ import annotations

import json
import re

from flask import Flask, current_app, request

from app.errors import ApiError
from app.storable import contains_unstorable

_SUSPECT_JSON_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_SUSPECT_URL = re.compile(rb"%00|\x00")


def checks_own_text(view):
    """Mark a view that rejects unstorable text row by row instead of refusing the whole request."""
    view.checks_own_text = True
    return view


def _refuse() -> None:
    raise ApiError(400, "invalid_characters", "提交的内容含有无法识别的字符，请检查后重试。")


def register(app: Flask) -> None:
    @app.before_request
    def _reject_unstorable_text() -> None:
        if _SUSPECT_URL.search(request.query_string) or "\x00" in request.path:
            _refuse()
        if not request.is_json:
            return
        view = current_app.view_functions.get(request.endpoint)
        if getattr(view, "checks_own_text", False):
            return
        body = request.get_data(cache=True)
        if not _SUSPECT_JSON_ESCAPE.search(body):
            return
        try:
            parsed = json.loads(body)
        except ValueError:
            return  # the view's parser answers malformed JSON with its own 400
        if contains_unstorable(parsed):
            _refuse()
