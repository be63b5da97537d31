"""Helpers the console's pages share: the request hooks, form parsing with the API's schemas, error pages."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from marshmallow import Schema, ValidationError, fields
from werkzeug.exceptions import HTTPException

from app.console import blp, security
from app.errors import ApiError, error_body
from app.extensions import db
from app.timeutil import CITY_TZ, city_today

_WHOLE_NUMBER = re.compile(r"^-?[0-9]{1,12}$")

ERROR_PAGES = {
    400: ("请求无效", "请返回上一页重试。"),
    401: ("请先登录", "登录已失效，请重新登录。"),
    403: ("无权访问", "您的账号没有访问该页面的权限。"),
    404: ("未找到", "您要找的页面或数据不存在。"),
    405: ("请求无效", "该页面不支持这种操作。"),
    413: ("文件过大", "上传的文件超过了大小限制。"),
    429: ("操作过于频繁", "请稍后再试。"),
}


@blp.before_request
def _csrf_and_actor():
    # g outlives a request when tests push one app context around several requests: start afresh.
    g.pop("console_user", None)
    g.pop("console_timed_out", None)
    g.pop("csrf_token", None)  # Flask-WTF's per-request cache of the signed token
    security.check_csrf()
    security.current_user()


@blp.after_request
def _headers(response):
    return security.secure_headers(response)


@blp.app_template_global()
def csrf_token():
    return security.csrf_token()


@blp.app_template_filter("city_time")
def city_time(moment) -> str:
    return moment.astimezone(CITY_TZ).strftime("%Y-%m-%d %H:%M") if moment else ""


def _wants_json() -> bool:
    return request.path.startswith("/console/api/")


def error_page(status: int, message: str | None = None):
    if _wants_json():
        title, text = ERROR_PAGES.get(status, ("出错了", "请稍后再试。"))
        return jsonify(error_body(status, f"http_{status}", message or text)), status
    title, text = ERROR_PAGES.get(status, ("出错了", "请稍后再试。"))
    return render_template("console/error.html", status=status, title=title, message=message or text,
                           user=security.current_user()), status


@blp.errorhandler(CSRFError)
def _csrf_error(error):
    db.session.rollback()
    return error_page(400, "表单已失效或来源不明（CSRF 校验未通过），请刷新页面后重新提交。")


@blp.errorhandler(ApiError)
def _api_error(error: ApiError):
    db.session.rollback()
    if _wants_json():
        return jsonify(error_body(error.status, error.code, error.message, error.errors)), error.status
    return error_page(error.status, error.message)


@blp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return error_page(error.code or 500)


def form_errors(error: ValidationError | ApiError) -> dict[str, list[str]]:
    """Errors by field, for messages next to the fields (``_form`` for the form as a whole)."""
    if isinstance(error, ApiError):
        errors = {key: list(value) if isinstance(value, list) else [str(value)]
                  for key, value in (error.errors or {}).items()} if isinstance(error.errors, dict) else {}
        if not errors:
            errors["_form"] = [error.message]
        return errors
    messages = error.messages if isinstance(error.messages, dict) else {"_form": error.messages}
    flat = {}
    for key, value in messages.items():
        if isinstance(value, dict):  # nested / list item errors
            value = [text for inner in value.values() for text in (inner if isinstance(inner, list) else [inner])]
        flat["_form" if key == "_schema" else key] = value if isinstance(value, list) else [str(value)]
    return flat


def load_form(schema: Schema, *, lists: tuple[str, ...] = (), checkboxes: tuple[str, ...] = (),
              ignore: tuple[str, ...] = ()) -> dict:
    """The posted form as the API's schema loads it: empty fields are left out, ``lists`` are multi-valued,
    ``checkboxes`` are false when absent, ``ignore`` are the page's own fields. Raises marshmallow's
    ValidationError."""
    data: dict = {}
    for key in request.form:
        if key == "csrf_token" or key in lists or key in ignore:
            continue
        value = request.form.get(key, "").strip()
        if value != "":
            data[key] = value
    for key in lists:
        values = [value.strip() for value in request.form.getlist(key) if value.strip()]
        if values:
            data[key] = values
    for key in checkboxes:
        data[key] = key in request.form
    return schema.load(_as_json_types(schema, data))


def _as_json_types(schema: Schema, data: dict) -> dict:
    """A form is text, while the API's body schemas ask for JSON's own types: whole numbers typed into a number
    field become integers here; anything else is left for the schema to refuse next to its field."""
    typed = dict(data)
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        inner = getattr(field, "inner", None)
        if key not in typed:
            continue
        if isinstance(field, fields.Integer):
            typed[key] = _integer(typed[key])
        elif isinstance(inner, fields.Integer) and isinstance(typed[key], list):
            typed[key] = [_integer(value) for value in typed[key]]
    return typed


def _integer(value):
    return int(value) if isinstance(value, str) and _WHOLE_NUMBER.match(value) else value


def date_range(default_days: int, max_days: int = 3 * 366) -> tuple[date, date]:
    """``from`` / ``to`` of the query string (city dates), defaulting to the last ``default_days`` days."""
    today = city_today()
    errors = {}
    parsed = {}
    for name, default in (("from", today - timedelta(days=default_days - 1)), ("to", today)):
        raw = request.args.get(name, "").strip()
        try:
            parsed[name] = date.fromisoformat(raw) if raw else default
        except ValueError:
            errors[name] = ["日期格式应为 YYYY-MM-DD。"]
    if errors:
        raise ApiError(422, "invalid_date", "日期格式不正确。", errors)
    if parsed["from"] > parsed["to"]:
        raise ApiError(422, "invalid_range", "起始日期不能晚于结束日期。", {"to": ["起始日期不能晚于结束日期。"]})
    if (parsed["to"] - parsed["from"]).days >= max_days:
        raise ApiError(422, "range_too_long", f"日期范围最长 {max_days} 天。", {"from": [f"最长 {max_days} 天。"]})
    return parsed["from"], parsed["to"]


def page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= 100_000 else 1
