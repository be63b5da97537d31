"""Talking to WeChat through wechatpy: the mini-program login, the official account's user info, the callback crypto.

Every call builds a small client pointed at ``WECHAT_API_BASE`` (api.weixin.qq.com in production, the local
stand-in in the demo and the tests), so the same code path runs everywhere. The ``cgi-bin/token`` access token
is shared by all workers through the key-value store and refreshed by one of them at a time (redis-py's ``Lock``):
every refresh rotates the token at WeChat, so racing refreshes would invalidate each other's tokens.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re

import requests
from flask import current_app
from redis.exceptions import LockNotOwnedError
from wechatpy import WeChatClient
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from app.errors import ApiError
from app.extensions import kv
from app.security.keys import load_or_create_secret

log = logging.getLogger(__name__)
# urllib3 logs full request lines at DEBUG, and WeChat's query strings carry the app secret and login codes.
logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)

_TOKEN_PREFIX = "wechat:token"
_LOCK_PREFIX = "wechat:token-lock"
_LOCK_SECONDS = 15
# Refresh a little before WeChat's own expiry so a token never dies in the middle of a call.
_TOKEN_MARGIN_SECONDS = 300
_AES_KEY = re.compile(r"^[A-Za-z0-9+/]{43}$")
_OA_TOKEN = re.compile(r"^[A-Za-z0-9]{3,32}$")

# WeChat's error codes and what the citizen is told. Anything not listed is our configuration or WeChat's
# problem, never the citizen's: 503.
INVALID_CODE = {40029, 40163}
RATE_LIMITED = {45009, 45011}
RISKY_USER = {40226}


# --------------------------------------------------------------------------------------------------------
# Official-account secrets
# --------------------------------------------------------------------------------------------------------


_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def encoding_aes_key(secret: bytes) -> str:
    """43 letters and digits from 32 random bytes (62**43 > 2**256, so nothing is lost): an EncodingAESKey that
    WeChat's console accepts as typed in; base64 would put ``+`` or ``/`` in three keys out of four."""
    number, digits = int.from_bytes(secret, "big"), []
    for _ in range(43):
        number, digit = divmod(number, 62)
        digits.append(_BASE62[digit])
    return "".join(reversed(digits))


def ensure_oa_secrets(app) -> None:
    """Fill WECHAT_OA_TOKEN / WECHAT_OA_AES_KEY from key files under KEYS_DIR when the environment has none.

    Run once when the chatbot blueprint is registered, so every worker of one instance agrees on them (the key
    files are created with O_EXCL) and a first look needs no setup.
    """
    keys_dir = app.config["KEYS_DIR"]
    token = app.config.get("WECHAT_OA_TOKEN")
    if not token:
        token = load_or_create_secret(None, keys_dir, "wechat_oa_token", 16).hex()[:32]
    elif not _OA_TOKEN.match(token):
        raise RuntimeError("WECHAT_OA_TOKEN must be 3-32 letters or digits (WeChat's rule for the token)")
    aes_key = app.config.get("WECHAT_OA_AES_KEY")
    if not aes_key:
        aes_key = encoding_aes_key(load_or_create_secret(None, keys_dir, "wechat_oa_aes_key", 32))
    elif not _AES_KEY.match(aes_key) or len(base64.b64decode(aes_key + "=")) != 32:
        raise RuntimeError("WECHAT_OA_AES_KEY must be 43 characters of the base64 alphabet (WeChat's EncodingAESKey)")
    app.config["WECHAT_OA_TOKEN"], app.config["WECHAT_OA_AES_KEY"] = token, aes_key


def oa_crypto() -> WeChatCrypto:
    config = current_app.config
    return WeChatCrypto(config["WECHAT_OA_TOKEN"], config["WECHAT_OA_AES_KEY"], config["WECHAT_OA_APPID"])


# --------------------------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------------------------


class _KvStorage(SessionStorage):
    """wechatpy's session storage on our key-value store (the access token is all it keeps)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def get(self, key, default=None):
        value = kv.get(f"{self.prefix}:{key}")
        return default if value is None else json.loads(value)

    def set(self, key, value, ttl=None):
        if value is None:
            return
        ttl = max(int(ttl) - _TOKEN_MARGIN_SECONDS, 60) if ttl else None
        kv.set(f"{self.prefix}:{key}", json.dumps(value), ex=ttl)

    def delete(self, key):
        kv.delete(f"{self.prefix}:{key}")


class _TimeoutSession(requests.Session):
    """wechatpy fetches the access token without a timeout; a hung WeChat must not hang a worker."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(self, method, url, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, **kwargs)


