"""The official account's chatbot, driven the way WeChat's server drives it: signed, often encrypted, retried."""

import base64

import pytest
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

VECTOR = {"token": "pamtest", "aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "appid": "wxb11529c136998cb6",
          "random": "aaaabbbbccccdddd", "plaintext": "我是中文abcd123",
          "ciphertext": "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="}


@pytest.fixture
def vector_account(app, monkeypatch):
    """Our official account configured with the token, key and appid of WeChat's published test vector."""
    monkeypatch.setitem(app.config, "WECHAT_OA_TOKEN", VECTOR["token"])
    monkeypatch.setitem(app.config, "WECHAT_OA_AES_KEY", VECTOR["aes_key"])
    monkeypatch.setitem(app.config, "WECHAT_OA_APPID", VECTOR["appid"])


def test_official_secure_mode_vector_encrypts_as_published():
    class FixedRandom(PrpCrypto):
        def get_random_string(self):
            return VECTOR["random"]

    key = base64.b64decode(VECTOR["aes_key"] + "=")
    assert FixedRandom(key).encrypt(VECTOR["plaintext"], VECTOR["appid"]).decode() == VECTOR["ciphertext"]


def test_official_vector_ciphertext_opens_through_our_envelope_check(app, vector_account, monkeypatch):
    from wechatpy.crypto import _get_signature
    from wechatpy.utils import WeChatSigner

    from miniprogram_api import bot

    timestamp, nonce = "1409304348", "xxxxxx"
    signer = WeChatSigner()
    signer.add_data(VECTOR["token"], timestamp, nonce)
    args = {"signature": signer.signature, "timestamp": timestamp, "nonce": nonce, "encrypt_type": "aes",
            "msg_signature": _get_signature(VECTOR["token"], timestamp, nonce, VECTOR["ciphertext"])}
    envelope = f"<xml><Encrypt><![CDATA[{VECTOR['ciphertext']}]]></Encrypt></xml>".encode()
    monkeypatch.setitem(app.config, "WECHAT_CALLBACK_MAX_SKEW_SECONDS", 10**10)  # the vector is from 2014
    with app.test_request_context():
        assert bot.open_message(args, envelope) == (VECTOR["plaintext"], True)


def test_docs_signature_example_and_echo_check(client, monkeypatch, app):
    check_signature("AAAAA", "899cf89e464efb63f54ddac96b0a0a235f53aa78", "1714037059", "486452656")
    with pytest.raises(InvalidSignatureException):
        check_signature("AAAAA", "899cf89e464efb63f54ddac96b0a0a235f53aa79", "1714037059", "486452656")

    monkeypatch.setitem(app.config, "WECHAT_OA_TOKEN", "AAAAA")
    query = {"signature": "899cf89e464efb63f54ddac96b0a0a235f53aa78", "timestamp": "1714037059",
             "nonce": "486452656", "echostr": "5927214738162491390"}
    response = client.get("/wechat/callback", query_string=query)
    assert response.status_code == 200 and response.get_data(as_text=True) == "5927214738162491390"

    response = client.get("/wechat/callback", query_string={**query, "nonce": "486452657"})
    assert response.status_code == 403 and response.get_json()["code"] == "invalid_signature"


def test_bound_citizen_asks_for_score_in_secure_mode(client, bound, city, official_account):
    city["report"]("wang", [{"type_code": "LA_PENALTY_GENERAL", "days_ago": 20},
                            {"type_code": "CM_KEPT_ENV", "days_ago": 50},
                            {"type_code": "CM_KEPT_ENV", "days_ago": 80},
                            {"type_code": "HN_VOLUNTEER", "quantity": 20, "days_ago": 5}])
    headers = bound("wang", code="wang")
    score = client.get("/mp/v1/me/score", headers=headers).get_json()

    response = official_account.post_secure(official_account.text_xml("wang", "查分"))
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert "查分" not in response.get_data(as_text=True)  # it came back encrypted
    reply = official_account.open_reply(response)
    assert reply["MsgType"] == "text" and reply["ToUserName"] == official_account.openid("wang")
    content = reply["Content"]
    assert f"{score['total']} 分" in content and f"「{score['level_name']}」" in content
    assert "王*" in content and "王丽" not in content
    assert "1. 一般程序行政处罚（-30 分）" in content
    assert "2. 公共环境文明承诺履约 2 条（+30 分）" in content
    assert "3. 志愿服务（+10 分）" in content
    assert 'data-miniprogram-path="pages/score/index"' in content


@pytest.mark.parametrize("words", ["我的信用分", "信用分", "帮我查分"])
def test_every_score_keyword_answers_with_the_score(client, bound, official_account, words):
    bound("wang", code="wang")
    reply = official_account.open_reply(official_account.post_plain(official_account.text_xml("wang", words)))
    assert "您的绍兴信用分为" in reply["Content"]


def test_unbound_follower_is_told_how_to_bind(official_account):
    reply = official_account.open_reply(official_account.post_secure(official_account.text_xml("stranger", "查分")))
    assert "还没有绑定本人身份" in reply["Content"]
    assert 'data-miniprogram-path="pages/bind/index"' in reply["Content"]


