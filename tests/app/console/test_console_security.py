"""Console sign-in and its guards: redirects, roles, CSRF, lockout, idle timeout, cookies and headers."""

from __future__ import annotations

from app.extensions import kv
from tests.app.console.helpers import DESK_PASSWORD, csrf_from, desk_account, desk_client, login, staff_client
from tests.factories import STAFF_PASSWORD, gen_staff

STAFF_PAGES = ["/console/dashboard", "/console/citizens", "/console/merchants", "/console/offers",
               "/console/offers/new", "/console/scenes", "/console/partners", "/console/departments",
               "/console/audit", "/console/rights/objection", "/console/rights/repair", "/console/rights/calendar"]
DESK_PAGES = ["/console/desk/", "/console/desk/batches", "/console/desk/upload", "/console/desk/objections"]


def test_pages_send_a_visitor_without_a_session_to_the_login_page(client, ctx):
    for path in STAFF_PAGES + DESK_PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/console/login?next=" + path.rstrip("/")), path
    chart = client.get("/console/api/charts/score-distribution")
    assert chart.status_code == 401
    assert chart.get_json()["code"] == "http_401"


def test_staff_sign_in_opens_the_dashboard_and_logout_ends_the_session(app, ctx):
    gen_staff("staff01")
    client = app.test_client()
    response = login(client, "staff01")
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/"
    page = client.get("/console/", follow_redirects=True)
    assert page.status_code == 200
    assert "总览" in page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    assert client.post("/console/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/console/dashboard").status_code == 302


def test_login_goes_back_to_the_page_asked_for_but_never_off_site(app, ctx):
    gen_staff("staff01")
    client = app.test_client()
    token = csrf_from(client.get("/console/login").get_data(as_text=True))
    response = client.post("/console/login?next=/console/offers", data={
        "username": "staff01", "password": STAFF_PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/console/offers"
    other = app.test_client()
    token = csrf_from(other.get("/console/login").get_data(as_text=True))
    response = other.post("/console/login?next=//evil.example/", data={
        "username": "staff01", "password": STAFF_PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/console/"


def test_wrong_password_is_refused_in_chinese_and_repeated_failures_lock_the_account(app, ctx):
    gen_staff("staff01")
    client = app.test_client()
    for _ in range(int(app.config["LOGIN_FAILURES_PER_USER"].split()[0])):
        response = login(client, "staff01", "wrong-password")
        assert response.status_code == 401
        assert "用户名或密码不正确" in response.get_data(as_text=True)
    locked = login(client, "staff01", STAFF_PASSWORD)
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.get_data(as_text=True)
    assert "console_sid" not in (locked.headers.get("Set-Cookie") or "")
    # Another account is not locked by these failures.
    gen_staff("staff02")
    assert login(app.test_client(), "staff02").status_code == 302


def test_forms_refuse_a_missing_or_foreign_csrf_token(app, ctx):
    gen_staff("staff01")
    client = app.test_client()
    client.get("/console/login")
    missing = client.post("/console/login", data={"username": "staff01", "password": STAFF_PASSWORD})
    assert missing.status_code == 400
    assert "CSRF" in missing.get_data(as_text=True)
    other = app.test_client()
    foreign_token = csrf_from(other.get("/console/login").get_data(as_text=True))
    wrong = client.post("/console/login", data={"username": "staff01", "password": STAFF_PASSWORD,
                                                "csrf_token": foreign_token})
    assert wrong.status_code == 400
    signed_in = staff_client(app, "staff03")
    refused = signed_in.post("/console/scenes", data={"code": "xue", "name": "信易学堂", "csrf_token": "forged"})
    assert refused.status_code == 400
    assert "信易学堂" not in signed_in.get("/console/scenes").get_data(as_text=True)


def test_roles_staff_admin_and_department_see_only_their_pages(app, ctx):
    staff = staff_client(app, "staff01", "staff")
    for path in DESK_PAGES:
        assert staff.get(path).status_code == 403, path
    token = csrf_from(staff.get("/console/departments").get_data(as_text=True))
    # Admin-only actions
    assert staff.post("/console/departments/SX_NONE/keys", data={"csrf_token": token}).status_code == 403
    assert staff.post("/console/merchants", data={"csrf_token": token, "name": "某商户"}).status_code == 403
    desk, _, _ = desk_client(app, "SX_AMR")
    for path in STAFF_PAGES:
        response = desk.get(path)
        assert response.status_code == 403, path
        assert "无权访问" in response.get_data(as_text=True)
    assert desk.get("/console/api/charts/score-distribution").status_code == 403
    assert desk.get("/console/desk/").status_code == 200


def test_idle_session_expires_in_the_store_and_the_page_says_so(app, ctx):
    client = staff_client(app)
    keys = list(kv.scan_iter("console:session:*"))
    assert len(keys) == 1
    assert 0 < kv.ttl(keys[0]) <= app.config["CONSOLE_IDLE_SECONDS"]
    kv.delete(keys[0])  # what the store does when the idle timeout passes
    response = client.get("/console/dashboard")
    assert response.status_code == 302
    assert "why=timeout" in response.headers["Location"]
    assert "登录已超时" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_cookies_are_httponly_lax_and_secure_over_https(app, ctx):
    gen_staff("staff01")
    plain = login(app.test_client(), "staff01")
    cookie = plain.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    https = app.test_client()
    token = csrf_from(https.get("/console/login", base_url="https://localhost").get_data(as_text=True))
    response = https.post("/console/login", base_url="https://localhost",
                          data={"username": "staff01", "password": STAFF_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_console_pages_carry_a_policy_allowing_only_own_assets(app, ctx):
    client = staff_client(app)
    response = client.get("/console/dashboard")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    html = response.get_data(as_text=True)
    assert "<script>" not in html and "cdn" not in html.lower()
    assert response.headers["Cache-Control"] == "no-store"


def test_a_department_user_cannot_use_the_json_api_and_a_deactivated_one_is_signed_out(app, ctx):
    from app.extensions import db

    department, _, user = desk_account("SX_TAX")
    client = app.test_client()
    assert login(client, user.username, DESK_PASSWORD).status_code == 302
    assert client.get("/console/desk/").status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/console/desk/").status_code == 302
