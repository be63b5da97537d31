"""Binding a WeChat account to a real person: every refusal, the rate limits, and unbinding."""

import pytest

from tests.miniprogram_api.conftest import auth, login


def _bind(client, headers, name, id_number, phone="13712345678", **extra):
    return client.post("/mp/v1/binding", headers=headers,
                       json={"name": name, "id_number": id_number, "phone": phone, **extra})


def test_binding_grants_scoring_consent_and_scores_at_once(client, logged_in, city):
    headers = auth(logged_in("wang-phone"))
    wang = city["people"]["wang"]
    assert client.get("/mp/v1/binding", headers=headers).get_json()["bound"] is False
    assert _bind(client, headers, wang["name"], wang["id_number"]).status_code == 201
    status = client.get("/mp/v1/binding", headers=headers).get_json()
    assert status["bound"] is True and status["masked_name"] == "王*" and status["bound_at"]
    consents = {c["kind"]: c for c in client.get("/mp/v1/me/consents", headers=headers).get_json()["consents"]}
    assert consents["scoring"]["granted"] is True and consents["partner_sharing"]["granted"] is False
    assert client.get("/mp/v1/me/score", headers=headers).get_json()["total"] == 655  # a clean record


def test_binding_without_consent_shows_no_score(client, logged_in, city):
    headers = auth(logged_in("wang-phone"))
    wang = city["people"]["wang"]
    assert _bind(client, headers, wang["name"], wang["id_number"], scoring_consent=False).status_code == 201
    response = client.get("/mp/v1/me/score", headers=headers)
    assert response.status_code == 409 and response.get_json()["code"] == "no_scoring_consent"


def test_lower_case_x_and_spaces_around_the_name_are_accepted(client, logged_in, app):
    from tests.factories import gen_citizen

    with app.app_context():
        gen_citizen("李雷", "11010519491231002X", consent=False)
    headers = auth(logged_in("li"))
    assert _bind(client, headers, " 李雷 ", "11010519491231002x").status_code == 201


def test_unknown_id_and_wrong_name_get_the_same_answer(client, logged_in, city):
    headers = auth(logged_in("prober"))
    wang = city["people"]["wang"]
    wrong_name = _bind(client, headers, "王莉", wang["id_number"])
    unknown_id = _bind(client, headers, "王丽", "360426199101010071")
    assert wrong_name.status_code == unknown_id.status_code == 422
    assert wrong_name.get_json() == unknown_id.get_json()
    assert wrong_name.get_json()["code"] == "identity_mismatch"


@pytest.mark.parametrize(("field", "value", "code"), [
    ("phone", "0575-85123456", "invalid_phone"),
    ("phone", "12345678901", "invalid_phone"),
    ("phone", "1371234567", "invalid_phone"),
    ("id_number", "440308199901101513", "id_number_checksum"),
    ("id_number", "440308199902301512", "id_number_date"),
    ("id_number", "44030819990110151", "id_number_length"),
])
def test_malformed_phone_or_id_number(client, logged_in, city, field, value, code):
    headers = auth(logged_in("typo"))
    wang = city["people"]["wang"]
    data = {"name": wang["name"], "id_number": wang["id_number"], "phone": "13712345678", field: value}
    response = client.post("/mp/v1/binding", headers=headers, json=data)
    assert response.status_code == 422 and response.get_json()["code"] == code
    assert field in response.get_json()["errors"]


def test_one_wechat_account_per_citizen(client, logged_in, city):
    wang = city["people"]["wang"]
    assert _bind(client, auth(logged_in("wang-phone")), wang["name"], wang["id_number"]).status_code == 201
    response = _bind(client, auth(logged_in("wang-new-phone")), wang["name"], wang["id_number"])
    assert response.status_code == 409 and response.get_json()["code"] == "already_bound_other"


def test_one_citizen_per_wechat_account(client, logged_in, city):
    headers = auth(logged_in("family-phone"))
    wang, chen = city["people"]["wang"], city["people"]["chen"]
    assert _bind(client, headers, wang["name"], wang["id_number"]).status_code == 201
    response = _bind(client, headers, chen["name"], chen["id_number"])
    assert response.status_code == 409 and response.get_json()["code"] == "account_already_bound"


