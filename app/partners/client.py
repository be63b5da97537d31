"""Calling a partner city's API: every request carries a fresh short-lived JWT signed with our current key.

The token (``Authorization: Bearer``) says who we are (``iss``: our city code), whom it is for (``aud``: theirs),
when (``iat``, ``exp`` two minutes later) and a unique ``jti`` they refuse to see twice. They check it against
our published JWKS; there is no shared secret to leak or rotate by hand.
"""

from __future__ import annotations

import logging
import secrets
import time

import requests
from flask import current_app

from app.partners import jws
from app.security.signing import b64url, keyring

log = logging.getLogger(__name__)

AUTH_TOKEN_SECONDS = 120


class PartnerUnavailable(Exception):
    """The partner did not give a usable answer: down, slow, refusing us, or answering nonsense."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status

    def as_error(self, step: str) -> dict:
        return {"step": step, "code": self.code, "message": self.message, "status": self.status}


def auth_token(audience: str, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims = {"iss": current_app.config["CITY_CODE"], "aud": audience, "iat": issued,
              "exp": issued + AUTH_TOKEN_SECONDS, "jti": b64url(secrets.token_bytes(16))}
    return jws.sign(claims, keyring().current())


def _timeout(timeout: float | None) -> float:
    return float(timeout if timeout is not None else current_app.config["PARTNER_HTTP_TIMEOUT_SECONDS"])


def _answer(response: requests.Response, what: str):
    if response.status_code >= 400:
        code = "http_error"
        try:
            body = response.json()
            code = (body.get("code") or code) if isinstance(body, dict) else code
        except ValueError:
            pass
        raise PartnerUnavailable(code, f"{what}：对方返回 HTTP {response.status_code}（{code}）", response.status_code)
    try:
        return response.json()
    except ValueError:
        raise PartnerUnavailable("bad_answer", f"{what}：对方的回答不是 JSON", response.status_code) from None


def _request(method: str, url: str, what: str, timeout: float | None, **kwargs):
    try:
        response = requests.request(method, url, timeout=_timeout(timeout), allow_redirects=False, **kwargs)
    except requests.Timeout:
        raise PartnerUnavailable("timeout", f"{what}：对方接口超时") from None
    except requests.RequestException as error:
        # The exception's text may carry the URL and its query string; only its kind is kept.
        raise PartnerUnavailable("unreachable", f"{what}：无法连接对方接口（{type(error).__name__}）") from None
    return _answer(response, what)


def call(partner, method: str, path: str, what: str, *, params: dict | None = None, json: dict | None = None,
         timeout: float | None = None):
    """``method`` ``<partner's api_base_url><path>`` with our auth token; the decoded JSON answer."""
    if not partner.api_base_url:
        raise PartnerUnavailable("not_configured", f"{what}：未登记对方接口地址（api_base_url）")
    url = partner.api_base_url.rstrip("/") + path
    headers = {"Authorization": f"Bearer {auth_token(partner.city_code)}", "Accept": "application/json"}
    return _request(method, url, what, timeout, params=params, json=json, headers=headers)


def fetch_jwks(url: str, timeout: float | None = None) -> dict:
    answer = _request("GET", url, "获取公钥集", timeout, headers={"Accept": "application/json"})
    if not isinstance(answer, dict):
        raise PartnerUnavailable("bad_answer", "获取公钥集：对方的回答不是 JWK Set")
    return answer


def fetch_status_list(url: str, timeout: float | None = None) -> str:
    """A partner's Token Status List (a JWT, ``application/statuslist+jwt``) as text."""
    try:
        response = requests.get(url, timeout=_timeout(timeout), allow_redirects=False,
                                headers={"Accept": "application/statuslist+jwt"})
    except requests.RequestException as error:
        raise PartnerUnavailable("unreachable", f"获取状态列表：无法连接对方接口（{type(error).__name__}）") from None
    if response.status_code != 200 or len(response.content) > 2_000_000:
        raise PartnerUnavailable("http_error", f"获取状态列表：对方返回 HTTP {response.status_code}",
                                 response.status_code)
    return response.text
