"""A local stand-in for api.weixin.qq.com, speaking WeChat's JSON, for the demo, the tests and the benchmark.

It answers the calls we make — ``cgi-bin/token``, ``sns/jscode2session``, ``cgi-bin/user/info`` and (POST)
``cgi-bin/message/subscribe/send`` — so the production code path (wechatpy against WECHAT_API_BASE) runs unchanged.
Subscription messages it accepted are kept in ``subscribe_messages`` (and served at ``GET /standin/subscribe-messages``)
so that a test or a demo user can read what was sent; ``fail_subscribe_sends = n`` answers the
next n sends with a system error (-1), and a person whose name starts with ``unsub`` has not subscribed (43101).
Identities are deterministic: the login
code names a person, so logging in twice with the same code is the same person, and that person's
official-account openid (``openid_for(oa_appid, person)``) shares their unionid.

Scripted answers, for trying the error paths:
    err-40029, err-45011, err-40226, err--1   that errcode (any number works)
    slow, slow-anything                        answers after ``slow_seconds`` (past the client's timeout)
    nounion-anything                           a person without a unionid (app not bound to the open platform)
    garbage                                    a body that is not JSON
The same words work as the person part of an official-account openid for ``user/info``.

    python -m miniprogram_api.standin [--port 8765]      run it on its own
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import secrets
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

_PERSON = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_ERR = re.compile(r"^err-(-?\d+)")

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40003: "invalid openid",
    40013: "invalid appid",
    40029: "invalid code",
    40125: "invalid appsecret",
    40163: "code been used",
    43101: "user refuse to accept the msg",
    47003: "argument invalid! data.thing1.value invalid",
    40226: "high risk user",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
}


def person_key(code: str) -> str:
    """The person a login code stands for: the code itself when short and plain, else a digest of it."""
    return code if _PERSON.match(code) else hashlib.sha256(code.encode()).hexdigest()[:32]


def _app_tag(appid: str) -> str:
    return hashlib.sha256(appid.encode()).hexdigest()[:6]


def openid_for(appid: str, person: str) -> str:
    """The openid one of our apps sees for a person (each app sees a different one, as in WeChat)."""
    return f"o{_app_tag(appid)}_{person_key(person)}"


def unionid_for(person: str) -> str:
    return "u" + hashlib.sha256(f"unionid:{person_key(person)}".encode()).hexdigest()[:27]


def _person_of_openid(appid: str, openid: str) -> str | None:
    prefix = f"o{_app_tag(appid)}_"
    return openid[len(prefix):] if openid.startswith(prefix) else None


class StandInWeChat:
    """``start()`` serves on a free loopback port in a daemon thread; ``url`` is the WECHAT_API_BASE to use."""

    def __init__(self, apps: dict[str, str], host: str = "127.0.0.1", port: int = 0,
                 slow_seconds: float = 5.0) -> None:
        self.apps = dict(apps)  # appid -> secret
        self.slow_seconds = slow_seconds
        self.reject_access_tokens = False  # answer 40001 to every token, as WeChat does to a rotated one
        self.calls: Counter[str] = Counter()
        self.subscribe_messages: list[dict] = []  # every subscription message accepted, in order
        self.fail_subscribe_sends = 0
        self._tokens: dict[str, str] = {}  # access token -> appid
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> StandInWeChat:
        self._thread = threading.Thread(target=self._server.serve_forever, name="wechat-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self._tokens.clear()
            self.reject_access_tokens = False
            self.subscribe_messages.clear()
            self.fail_subscribe_sends = 0

    def invalidate_tokens(self) -> None:
        """As when WeChat rotates the token because someone else fetched one: every issued token stops working."""
        with self._lock:
            self._tokens.clear()

    # -- the three endpoints --------------------------------------------------------------------------------

    def _scripted(self, person: str) -> dict | None:
        match = _ERR.match(person)
        if match:
            code = int(match.group(1))
            return {"errcode": code, "errmsg": ERRMSG.get(code, "error")}
        if person.startswith("slow"):
            time.sleep(self.slow_seconds)
        return None

    def token(self, query: dict) -> dict:
        appid, secret = query.get("appid", ""), query.get("secret", "")
        if query.get("grant_type") != "client_credential":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        if appid not in self.apps:
            return {"errcode": 40013, "errmsg": ERRMSG[40013]}
        if secret != self.apps[appid]:
            return {"errcode": 40125, "errmsg": ERRMSG[40125]}
        token = secrets.token_urlsafe(48)
        with self._lock:
            self._tokens[token] = appid
        return {"access_token": token, "expires_in": 7200}

    def jscode2session(self, query: dict) -> dict | bytes:
        appid, secret, code = query.get("appid", ""), query.get("secret", ""), query.get("js_code", "")
        if appid not in self.apps:
            return {"errcode": 40013, "errmsg": ERRMSG[40013]}
        if secret != self.apps[appid]:
            return {"errcode": 40125, "errmsg": ERRMSG[40125]}
        if not code:
            return {"errcode": 40029, "errmsg": ERRMSG[40029]}
        person = person_key(code)
        if person == "garbage":
            return b"<html>502 Bad Gateway</html>"
        scripted = self._scripted(person)
        if scripted:
            return scripted
        answer = {"openid": openid_for(appid, person),
                  "session_key": base64.b64encode(hashlib.sha256(f"session:{appid}:{person}".encode()).digest()[:16])
                  .decode()}
        if not person.startswith("nounion"):
            answer["unionid"] = unionid_for(person)
        return answer

    def user_info(self, query: dict) -> dict | bytes:
        with self._lock:
            appid = self._tokens.get(query.get("access_token", ""))
        if appid is None or self.reject_access_tokens:
            return {"errcode": 40001, "errmsg": ERRMSG[40001]}
        openid = query.get("openid", "")
        person = _person_of_openid(appid, openid)
        if person is None:
            return {"errcode": 40003, "errmsg": ERRMSG[40003]}
        if person == "garbage":
            return b"not json"
        scripted = self._scripted(person)
        if scripted:
            return scripted
        answer = {"subscribe": 1, "openid": openid, "language": "zh_CN", "subscribe_time": int(time.time()),
                  "remark": "", "groupid": 0, "tagid_list": [], "subscribe_scene": "ADD_SCENE_QR_CODE"}
        if not person.startswith("nounion"):
            answer["unionid"] = unionid_for(person)
        return answer

    def subscribe_send(self, query: dict, body: bytes) -> dict:
        with self._lock:
            appid = self._tokens.get(query.get("access_token", ""))
        if appid is None or self.reject_access_tokens:
            return {"errcode": 40001, "errmsg": ERRMSG[40001]}
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return {"errcode": 47001, "errmsg": "data format error"}
        openid, template_id, data = payload.get("touser"), payload.get("template_id"), payload.get("data")
        person = _person_of_openid(appid, openid) if isinstance(openid, str) else None
        if person is None:
            return {"errcode": 40003, "errmsg": ERRMSG[40003]}
        if not template_id or not isinstance(data, dict):
            return {"errcode": 40037, "errmsg": "invalid template_id"}
        for key, value in data.items():
            text = value.get("value") if isinstance(value, dict) else None
            # WeChat's rule for ``thing`` values: at most 20 characters.
            if not isinstance(text, str) or (key.startswith("thing") and len(text) > 20):
                return {"errcode": 47003, "errmsg": f"argument invalid! data.{key}.value invalid"}
        if person.startswith("unsub"):
            return {"errcode": 43101, "errmsg": ERRMSG[43101]}
        with self._lock:
            if self.fail_subscribe_sends > 0:
                self.fail_subscribe_sends -= 1
                return {"errcode": -1, "errmsg": ERRMSG[-1]}
            self.subscribe_messages.append({"appid": appid, "touser": openid, "template_id": template_id,
                                            "page": payload.get("page"), "data": data})
        return {"errcode": 0, "errmsg": "ok"}

    def _handler_class(self):
        standin = self
        routes = {"/cgi-bin/token": standin.token, "/sns/jscode2session": standin.jscode2session,
                  "/cgi-bin/user/info": standin.user_info}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - http.server's naming
                parsed = urlparse(self.path)
                if parsed.path == "/standin/subscribe-messages":
                    with standin._lock:
                        sent = list(standin.subscribe_messages)
                    self._send(200, {"messages": sent})
                    return
                route = routes.get(parsed.path)
                if route is None:
                    self._send(404, {"errcode": 404, "errmsg": "not found"})
                    return
                with standin._lock:
                    standin.calls[parsed.path.strip("/")] += 1
                query = {key: values[0] for key, values in parse_qs(parsed.query).items()}
                self._send(200, route(query))

            def do_POST(self):  # noqa: N802 - http.server's naming
                parsed = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if parsed.path != "/cgi-bin/message/subscribe/send":
                    self._send(404, {"errcode": 404, "errmsg": "not found"})
                    return
                with standin._lock:
                    standin.calls[parsed.path.strip("/")] += 1
                query = {key: values[0] for key, values in parse_qs(parsed.query).items()}
                self._send(200, standin.subscribe_send(query, body))

            def _send(self, status: int, body) -> None:
                raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8" if not isinstance(body, bytes)
                                 else "text/html")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                # The client may have given up (a timeout test): then there is nobody to tell.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(raw)

            def log_message(self, format, *args):  # noqa: A002 - http.server's signature
                # The default logs the query string, which carries app secrets and login codes.
                pass

        return Handler


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Run the stand-in WeChat API server on its own.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    from app.config import Config

    apps = {Config.WECHAT_MP_APPID: Config.WECHAT_MP_SECRET, Config.WECHAT_OA_APPID: Config.WECHAT_OA_SECRET}
    standin = StandInWeChat(apps, args.host, args.port)
    print(f"stand-in WeChat API at {standin.url}  (set WECHAT_API_BASE={standin.url})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        standin._server.serve_forever()


if __name__ == "__main__":
    main()
