"""WeChat login through the stand-in WeChat server: tokens, refresh, logout, and WeChat's refusals."""

import threading

import pytest

from tests.factories import bearer
from tests.miniprogram_api.conftest import auth, login


def test_same_code_is_the_same_person_and_the_access_token_is_fetched_once(client, wechat):
    first = login(client, "alice")
    second = login(client, "alice")
    assert first["refresh_token"] != second["refresh_token"]
    assert first["expires_in"] > 0 and first["bound"] is False
    # Both sessions belong to one account: binding through one shows in the other's binding status.
    assert client.get("/mp/v1/binding", headers=auth(first)).get_json() == \
        client.get("/mp/v1/binding", headers=auth(second)).get_json()
    assert wechat.calls["sns/jscode2session"] == 2
    assert wechat.calls["cgi-bin/token"] == 1  # cached in the key-value store, shared by every worker


@pytest.mark.parametrize(("code", "status", "error"), [
    ("err-40029", 400, "invalid_code"),
    ("err-40163", 400, "invalid_code"),
    ("err-45011", 429, "wechat_rate_limited"),
    ("err-40226", 403, "risky_user"),
    ("err--1", 503, "wechat_busy"),
    ("err-40999", 503, "wechat_error"),
    ("garbage", 503, "wechat_bad_response"),
])
def test_wechat_refusals_become_clear_answers(client, wechat, code, status, error):
    response = client.post("/mp/v1/session", json={"code": code})
    body = response.get_json()
    assert (response.status_code, body["code"]) == (status, error)
    assert body["message"] and not body["message"].isascii()  # a Chinese sentence the citizen can read
    if status in (429, 503) and error != "wechat_error" and error != "wechat_bad_response":
        assert int(response.headers["Retry-After"]) > 0


def test_a_slow_wechat_times_out_with_503(app, client, wechat, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_TIMEOUT_SECONDS", 0.5)
    login(client, "warm-up")  # the access token is cached, so only jscode2session is slow
    response = client.post("/mp/v1/session", json={"code": "slow"})
    assert response.status_code == 503 and response.get_json()["code"] == "wechat_timeout"


def test_an_unreachable_wechat_is_503(app, client, monkeypatch):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setitem(app.config, "WECHAT_API_BASE", f"http://127.0.0.1:{port}/")
    response = client.post("/mp/v1/session", json={"code": "alice"})
    assert response.status_code == 503 and response.get_json()["code"] == "wechat_unavailable"


def test_wrong_app_secret_is_our_problem_not_the_citizens(app, client, wechat, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_MP_SECRET", "not-the-secret")
    response = client.post("/mp/v1/session", json={"code": "alice"})
    assert response.status_code == 503 and response.get_json()["code"] == "wechat_error"


def test_code_is_required(client, wechat):
    response = client.post("/mp/v1/session", json={})
    assert response.status_code == 422 and "code" in response.get_json()["errors"]
    assert client.post("/mp/v1/session", json={"code": ""}).status_code == 422


def test_refresh_rotates_and_logout_ends_the_session(client, wechat):
    session = login(client, "alice")
    response = client.post("/mp/v1/session/refresh", json={"refresh_token": session["refresh_token"]})
    assert response.status_code == 200
    renewed = response.get_json()
    assert client.get("/mp/v1/binding", headers=auth(renewed)).status_code == 200
    again = client.post("/mp/v1/session/refresh", json={"refresh_token": session["refresh_token"]})
    assert again.status_code == 401 and again.get_json()["code"] == "invalid_refresh_token"

    assert client.delete("/mp/v1/session", headers=auth(renewed),
                         json={"refresh_token": renewed["refresh_token"]}).status_code == 204
    response = client.post("/mp/v1/session/refresh", json={"refresh_token": renewed["refresh_token"]})
    assert response.status_code == 401


def test_missing_forged_or_foreign_tokens_are_refused(app, client, wechat):
    from itsdangerous import URLSafeTimedSerializer

    login(client, "alice")
    assert client.get("/mp/v1/me").status_code == 401
    assert client.get("/mp/v1/me", headers=bearer("not-a-token")).status_code == 401
    forged = URLSafeTimedSerializer("another-secret", salt="mp-access").dumps({"a": "x", "v": 0})
    response = client.get("/mp/v1/me", headers=bearer(forged))
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"


def test_a_rotated_access_token_is_fetched_again_once(app, client, wechat, official_account):
    official_account.post_plain(official_account.text_xml("first", "查分"))
    assert wechat.calls["cgi-bin/token"] == 1
    wechat.invalidate_tokens()  # someone fetched a new one elsewhere: ours is no longer valid
    official_account.post_plain(official_account.text_xml("second", "查分"))
    assert wechat.calls["cgi-bin/token"] == 2 and wechat.calls["cgi-bin/user/info"] == 3


def test_a_token_rejected_even_after_refresh_does_not_loop(client, wechat, official_account):
    wechat.reject_access_tokens = True
    reply = official_account.open_reply(official_account.post_plain(official_account.text_xml("third", "查分")))
    assert "稍后再试" in reply["Content"]
    assert wechat.calls["cgi-bin/token"] == 2 and wechat.calls["cgi-bin/user/info"] == 2


def test_concurrent_workers_refresh_the_access_token_once(app, wechat):
    from miniprogram_api import wechat as wechat_calls

    results, errors = [], []
    start = threading.Barrier(8)

    def ask(person):
        with app.app_context():
            start.wait()
            try:
                results.append(wechat_calls.oa_unionid(f"o{person}"))
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                errors.append(error)

    from miniprogram_api.standin import openid_for

    threads = [threading.Thread(target=ask, args=(openid_for(app.config["WECHAT_OA_APPID"], f"p{i}")[1:],))
               for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(set(results)) == 8
    assert wechat.calls["cgi-bin/token"] == 1


def test_wrong_login_codes_from_one_address_are_limited(client, wechat):
    for n in range(30):
        client.post("/mp/v1/session", json={"code": f"err-40029-{n}"}, environ_base={"REMOTE_ADDR": "10.1.0.1"})
    response = client.post("/mp/v1/session", json={"code": "alice"}, environ_base={"REMOTE_ADDR": "10.1.0.1"})
    assert response.status_code == 429
    body = response.get_json()
    assert body["code"] == "login_locked" and "登录失败次数过多" in body["message"]
    assert int(response.headers["Retry-After"]) > 0
    other = client.post("/mp/v1/session", json={"code": "alice"}, environ_base={"REMOTE_ADDR": "10.1.0.2"})
    assert other.status_code == 200