def test_wrong_attempts_are_limited_per_account(client, logged_in, city):
    headers = auth(logged_in("guesser"))
    wang, chen = city["people"]["wang"], city["people"]["chen"]
    # Five wrong answers spread over several ID numbers (at most two per number).
    for name, id_number in (("王一", wang["id_number"]), ("王二", wang["id_number"]), ("陈一", chen["id_number"]),
                            ("陈二", chen["id_number"]), ("李四", "360426199101010071")):
        assert _bind(client, headers, name, id_number).get_json()["code"] == "identity_mismatch"
    # Locked, even for the right answer and another ID number, until the hour has passed.
    response = _bind(client, headers, chen["name"], chen["id_number"])
    assert response.status_code == 429 and response.get_json()["code"] == "too_many_attempts"
    assert "身份核验失败次数过多" in response.get_json()["message"]
    assert 0 < int(response.headers["Retry-After"]) <= 3600


def test_wrong_attempts_are_limited_per_account_and_id_number(client, logged_in, city):
    headers = auth(logged_in("guesser"))
    wang, chen = city["people"]["wang"], city["people"]["chen"]
    for attempt in range(3):
        assert _bind(client, headers, f"王{attempt}", wang["id_number"]).get_json()["code"] == "identity_mismatch"
    response = _bind(client, headers, wang["name"], wang["id_number"])
    assert response.status_code == 429 and response.get_json()["code"] == "too_many_attempts"
    assert 0 < int(response.headers["Retry-After"]) <= 3600
    # The same account may still bind another person (its own budget is not spent).
    assert _bind(client, headers, chen["name"], chen["id_number"]).status_code == 201


def test_strangers_failing_on_an_id_number_do_not_lock_its_owner_out(client, logged_in, city):
    wang = city["people"]["wang"]
    for attempt in range(8):
        response = _bind(client, auth(logged_in(f"stranger-{attempt}")), "王某", wang["id_number"])
        assert response.get_json()["code"] == "identity_mismatch"
    assert _bind(client, auth(logged_in("wang-phone")), wang["name"], wang["id_number"]).status_code == 201


def test_rate_limit_keys_never_hold_the_id_number(app, client, logged_in, city):
    wang = city["people"]["wang"]
    _bind(client, auth(logged_in("guesser")), "王某", wang["id_number"])
    keys = app.extensions["kv_client"].keys("*")
    assert keys and not any(wang["id_number"] in key or wang["id_number"][:17] in key for key in keys)


def test_the_person_sees_failed_attempts_on_their_identity(client, logged_in, bound, city):
    _bind(client, auth(logged_in("impostor")), "王某", city["people"]["wang"]["id_number"])
    headers = bound("wang")
    trail = client.get("/mp/v1/me/audit", headers=headers).get_json()["items"]
    assert "尝试绑定微信，身份核验未通过" in [item["action_name"] for item in trail]


def test_unbinding_revokes_every_token(client, logged_in, city):
    wang = city["people"]["wang"]
    session = logged_in("wang-phone")
    other_session = login(client, "wang-phone")  # the same WeChat user on a second device
    assert _bind(client, auth(session), wang["name"], wang["id_number"]).status_code == 201
    assert client.delete("/mp/v1/binding", headers=auth(session)).status_code == 204

    for old in (session, other_session):
        response = client.get("/mp/v1/binding", headers=auth(old))
        assert response.status_code == 401
        assert client.post("/mp/v1/session/refresh", json={"refresh_token": old["refresh_token"]}).status_code == 401

    fresh = login(client, "wang-phone")
    assert fresh["bound"] is False
    assert client.get("/mp/v1/me/score", headers=auth(fresh)).get_json()["code"] == "not_bound"
    # The person is free to bind again, from this or another WeChat account.
    assert _bind(client, auth(login(client, "wang-new-phone")), wang["name"], wang["id_number"]).status_code == 201


def test_unbinding_needs_a_binding(client, logged_in):
    response = client.delete("/mp/v1/binding", headers=auth(logged_in("nobody")))
    assert response.status_code == 403 and response.get_json()["code"] == "not_bound"


def test_binding_answer_and_trail_carry_no_id_number_or_phone(client, logged_in, city):
    headers = auth(logged_in("wang-phone"))
    wang = city["people"]["wang"]
    response = _bind(client, headers, wang["name"], wang["id_number"])
    texts = [response.get_data(as_text=True), client.get("/mp/v1/me/audit", headers=headers).get_data(as_text=True),
             client.get("/mp/v1/me", headers=headers).get_data(as_text=True)]
    for text in texts:
        assert wang["id_number"] not in text and "13712345678" not in text
