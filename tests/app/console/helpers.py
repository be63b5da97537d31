"""Builders and steps for the console's tests: accounts, signing in through the login form, CSRF tokens."""

from __future__ import annotations

import re

from app.auth.service import create_department_user
from app.extensions import db
from tests.factories import STAFF_PASSWORD, gen_department, gen_staff

DESK_PASSWORD = "desk-password-123"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client, username: str, password: str = STAFF_PASSWORD, follow: bool = False):
    token = csrf_from(client.get("/console/login").get_data(as_text=True))
    return client.post("/console/login", data={"username": username, "password": password, "csrf_token": token},
                       follow_redirects=follow)


def staff_client(app, username: str = "staff01", role: str = "staff"):
    gen_staff(username, role)
    client = app.test_client()
    response = login(client, username)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def desk_account(code: str = "SX_AMR", username: str | None = None, types=("LA_PENALTY_GENERAL",
                                                                          "LA_PENALTY_SERIOUS")):
    department, key = gen_department(code, types, name=f"{code} 部门")
    user = create_department_user(code, username or code.lower(), DESK_PASSWORD)
    db.session.commit()
    return department, key, user


def desk_client(app, code: str = "SX_AMR"):
    department, key, user = desk_account(code)
    client = app.test_client()
    response = login(client, user.username, DESK_PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client, department, key


def page_token(client, path: str) -> str:
    return csrf_from(client.get(path).get_data(as_text=True))
