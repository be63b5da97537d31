"""A local stand-in of the province's single sign-on (IRS 统一身份认证) behind its signing gateway, for the demo and the
tests: it checks the gateway's HMAC signature and clock skew (401 ``Invalid signature`` / ``Clock skew exceeded``),
issues tickets for demo citizens (``issue_ticket``: what ``ZWJSBridge.ssoTicket()`` hands the page), and answers

    POST /restapi/prod/IC33000020220329000007/uc/sso/access_token   {ticketId, appId} -> data.accessToken
    POST /restapi/prod/IC33000020220329000008/uc/sso/getUserInfo    {token}           -> data.personInfo

in the documented shape ``{success, code, message, data}``; a refusal is ``success: false`` with a code. A ticket is
single-use and lasts five minutes, a token thirty. Scripted tickets for the error paths: ``error`` (the province
answers HTTP 500), ``slow`` (answers after ``slow_seconds``), ``refused`` (``success: false``).

    python -m zlb_api.standin [--port 8766]      run it on its own (AK/SK/appId from the environment's defaults)
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

from zlb_api import signing

ACCESS_TOKEN_PATH = "/restapi/prod/IC33000020220329000007/uc/sso/access_token"
USER_INFO_PATH = "/restapi/prod/IC33000020220329000008/uc/sso/getUserInfo"
TICKET_SECONDS, TOKEN_SECONDS = 300, 1800
SCRIPTED_TICKETS = ("error", "slow", "refused")


class StandInZlbSso:
    """``start()`` serves on a free loopback port in a daemon thread; ``url`` is the ZLB_SSO_BASE to use."""

    def __init__(self, keys: dict[str, str], app_id: str, host: str = "127.0.0.1", port: int = 0,
                 slow_seconds: float = 5.0) -> None:
        self.keys = dict(keys)  # access key -> secret key
        self.app_id = app_id
        self.slow_seconds = slow_seconds
        self.calls: Counter[str] = Counter()
        self.refusals: list[str] = []  # the 401 bodies it answered, in order
        self._tickets: dict[str, tuple[dict, float]] = {}
        self._tokens: dict[str, tuple[dict, float]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StandInZlbSso:
        threading.Thread(target=self._server.serve_forever, name="zlb-sso-standin", daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.refusals.clear()
            self._tickets.clear()
            self._tokens.clear()

    def issue_ticket(self, person: dict) -> str:
        """A ticket for ``person`` ({userId, userName, idType, idNo, phone}), as the container gives the page."""
        ticket = "ST-" + secrets.token_hex(16)
        with self._lock:
            self._tickets[ticket] = (dict(person), time.time() + TICKET_SECONDS)
        return ticket

    # -- the two calls -------------------------------------------------------------------------------------

    def _access_token(self, body: dict) -> tuple[int, dict]:
        ticket, app_id = str(body.get("ticketId") or ""), str(body.get("appId") or "")
        if app_id != self.app_id:
            return 200, _refusal("14003", "appId不存在或未授权")
        with self._lock:
            person, until = self._tickets.pop(ticket, (None, 0.0))
        if person is None or until < time.time():
            return 200, _refusal("14001", "ticketId无效或已过期")
        token = "AT-" + secrets.token_hex(16)
        with self._lock:
            self._tokens[token] = (person, time.time() + TOKEN_SECONDS)
        return 200, _success({"accessToken": token, "refreshToken": "RT-" + secrets.token_hex(16),
                              "expiresTime": int((time.time() + TOKEN_SECONDS) * 1000)})

    def _user_info(self, body: dict) -> tuple[int, dict]:
        with self._lock:
            person, until = self._tokens.get(str(body.get("token") or ""), (None, 0.0))
        if person is None or until < time.time():
            return 200, _refusal("14002", "token无效或已过期")
        return 200, _success({"personInfo": person})

    def _handler_class(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet: the tests and the demo log their own way
                pass

            def do_POST(self):  # noqa: N802 - http.server's naming
                parsed = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                refusal = signing.check(self.headers, standin.keys, "POST", parsed.path, parsed.query)
                if refusal:
                    with standin._lock:
                        standin.refusals.append(refusal)
                    return self._send(401, refusal.encode(), "text/plain; charset=utf-8")
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    return self._json(400, _refusal("400", "请求体不是JSON"))
                routes = {ACCESS_TOKEN_PATH: standin._access_token, USER_INFO_PATH: standin._user_info}
                if parsed.path not in routes or not isinstance(body, dict):
                    return self._json(404, _refusal("404", "接口不存在"))
                with standin._lock:
                    standin.calls[parsed.path.rsplit("/", 1)[-1]] += 1
                word = str(body.get("ticketId") or body.get("token") or "")
                if word == "error":
                    return self._json(500, _refusal("500", "系统繁忙，请稍后再试"))
                if word == "slow":
                    time.sleep(standin.slow_seconds)
                if word == "refused":
                    return self._json(200, _refusal("14001", "ticketId无效或已过期"))
                status, answer = routes[parsed.path](body)
                return self._json(status, answer)

            def _json(self, status: int, payload: dict):
                self._send(status, json.dumps(payload, ensure_ascii=False).encode(), "application/json;charset=UTF-8")

            def _send(self, status: int, data: bytes, content_type: str):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _success(data: dict) -> dict:
    return {"success": True, "code": "0", "message": "成功", "data": data}


def _refusal(code: str, message: str) -> dict:
    return {"success": False, "code": code, "message": message, "data": None}


if __name__ == "__main__":  # pragma: no cover - a manual tool
    import argparse

    from app.config import Config

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    server = StandInZlbSso({Config.ZLB_ACCESS_KEY: Config.ZLB_SECRET_KEY}, Config.ZLB_APP_ID, port=args.port).start()
    print(f"stand-in 浙里办 SSO at {server.url}")
    threading.Event().wait()