def test_logged_in_but_not_bound_is_still_unbound(logged_in, official_account):
    logged_in("newcomer")
    reply = official_account.open_reply(official_account.post_plain(official_account.text_xml("newcomer", "查分")))
    assert "还没有绑定本人身份" in reply["Content"]


def test_unbinding_in_the_mini_program_is_seen_by_the_chatbot(client, bound, official_account):
    headers = bound("wang", code="wang")
    assert "您的绍兴信用分为" in official_account.open_reply(
        official_account.post_plain(official_account.text_xml("wang", "查分")))["Content"]
    assert client.delete("/mp/v1/binding", headers=headers).status_code == 204
    assert "还没有绑定本人身份" in official_account.open_reply(
        official_account.post_plain(official_account.text_xml("wang", "查分")))["Content"]


def test_withdrawn_consent_gets_no_score_in_the_chat(client, bound, official_account):
    headers = bound("wang", code="wang")
    client.delete("/mp/v1/me/consents/scoring", headers=headers)
    content = official_account.open_reply(
        official_account.post_plain(official_account.text_xml("wang", "查分")))["Content"]
    assert "撤回" in content and "分，等级" not in content


def test_guides_link_into_the_mini_program(official_account):
    expected = {"信用码": "pages/code/index", "异议": "pages/objections/index", "修复": "pages/repairs/index",
                "承诺": "pages/commitments/index"}
    for word, page in expected.items():
        content = official_account.open_reply(
            official_account.post_plain(official_account.text_xml("anyone", word)))["Content"]
        assert f'data-miniprogram-path="{page}"' in content, word
        assert 'data-miniprogram-appid="wx5a0c1a0000000001"' in content


def test_benefits_lists_the_offers_the_citizen_qualifies_for(app, bound, official_account):
    from benefits.catalog import ensure_default_scenes
    from tests.benefits.helpers import make_merchant, make_offer

    bound("wang", code="wang")
    content = official_account.open_reply(
        official_account.post_plain(official_account.text_xml("wang", "权益")))["Content"]
    assert "暂无您可以享受的信易+权益" in content and 'data-miniprogram-path="pages/benefits/index"' in content
    with app.app_context():
        ensure_default_scenes()
        merchant, _, _ = make_merchant("绍兴大禹陵景区", scenes=("you",))
        make_offer(merchant, title="大禹陵景区门票8折", min_level=3)
        make_offer(merchant, title="大禹陵VIP通道", min_level=5)
    content = official_account.open_reply(
        official_account.post_plain(official_account.text_xml("wang", "我有什么权益")))["Content"]
    assert "可以享受 1 项信易+权益" in content and "1. 大禹陵景区门票8折（绍兴大禹陵景区·信易游）" in content
    assert "VIP" not in content


def test_help_and_any_other_text_get_the_menu(official_account):
    for text in ("帮助", "你好", "？"):
        menu = official_account.open_reply(official_account.post_plain(official_account.text_xml("wang", text)))
        assert "【查分】" in menu["Content"] and "【权益】" in menu["Content"]


def test_subscribe_welcomes_and_unsubscribe_is_silent(bound, official_account):
    reply = official_account.open_reply(official_account.post_secure(official_account.event_xml("x1", "subscribe")))
    assert "欢迎关注" in reply["Content"] and "还没有绑定" in reply["Content"]
    bound("wang", code="wang")
    reply = official_account.open_reply(official_account.post_plain(official_account.event_xml("wang", "subscribe")))
    assert "欢迎关注" in reply["Content"] and "还没有绑定" not in reply["Content"]
    response = official_account.post_plain(official_account.event_xml("wang", "unsubscribe"))
    assert response.status_code == 200 and response.get_data(as_text=True) == "success"


def test_duplicate_delivery_gets_the_same_reply_computed_once(client, bound, city, official_account):
    headers = bound("wang", code="wang")
    xml = official_account.text_xml("wang", "查分", msg_id=1234567890123456)
    first = official_account.open_reply(official_account.post_secure(xml))
    # Between WeChat's deliveries the score changes: the retry must still get the first answer.
    city["report"]("wang", [{"type_code": "CM_KEPT_TRAFFIC", "days_ago": 3}])
    again = official_account.open_reply(official_account.post_secure(xml))
    assert again == first
    fresh = official_account.open_reply(official_account.post_secure(official_account.text_xml("wang", "查分")))
    total = client.get("/mp/v1/me/score", headers=headers).get_json()["total"]
    assert f"{total} 分" in fresh["Content"] and fresh["Content"] != first["Content"]


def test_duplicate_events_are_recognised_by_sender_and_time(official_account):
    xml = official_account.event_xml("x2", "subscribe", create_time=1700000000)
    first = official_account.post_plain(xml).get_data(as_text=True)
    assert official_account.post_plain(xml).get_data(as_text=True) == first


def test_the_official_account_asks_wechat_for_the_unionid_once(bound, official_account, wechat):
    bound("wang", code="wang")
    for _ in range(3):
        official_account.post_plain(official_account.text_xml("wang", "查分"))
    assert wechat.calls["cgi-bin/user/info"] == 1


