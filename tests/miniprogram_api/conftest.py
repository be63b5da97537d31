"""Fixtures for the mini-program and the chatbot: a stand-in WeChat server, logged-in and bound citizens.

The stand-in is a real HTTP server speaking WeChat's JSON, so login goes through wechatpy exactly as in
production; only WECHAT_API_BASE differs.
"""

from __future__ import annotations

import itertools
import secrets
import time
from datetime import date, timedelta

import pytest
from wechatpy.crypto import WeChatCrypto

from miniprogram_api.standin import openid_for
from tests.factories import bearer, gen_citizen, gen_department, new_id_number

DEPARTMENT_TYPES = ("PC_EVAL", "LA_PENALTY_GENERAL", "LA_PENALTY_SERIOUS", "CM_KEPT_ENV", "CM_KEPT_TRAFFIC",
                    "HN_VOLUNTEER", "HN_BLOOD_DONATION")


def login(client, code: str) -> dict:
    response = client.post("/mp/v1/session", json={"code": code})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def auth(session: dict) -> dict:
    return bearer(session["access_token"])


@pytest.fixture
def logged_in(client, wechat):
    """``logged_in(code)`` -> the session answer of a mini-program login through the stand-in."""
    return lambda code="alice": login(client, code)


def _plain_id(citizen) -> str:
    from app.citizens.service import ID_PURPOSE
    from app.security.pii import vault

    return vault().decrypt(citizen.id_cipher, ID_PURPOSE)


@pytest.fixture
def city(app, client):
    """Two registered citizens without consent yet, and a department that reports their records over HTTP."""
    with app.app_context():
        _, key = gen_department("SX_MIX", DEPARTMENT_TYPES, "绍兴市综合报送")
        wang = gen_citizen("王丽", new_id_number(date(1985, 3, 9)), "13900001111", consent=False)
        chen = gen_citizen("陈强", new_id_number(date(1979, 11, 2)), "13900002222", consent=False)
        people = {"wang": {"name": "王丽", "id_number": _plain_id(wang), "ref": wang.ref},
                  "chen": {"name": "陈强", "id_number": _plain_id(chen), "ref": chen.ref}}

    numbers = itertools.count(1)

    def report(person: str, rows: list[dict]) -> dict:
        today = date.today()
        payload = [{"external_id": f"{person}-{next(numbers)}", "id_number": people[person]["id_number"],
                    "occurred_at": (today - timedelta(days=row.get("days_ago", 30))).isoformat(),
                    **{key: value for key, value in row.items() if key != "days_ago"}}
                   for row in rows]
        response = client.post("/api/v1/records/batch", json={"records": payload}, headers=bearer(key))
        assert response.status_code == 200 and not response.get_json()["rejected"], response.get_json()
        return response.get_json()

    return {"people": people, "report": report, "department_key": key}


@pytest.fixture
def bound(client, logged_in, city):
    """``bound(person, code)`` -> headers of a mini-program session bound to that citizen of ``city``."""

    def bind(person: str = "wang", code: str | None = None) -> dict:
        session = logged_in(code or f"{person}-phone")
        who = city["people"][person]
        response = client.post("/mp/v1/binding", headers=auth(session),
                               json={"name": who["name"], "id_number": who["id_number"], "phone": "13712345678"})
        assert response.status_code == 201, response.get_json()
        return auth(session)

    return bind


# -- the official account's side: what WeChat's server sends ---------------------------------------------


class OfficialAccount:
    """Plays WeChat's server towards our callback: signs, encrypts and posts messages as a follower."""

    def __init__(self, app, client) -> None:
        self.app, self.client = app, client
        self.counter = int(time.time() * 1000)

    @property
    def crypto(self) -> WeChatCrypto:
        config = self.app.config
        return WeChatCrypto(config["WECHAT_OA_TOKEN"], config["WECHAT_OA_AES_KEY"], config["WECHAT_OA_APPID"])

    def openid(self, person: str) -> str:
        return openid_for(self.app.config["WECHAT_OA_APPID"], person)

    def signed_query(self, timestamp: str | None = None, nonce: str | None = None) -> dict:
        from wechatpy.utils import WeChatSigner

        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(secrets.randbelow(10**10))  # WeChat sends a fresh nonce with every message
        signer = WeChatSigner()
        signer.add_data(self.app.config["WECHAT_OA_TOKEN"], timestamp, nonce)
        return {"signature": signer.signature, "timestamp": timestamp, "nonce": nonce}

    def text_xml(self, person: str, content: str, msg_id: int | None = None) -> str:
        self.counter += 1
        return (f"<xml><ToUserName><![CDATA[gh_5a0c1a000002]]></ToUserName>"
                f"<FromUserName><![CDATA[{self.openid(person)}]]></FromUserName>"
                f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id or self.counter}</MsgId></xml>")

    def event_xml(self, person: str, event: str, create_time: int | None = None) -> str:
        return (f"<xml><ToUserName><![CDATA[gh_5a0c1a000002]]></ToUserName>"
                f"<FromUserName><![CDATA[{self.openid(person)}]]></FromUserName>"
                f"<CreateTime>{create_time or int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
                f"<Event><![CDATA[{event}]]></Event><EventKey><![CDATA[]]></EventKey></xml>")

    def post_plain(self, xml: str | bytes, query: dict | None = None):
        return self.client.post("/wechat/callback", query_string=query or self.signed_query(),
                                data=xml if isinstance(xml, bytes) else xml.encode(),
                                content_type="text/xml")

    def post_secure(self, xml: str, *, garble=None, msg_signature: str | None = None, crypto=None):
        """Post as WeChat does in secure mode; ``garble`` alters the ciphertext (then re-signed), ``msg_signature``
        replaces the signature, ``crypto`` encrypts with other keys or another appid."""
        from xml.etree import ElementTree

        from wechatpy.crypto import _get_signature

        query = self.signed_query()
        envelope = (crypto or self.crypto).encrypt_message(xml, query["nonce"], query["timestamp"])
        root = ElementTree.fromstring(envelope)
        encrypted, signature = root.findtext("Encrypt"), root.findtext("MsgSignature")
        if garble:
            encrypted = garble(encrypted)
            signature = _get_signature(self.app.config["WECHAT_OA_TOKEN"], query["timestamp"], query["nonce"],
                                       encrypted)
        body = (f"<xml><ToUserName><![CDATA[gh_5a0c1a000002]]></ToUserName>"
                f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
        return self.client.post("/wechat/callback", data=body.encode(), content_type="text/xml",
                                query_string={**query, "encrypt_type": "aes",
                                              "msg_signature": msg_signature or signature})

    def open_reply(self, response) -> dict:
        """The reply as the follower's WeChat would show it: decrypted when it came encrypted."""
        from xml.etree import ElementTree

        text = response.get_data(as_text=True)
        root = ElementTree.fromstring(text)
        if root.find("Encrypt") is not None:
            text = self.crypto.decrypt_message(text, root.findtext("MsgSignature"), root.findtext("TimeStamp"),
                                               root.findtext("Nonce"))
            root = ElementTree.fromstring(text)
        return {child.tag: child.text for child in root}


@pytest.fixture
def official_account(app, client, wechat):
    return OfficialAccount(app, client)
