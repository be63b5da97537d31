"""Refuse, before any view sees it, a body no view should parse, and text that no store of ours can keep.

JSON nested deeper than ``MAX_JSON_DEPTH`` (``[[[[…]]]]`` thousands deep makes Python's parser raise
``RecursionError``) and a non-JSON body sent to an operation that reads JSON are answered here with a coded 4xx in
Chinese; malformed JSON is answered (in Chinese too) by the view's parser, after the credentials are checked.

Unstorable text (see ``app/storable.py``): NUL arrives as ``%00`` in a URL or ``\\u0000`` in JSON; a lone surrogate
as a ``\\uD8xx``–``\\uDFxx`` escape; in a form (multipart or urlencoded) as a raw byte in a field or a file's name.
Valid UTF-8 bytes in JSON carry neither, so a byte search keeps the usual request off the slow path. A form's fields
are answered with the 422 every form operation documents, naming the fields. A view that checks each row of a batch
itself (so the good rows are kept) is marked with ``checks_own_text``.
"""

from __future__ import annotations

import json
import re

from flask import Flask, current_app, request
from webargs.flaskparser import FlaskParser

from app.errors import ApiError
from app.storable import UNSTORABLE, contains_unstorable

_SUSPECT_JSON_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_SUSPECT_URL = re.compile(rb"%00|\x00")
# A JSON string (skipped whole, escapes included) or one bracket: the nesting depth is counted on brackets only.
_STRING_OR_BRACKET = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')
# Our deepest schema nests four levels; 32 leaves room for any honest client and stays far from the recursion limit.
MAX_JSON_DEPTH = 32


def checks_own_text(view):
    """Mark a view that rejects unstorable text row by row instead of refusing the whole request."""
    view.checks_own_text = True
    return view


def _refuse() -> None:
    raise ApiError(400, "invalid_characters", "提交的内容含有无法识别的字符，请检查后重试。")


_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _refuse_form_fields() -> None:
    """Refuse a form whose text fields or file names hold unstorable text, naming each such field."""
    if request.mimetype not in _FORM_TYPES:
        return
    bad = {key for key, value in request.form.items(multi=True) if contains_unstorable(key) or
           contains_unstorable(value)}
    bad |= {key for key, upload in request.files.items(multi=True) if contains_unstorable(key) or
            contains_unstorable(upload.filename or "")}
    if bad:
        raise ApiError(422, "invalid_characters", "提交的内容含有无法识别的字符，请检查后重试。",
                       errors={UNSTORABLE.sub("\ufffd", key): ["含有无法识别的字符。"] for key in sorted(bad)})


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether brackets outside strings nest deeper than ``limit`` (counted without parsing, so without recursion)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for token in _STRING_OR_BRACKET.findall(body):
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


def _reads_json(view) -> bool:
    """Whether the operation takes a JSON body (flask-smorest records its ``@blp.arguments`` on the view)."""
    arguments = (getattr(view, "_apidoc", None) or {}).get("arguments", {})
    return any(parameter.get("in") == "json" for parameter in arguments.get("parameters", []))


def _check_body(view) -> bytes | None:
    """Refuse a body the view could not read; return the raw JSON body when there is one."""
    if not request.is_json:
        if _reads_json(view) and request.content_length:
            raise ApiError(415, "unsupported_media_type", "请以 JSON 格式提交（Content-Type: application/json）。")
        return None
    body = request.get_data(cache=True)
    if not body:
        return None
    if json_depth_exceeds(body):
        raise ApiError(400, "json_too_deep", f"提交的内容嵌套层级过深（最多 {MAX_JSON_DEPTH} 层）。")
    return body


def _invalid_json(self, error, req, *args, **kwargs):
    raise ApiError(400, "invalid_json", "提交的内容不是有效的 JSON，请检查后重试。")


def register(app: Flask) -> None:
    # webargs' hook for a body that does not parse (its default answers in English: "Invalid JSON body."). It runs
    # inside the view, after the credentials are checked, so an outsider's body is never parsed. Set on the class:
    # flask-smorest's blueprints bind their parser instance when the view modules are imported.
    FlaskParser._handle_invalid_json_error = _invalid_json

    @app.before_request
    def _reject_unstorable_text() -> None:
        if _SUSPECT_URL.search(request.query_string) or "\x00" in request.path:
            _refuse()
        view = current_app.view_functions.get(request.endpoint)
        _refuse_form_fields()
        body = _check_body(view)
        if body is None or getattr(view, "checks_own_text", False):
            return
        if not _SUSPECT_JSON_ESCAPE.search(body):
            return
        try:
            parsed = json.loads(body)
        except ValueError:
            return  # the view's parser answers malformed JSON with its own 400
        if contains_unstorable(parsed):
            _refuse()
