"""Brute force on the staff login: wrong passwords lock the account for a while, with a message that says so."""

from tests.factories import STAFF_PASSWORD, gen_staff


def _login(client, username, password, ip="10.0.0.1"):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def test_thirty_wrong_passwords_lock_the_account_even_for_the_right_one(app, client):
    with app.app_context():
        gen_staff("clerk01")
    statuses = [_login(client, "clerk01", f"wrong-password-{n}").status_code for n in range(30)]
    assert statuses[0] == 401 and 429 in statuses
    response = _login(client, "clerk01", STAFF_PASSWORD)
    assert response.status_code == 429
    body = response.get_json()
    assert body["code"] == "login_locked" and body["status"] == 429
    assert "登录失败次数过多" in body["message"] and "分钟后再试" in body["message"]
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60


def test_the_lockout_is_per_account_and_a_success_resets_the_count(app, client):
    with app.app_context():
        gen_staff("clerk01")
        gen_staff("clerk02")
    for n in range(4):
        assert _login(client, "clerk01", f"wrong-password-{n}").status_code == 401
    assert _login(client, "clerk01", STAFF_PASSWORD).status_code == 200  # the 5th try, right: in
    for n in range(4):  # counted afresh
        assert _login(client, "clerk01", f"wrong-password-{n}").status_code == 401
    assert _login(client, "clerk01", STAFF_PASSWORD).status_code == 200
    for n in range(5):
        _login(client, "clerk01", f"wrong-password-{n}")
    assert _login(client, "clerk01", STAFF_PASSWORD).status_code == 429
    assert _login(client, "clerk02", STAFF_PASSWORD).status_code == 200  # a colleague is not affected


def test_one_address_trying_many_usernames_is_stopped(app, client):
    with app.app_context():
        gen_staff("clerk01")
    for n in range(30):
        _login(client, f"guess{n:02d}", "wrong-password", ip="10.0.0.9")
    response = _login(client, "clerk01", STAFF_PASSWORD, ip="10.0.0.9")
    assert response.status_code == 429 and response.get_json()["code"] == "login_locked"
    assert _login(client, "clerk01", STAFF_PASSWORD, ip="10.0.0.10").status_code == 200


def test_behind_a_trusted_proxy_the_lockout_follows_the_forwarded_address(app, twin_app):
    proxied = twin_app(TRUSTED_PROXY_HOPS=1, REDIS_URL=app.config.get("REDIS_URL")).test_client()
    with app.app_context():
        gen_staff("clerk01")
    for n in range(20):
        proxied.post("/api/v1/auth/token", json={"username": f"guess{n:02d}", "password": "wrong-password"},
                     headers={"X-Forwarded-For": "203.0.113.7"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    locked = proxied.post("/api/v1/auth/token", json={"username": "clerk01", "password": STAFF_PASSWORD},
                          headers={"X-Forwarded-For": "203.0.113.7"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    other = proxied.post("/api/v1/auth/token", json={"username": "clerk01", "password": STAFF_PASSWORD},
                         headers={"X-Forwarded-For": "203.0.113.8"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert locked.status_code == 429 and other.status_code == 200
