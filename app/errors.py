"""JSON errors everywhere: ``{code, status, message, errors?}`` with a stable code and a Chinese message."""

from __future__ import annotations

import json
import logging

from flask import Flask, jsonify
from redis import exceptions as kv_errors
from sqlalchemy import exc as db_errors
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# The database or the key-value store cannot answer now (down, restarting, a lock wait or deadlock given up,
# SQLite's writer busy): the caller should try again shortly, and a load balancer should look elsewhere.
# A Redis primary demoted by Sentinel answers writes with READONLY until clients find the new one.
UNAVAILABLE = (db_errors.OperationalError, db_errors.DisconnectionError, kv_errors.ConnectionError,
               kv_errors.TimeoutError, kv_errors.ReadOnlyError)
RETRY_AFTER_SECONDS = "5"

# Stable machine codes for Werkzeug's HTTP errors, with messages a citizen can read.
HTTP_CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "请求格式有误，请检查后重试。"),
    401: ("unauthorized", "请先登录或提供有效的凭证。"),
    403: ("forbidden", "您没有权限进行此操作。"),
    404: ("not_found", "您访问的内容不存在。"),
    405: ("method_not_allowed", "不支持该请求方式。"),
    409: ("conflict", "操作与当前状态冲突，请刷新后重试。"),
    413: ("payload_too_large", "提交的内容过大，请分批提交。"),
    414: ("uri_too_long", "请求地址过长（含查询参数），请缩短后重试。"),
    415: ("unsupported_media_type", "请以 JSON 格式提交。"),
    422: ("validation_error", "提交的信息有误，请按提示修改。"),
    429: ("too_many_requests", "操作过于频繁，请稍后再试。"),
    431: ("header_fields_too_large", "请求头过大或过多，请精简后重试。"),
    500: ("internal_error", "系统繁忙，请稍后再试。"),
    503: ("service_unavailable", "服务暂时不可用，请稍后再试。"),
}


class ApiError(Exception):
    """A refusal a caller can act on: HTTP status, stable code, Chinese message, optional details."""

    def __init__(self, status: int, code: str, message: str, errors: dict | list | None = None,
                 headers: dict | None = None) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.headers = headers or {}


def error_body(status: int, code: str, message: str, errors=None) -> dict:
    body = {"code": code, "status": status, "message": message}
    if errors:
        body["errors"] = errors
    return body


def raw_error_response(status: int, reason: str) -> bytes:
    """A whole HTTP/1.1 error answer with our JSON body, for a server that refuses a request before the app sees it
    (gunicorn's request-line and header limits: see gunicorn.conf.py)."""
    code, message = HTTP_CODES.get(status, ("http_error", "请求无法完成。"))
    body = json.dumps(error_body(status, code, message), ensure_ascii=False).encode("utf-8")
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


def _http_error_response(error: HTTPException):
    status = error.code or 500
    code, message = HTTP_CODES.get(status, ("http_error", "请求无法完成。"))
    errors = None
    data = getattr(error, "data", None) or {}
    # flask-smorest/webargs attach marshmallow's messages here on 422.
    if isinstance(data, dict) and data.get("messages"):
        errors = data["messages"]
        # Only one location is ever validated per request; drop the {"json": ...} wrapper.
        if isinstance(errors, dict) and len(errors) == 1:
            errors = next(iter(errors.values()))
    elif isinstance(data, dict) and data.get("message") and status < 500:
        message = data["message"]
    response = jsonify(error_body(status, code, message, errors))
    response.status_code = status
    # Keep Werkzeug's headers (a 405 must say Allow; a 401 WWW-Authenticate).
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def register_error_handlers(app: Flask) -> None:
    """Register after ``api.init_app``: ours replace flask-smorest's handler, which drops headers."""

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        response = jsonify(error_body(error.status, error.code, error.message, error.errors))
        response.status_code = error.status
        response.headers.update(error.headers)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        return _http_error_response(error)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return _http_error_response(error)
        if isinstance(error, UNAVAILABLE):
            cause = getattr(error, "orig", None) or error
            # The driver's first line says what failed (refused, timed out, deadlock); later lines and SQLAlchemy's
            # own text can carry statement parameters, which may be personal data.
            first_line = (str(cause).splitlines() or [""])[0][:200]
            log.warning("dependency unavailable: %s: %s", type(cause).__name__, first_line)
            response = _coded_response(503)
            response.headers["Retry-After"] = RETRY_AFTER_SECONDS
            return response
        log.exception("unhandled error")
        return _coded_response(500)


def _coded_response(status: int):
    code, message = HTTP_CODES[status]
    response = jsonify(error_body(status, code, message))
    response.status_code = status
    return response