def test_refuses_doctype_and_entities(official_account):
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
            "<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>"
            "<MsgType>text</MsgType><Content>&lol2;</Content><MsgId>1</MsgId></xml>")
    response = official_account.post_plain(bomb)
    assert response.status_code == 400 and response.get_json()["code"] == "xml_forbidden"
    # Hidden inside the encrypted envelope, too.
    response = official_account.post_secure(bomb)
    assert response.status_code == 400 and response.get_json()["code"] == "xml_forbidden"
    external = '<!doctype xml SYSTEM "file:///etc/passwd"><xml><Content>x</Content></xml>'
    assert official_account.post_plain(external).get_json()["code"] == "xml_forbidden"


def test_refuses_oversized_bodies(official_account):
    xml = official_account.text_xml("wang", "查" * 40_000)
    response = official_account.post_plain(xml)
    assert response.status_code == 413 and response.get_json()["code"] == "payload_too_large"


def test_refuses_bad_signatures(official_account):
    xml = official_account.text_xml("wang", "查分")
    query = {**official_account.signed_query(), "signature": "0" * 40}
    response = official_account.post_plain(xml, query)
    assert response.status_code == 403 and response.get_json()["code"] == "invalid_signature"
    response = official_account.post_secure(xml, msg_signature="f" * 40)
    assert response.status_code == 403 and response.get_json()["code"] == "invalid_signature"


def test_refuses_replayed_old_requests(official_account):
    old = official_account.signed_query(timestamp="1714037059")  # correctly signed, but from 2024
    response = official_account.post_plain(official_account.text_xml("wang", "查分"), old)
    assert response.status_code == 403 and response.get_json()["code"] == "stale_timestamp"


def _flip_length_byte(text: str) -> str:
    """CBC: a byte flipped in the first ciphertext block flips the same byte of the second plaintext block, the
    message length, so the sealed app id no longer lines up. (Rewriting the last block is not a sure refusal:
    wechatpy reads any last byte as the padding, and 1 time in 512 the garbled block unpads to the original.)"""
    sealed = bytearray(base64.b64decode(text))
    sealed[0] ^= 0x01
    return base64.b64encode(bytes(sealed)).decode()


def test_refuses_bad_ciphertext(app, official_account):
    xml = official_account.text_xml("wang", "查分")
    for garble in (_flip_length_byte, lambda text: text[:20], lambda text: "!!not base64!!"):
        response = official_account.post_secure(xml, garble=garble)
        assert response.status_code == 400 and response.get_json()["code"] == "invalid_ciphertext"
    # Well-formed, but sealed for another official account.
    other = WeChatCrypto(app.config["WECHAT_OA_TOKEN"], app.config["WECHAT_OA_AES_KEY"], "wx0000000000000000")
    response = official_account.post_secure(xml, crypto=other)
    assert response.status_code == 400 and response.get_json()["code"] == "invalid_ciphertext"


def test_refuses_malformed_xml(official_account):
    response = official_account.post_plain("<xml><MsgType>text</MsgType><Content>unclosed")
    assert response.status_code == 400 and response.get_json()["code"] == "invalid_xml"


def test_mini_program_user_is_found_only_through_the_shared_unionid(client, bound, official_account):
    headers = bound("wang", code="wang")
    assert client.get("/mp/v1/me", headers=headers).status_code == 200
    # Another WeChat user writing to the official account never sees wang's score.
    content = official_account.open_reply(
        official_account.post_plain(official_account.text_xml("someone-else", "查分")))["Content"]
    assert "还没有绑定" in content


def test_followers_without_unionid_are_guided_to_bind(official_account, wechat):
    content = official_account.open_reply(
        official_account.post_plain(official_account.text_xml("nounion-1", "查分")))["Content"]
    assert "还没有绑定" in content
    official_account.post_plain(official_account.text_xml("nounion-1", "查分"))
    assert wechat.calls["cgi-bin/user/info"] == 1  # "no unionid" is remembered for a while


def test_wechat_trouble_during_lookup_gets_a_polite_answer(official_account):
    content = official_account.open_reply(
        official_account.post_plain(official_account.text_xml("err--1", "查分")))["Content"]
    assert "稍后再试" in content


def test_commitment_answer_lists_the_citizens_commitments_and_what_they_can_make(client, bound, official_account):
    headers = bound("wang", code="wang")
    version = next(t for t in client.get("/mp/v1/me/commitment-types", headers=headers).get_json()
                   if t["code"] == "CIVIL_TOURISM")["text_version"]
    made = client.post("/mp/v1/me/commitments", headers=headers,
                       json={"type": "CIVIL_TOURISM", "text_version": version, "accepted": True})
    assert made.status_code == 201
    content = official_account.open_reply(
        official_account.post_plain(official_account.text_xml("wang", "承诺")))["Content"]
    assert "您履约中的信用承诺：" in content and "文明旅游承诺" in content and "还剩 365 天" in content
    assert "交通文明承诺（履约 +15 分）" in content
    assert "您还可以作出：" in content and "文明旅游承诺（履约" not in content
    assert 'data-miniprogram-path="pages/commitments/index"' in content