class CityWeChatClient(WeChatClient):
    """A WeChatClient aimed at WECHAT_API_BASE whose token refresh is shared across workers."""

    def __init__(self, appid: str, secret: str, api_base: str, timeout: float) -> None:
        super().__init__(appid, secret, session=_KvStorage(_TOKEN_PREFIX), timeout=timeout)
        api_base = api_base if api_base.endswith("/") else api_base + "/"
        self.API_BASE_URL = api_base + "cgi-bin/"
        self.wxa.API_BASE_URL = api_base
        self._http = _TimeoutSession(timeout)
        self._forced_refreshes = 0
        self._handed_out: str | None = None

    @property
    def access_token(self):
        # The key-value store's expiry (WeChat's minus a margin) decides when a token is stale, for all workers.
        token = self.session.get(self.access_token_key)
        self._handed_out = token
        if token is None:
            self.fetch_access_token()
            token = self._handed_out = self.session.get(self.access_token_key)
        return token

    def fetch_access_token(self):
        """Called when no token is cached, and by wechatpy's retry after WeChat rejected the one handed out."""
        seen = self._handed_out
        if seen is not None:
            # wechatpy retries a rejected token without limit; one fresh token per call is enough.
            if self._forced_refreshes:
                raise WeChatClientException(40001, "access token rejected after refresh", client=self)
            self._forced_refreshes += 1
        current = self.session.get(self.access_token_key)
        if current is not None and current != seen:
            return {"access_token": current}  # another worker refreshed meanwhile
        # redis-py's Lock: a random token per holder, released by an atomic compare-and-delete (a Lua script), so a
        # holder whose lock expired can never delete the next holder's.
        lock = kv.client.lock(f"{_LOCK_PREFIX}:{self.appid}", timeout=_LOCK_SECONDS, sleep=0.05,
                              blocking_timeout=(self.timeout or 3) + 1)
        if not lock.acquire():
            raise requests.Timeout("waited too long for another worker's access token refresh")
        try:
            # Checked again under the lock: the previous holder may have stored one just before releasing.
            current = self.session.get(self.access_token_key)
            if current is not None and current != seen:
                return {"access_token": current}
            return self._fetch_access_token(
                url=self.API_BASE_URL + "token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            )
        finally:
            with contextlib.suppress(LockNotOwnedError):  # ours expired meanwhile: nothing of ours to release
                lock.release()


# The chatbot must answer within WeChat's 5 s, and a first message may need a token and then user/info.
_OA_MAX_TIMEOUT_SECONDS = 2.0


def _client(appid_key: str, secret_key: str, max_timeout: float | None = None) -> CityWeChatClient:
    config = current_app.config
    timeout = float(config["WECHAT_TIMEOUT_SECONDS"])
    return CityWeChatClient(config[appid_key], config[secret_key], config["WECHAT_API_BASE"],
                            min(timeout, max_timeout) if max_timeout else timeout)


def mp_client() -> CityWeChatClient:
    return _client("WECHAT_MP_APPID", "WECHAT_MP_SECRET")


def oa_client() -> CityWeChatClient:
    return _client("WECHAT_OA_APPID", "WECHAT_OA_SECRET", _OA_MAX_TIMEOUT_SECONDS)


# --------------------------------------------------------------------------------------------------------
# Calls, with WeChat's errors turned into answers a citizen can act on
# --------------------------------------------------------------------------------------------------------


def error_for(exc: Exception) -> ApiError:
    if isinstance(exc, WeChatClientException) and exc.errcode is not None:
        code = exc.errcode
        if code in INVALID_CODE:
            return ApiError(400, "invalid_code", "微信登录凭证无效或已过期，请重新进入小程序登录。")
        if code in RATE_LIMITED:
            return ApiError(429, "wechat_rate_limited", "登录过于频繁，请一分钟后再试。", headers={"Retry-After": "60"})
        if code in RISKY_USER:
            return ApiError(403, "risky_user",
                            "微信判定当前账号存在安全风险，暂时无法登录。请在微信中完成安全验证后再试。")
        if code == -1:
            return ApiError(503, "wechat_busy", "微信服务繁忙，请稍后再试。", headers={"Retry-After": "5"})
        log.error("wechat refused a call", extra={"fields": {"errcode": code}})
        return ApiError(503, "wechat_error", "暂时无法完成微信登录，请稍后再试。")
    if isinstance(exc, requests.Timeout):
        log.warning("wechat call timed out")
        return ApiError(503, "wechat_timeout", "微信服务响应超时，请稍后再试。", headers={"Retry-After": "5"})
    log.warning("wechat unreachable", extra={"fields": {"error": type(exc).__name__}})
    return ApiError(503, "wechat_unavailable", "暂时无法连接微信服务，请稍后再试。", headers={"Retry-After": "5"})


def _call(fn, *args):
    try:
        result = fn(*args)
    except (WeChatClientException, requests.RequestException) as exc:
        raise error_for(exc) from None
    if not isinstance(result, dict):
        # wechatpy hands back the raw response when the body is not JSON.
        log.error("wechat answered with something that is not JSON")
        raise ApiError(503, "wechat_bad_response", "微信服务返回异常，请稍后再试。")
    return result


def code_to_session(code: str) -> dict:
    """Exchange a ``wx.login()`` code: ``{"openid", "unionid"?}`` (the session key is dropped: we keep none)."""
    result = _call(mp_client().wxa.code_to_session, code)
    openid = result.get("openid")
    if not isinstance(openid, str) or not 0 < len(openid) <= 64:
        log.error("jscode2session answered without a usable openid")
        raise ApiError(503, "wechat_bad_response", "微信服务返回异常，请稍后再试。")
    unionid = result.get("unionid")
    return {"openid": openid, "unionid": unionid if isinstance(unionid, str) and 0 < len(unionid) <= 64 else None}


def oa_unionid(openid: str) -> str | None:
    """The unionid behind an official-account openid (``cgi-bin/user/info``); None when WeChat gives none."""
    result = _call(oa_client().user.get, openid)
    unionid = result.get("unionid")
    return unionid if isinstance(unionid, str) and 0 < len(unionid) <= 64 else None
