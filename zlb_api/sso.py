"""Our client of the province's single sign-on: ticket -> access token -> the person, every call signed for the
gateway (zlb_api/signing.py). Host, keys and appId come from the configuration (ZLB_*), nowhere else.

A ticket the province refuses (``success: false``: unknown, used or expired) is a 401 telling the person to come
back from 浙里办; any other failure of the province (an error status, an answer not in its shape) is a 502, and no
answer in time a 503, each with a Chinese message. The ID number and phone it returns never reach a log."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlsplit

import requests
from flask import current_app

from app.errors import ApiError
from zlb_api import signing
from zlb_api.standin import ACCESS_TOKEN_PATH, USER_INFO_PATH

log = logging.getLogger(__name__)

PROVINCE_ERROR = "浙里办统一身份认证暂时无法完成登录，请稍后再试。"
PROVINCE_TIMEOUT = "浙里办统一身份认证响应超时，请稍后再试。"


class Refused(Exception):
    """The province answered in its shape and said no (``success: false``)."""


def _post(path: str, payload: dict) -> dict:
    config = current_app.config
    url = config["ZLB_SSO_BASE"].rstrip("/") + path
    split = urlsplit(url)
    headers = signing.sign_headers(config["ZLB_ACCESS_KEY"], config["ZLB_SECRET_KEY"], "POST", split.path,
                                   split.query)
    try:
        response = requests.post(url, data=json.dumps(payload), timeout=config["ZLB_TIMEOUT_SECONDS"],
                                 headers={**headers, "Content-Type": "application/json;charset=UTF-8"})
    except requests.Timeout:
        log.warning("zlb sso timed out", extra={"fields": {"call": path.rsplit("/", 1)[-1]}})
        raise ApiError(503, "zlb_sso_timeout", PROVINCE_TIMEOUT) from None
    except requests.RequestException as error:
        log.warning("zlb sso unreachable", extra={"fields": {"call": path.rsplit("/", 1)[-1],
                                                             "error": type(error).__name__}})
        raise ApiError(503, "zlb_sso_unavailable", PROVINCE_TIMEOUT) from None
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code != 200 or not isinstance(answer, dict) or not answer.get("success"):
        code = answer.get("code") if isinstance(answer, dict) else None
        log.warning("zlb sso refused", extra={"fields": {"call": path.rsplit("/", 1)[-1],
                                                         "status": response.status_code, "code": code}})
        if response.status_code == 200 and isinstance(answer, dict) and answer.get("success") is False:
            raise Refused(code)
        raise ApiError(502, "zlb_sso_error", PROVINCE_ERROR)
    return answer.get("data") or {}


def access_token(ticket_id: str) -> str:
    try:
        data = _post(ACCESS_TOKEN_PATH, {"ticketId": ticket_id, "appId": current_app.config["ZLB_APP_ID"]})
    except Refused:
        raise ApiError(401, "zlb_ticket_invalid",
                       "浙里办登录凭证无效或已过期，请返回浙里办重新打开本应用。") from None
    token = data.get("accessToken")
    if not isinstance(token, str) or not token:
        raise ApiError(502, "zlb_sso_error", PROVINCE_ERROR)
    return token


def user_info(token: str) -> dict:
    try:
        person = _post(USER_INFO_PATH, {"token": token}).get("personInfo")
    except Refused:  # a token it issued a moment ago: the province is at fault
        raise ApiError(502, "zlb_sso_error", PROVINCE_ERROR) from None
    if not isinstance(person, dict) or not person.get("userId") or not person.get("idNo"):
        raise ApiError(502, "zlb_sso_error", PROVINCE_ERROR)
    return person


def person_for_ticket(ticket_id: str) -> dict:
    """{userId, userName, idType, idNo, phone} of the person the ticket was issued to."""
    return user_info(access_token(ticket_id))
