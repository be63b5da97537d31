"""The demo's WeChat pieces: the local stand-in WeChat server and the `wechat` credentials entry.

``flask demo seed`` writes the entry (the official account's token, EncodingAESKey and appids); the stand-in's
address is only known once ``flask demo serve`` has started it on a free port, so serving fills it in then.
``flask wechat say 查分 --as <code>`` plays WeChat's server: it signs, encrypts and posts a message as the
follower who logged in to the mini-program with that code, and prints the decrypted reply.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from pathlib import Path
from xml.etree import ElementTree

from flask import Flask, current_app

from miniprogram_api import standin

log = logging.getLogger(__name__)

CREDENTIALS_FILE = "demo-credentials.json"


def extend_credentials(payload: dict) -> None:
    """Add what a newcomer needs to try the mini-program login and the chatbot."""
    config = current_app.config
    base_url = payload.get("base_url", "http://127.0.0.1:5000")
    payload["wechat"] = {
        "note": "本地演示：微信接口由本机的替身服务器（stand-in）模拟，接口与返回格式与 api.weixin.qq.com 一致。",
        "mini_program": {
            "appid": config["WECHAT_MP_APPID"],
            "login": f"POST {base_url}/mp/v1/session {{\"code\": \"demo-alice\"}}（code 可任意；"
                     "同一个 code 就是同一个微信用户）",
            "bind": f"POST {base_url}/mp/v1/binding {{\"name\", \"id_number\", \"phone\"}}（带上登录得到的 "
                    "access_token；姓名与身份证号码用上面 citizens 中的任一居民）",
            "scripted_codes": {"err-40029": "登录凭证无效", "err-45011": "登录过于频繁", "err-40226": "高风险用户",
                               "err--1": "微信繁忙", "slow": "微信超时", "nounion-…": "没有 unionid 的用户"},
        },
        "official_account": {
            "appid": config["WECHAT_OA_APPID"],
            "token": config["WECHAT_OA_TOKEN"],
            "encoding_aes_key": config["WECHAT_OA_AES_KEY"],
            "callback_url": f"{base_url}/wechat/callback",
            "modes": "明文模式与安全模式（encrypt_type=aes）均可",
            "try": "flask wechat say 查分 --as demo-alice（先用同一个 code 登录小程序并绑定："
                   "公众号与小程序通过 unionid 关联）",
            "openid_of_code": "flask wechat openid demo-alice",
        },
        "standin": {"api_base": None, "started_by": "flask demo serve（本机空闲端口，启动后写入此处）"},
    }


def start_standins(app: Flask) -> None:
    """Start the local stand-ins the demo needs (called by `flask demo serve` before serving)."""
    if os.environ.get("WECHAT_API_BASE"):
        log.info("WECHAT_API_BASE is set: the demo uses it and starts no stand-in WeChat server")
        return
    config = app.config
    server = standin.StandInWeChat({config["WECHAT_MP_APPID"]: config["WECHAT_MP_SECRET"],
                                    config["WECHAT_OA_APPID"]: config["WECHAT_OA_SECRET"]}).start()
    app.extensions["wechat_standin"] = server
    config["WECHAT_API_BASE"] = server.url
    log.warning("stand-in WeChat API serving at %s (demo only)", server.url)
    _record_standin_url(Path(app.instance_path) / CREDENTIALS_FILE, server.url)


def _record_standin_url(path: Path, url: str) -> None:
    if not path.exists():
        return
    payload = json.loads(path.read_text(encoding="utf-8"))
    payload.setdefault("wechat", {}).setdefault("standin", {})["api_base"] = url
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, ensure_ascii=False, indent=2)


def official_openid(code: str) -> str:
    """The official-account openid of the person who logs in to the mini-program with ``code`` (stand-in only)."""
    return standin.openid_for(current_app.config["WECHAT_OA_APPID"], code)


def say(text: str, code: str, base_url: str, plain: bool = False) -> str:
    """Send ``text`` to the callback as WeChat would, from the follower behind ``code``; return the reply text."""
    import requests
    from wechatpy.utils import WeChatSigner

    from miniprogram_api import wechat

    config = current_app.config
    timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
    signer = WeChatSigner()
    signer.add_data(config["WECHAT_OA_TOKEN"], timestamp, nonce)
    query = {"signature": signer.signature, "timestamp": timestamp, "nonce": nonce}
    message = (f"<xml><ToUserName><![CDATA[gh_demo]]></ToUserName>"
               f"<FromUserName><![CDATA[{official_openid(code)}]]></FromUserName>"
               f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
               f"<Content><![CDATA[{text}]]></Content><MsgId>{secrets.randbits(62)}</MsgId></xml>")
    crypto = wechat.oa_crypto()
    if plain:
        body = message
    else:
        envelope = ElementTree.fromstring(crypto.encrypt_message(message, nonce, timestamp))
        query.update(encrypt_type="aes", msg_signature=envelope.findtext("MsgSignature"))
        body = f"<xml><Encrypt><![CDATA[{envelope.findtext('Encrypt')}]]></Encrypt></xml>"
    response = requests.post(f"{base_url.rstrip('/')}/wechat/callback", params=query, data=body.encode(),
                             headers={"Content-Type": "text/xml"}, timeout=10)
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text}"
    if response.text == "success":
        return "（无回复）"
    root = ElementTree.fromstring(response.text)
    if root.find("Encrypt") is not None:
        root = ElementTree.fromstring(crypto.decrypt_message(response.text, root.findtext("MsgSignature"),
                                                             root.findtext("TimeStamp"), root.findtext("Nonce")))
    return root.findtext("Content") or ""
