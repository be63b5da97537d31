"""The chatbot's envelope and voice messages: a captured plain-mode query string cannot carry another body, and a
voice message WeChat has recognised is answered as the text it says."""

from __future__ import annotations

import time


def test_a_captured_query_string_with_another_body_is_refused(official_account):
    query = official_account.signed_query()
    first = official_account.post_plain(official_account.text_xml("wang", "帮助"), query)
    assert first.status_code == 200
    forged = official_account.post_plain(official_account.text_xml("mallory", "查分"), query)
    assert forged.status_code == 403 and forged.get_json()["code"] == "replayed_nonce"


def test_wechat_retrying_the_same_message_with_the_same_query_is_answered(official_account):
    query = official_account.signed_query()
    xml = official_account.text_xml("wang", "帮助")
    first = official_account.post_plain(xml, query)
    again = official_account.post_plain(xml, query)
    assert again.status_code == 200 and again.get_data() == first.get_data()


def _voice_xml(official_account, person: str, recognition: str | None) -> str:
    official_account.counter += 1
    recognised = f"<Recognition><![CDATA[{recognition}]]></Recognition>" if recognition is not None else ""
    return (f"<xml><ToUserName><![CDATA[gh_5a0c1a000002]]></ToUserName>"
            f"<FromUserName><![CDATA[{official_account.openid(person)}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[voice]]></MsgType>"
            f"<MediaId><![CDATA[media-1]]></MediaId><Format><![CDATA[amr]]></Format>{recognised}"
            f"<MsgId>{official_account.counter}</MsgId></xml>")


def test_a_recognised_voice_message_is_answered_as_typed_text(official_account):
    reply = official_account.open_reply(official_account.post_plain(_voice_xml(official_account, "stranger", "查分。")))
    assert "还没有绑定本人身份" in reply["Content"]


def test_a_voice_message_without_recognition_gets_the_menu(official_account):
    reply = official_account.open_reply(official_account.post_plain(_voice_xml(official_account, "stranger", None)))
    assert "【查分】" in reply["Content"]
