"""Builders for test data, going through the same services as production."""

from __future__ import annotations

import itertools
from datetime import date

from app.auth.service import create_department, create_staff, issue_department_key
from app.citizens import service as citizens
from app.citizens.idnumber import make_id_number
from app.extensions import db
from app.scoring.service import recompute_citizen

_sequence = itertools.count(1)
STAFF_PASSWORD = "correct-horse-battery"


def new_id_number(birth: date = date(1990, 5, 17), area: str = "330602") -> str:
    return make_id_number(area, birth, next(_sequence) % 1000)


def gen_citizen(name: str = "张三", id_number: str | None = None, phone: str | None = "13800138000",
                consent: bool = True):
    citizen = citizens.register(name, id_number or new_id_number(), phone)
    if consent:
        citizens.grant_consent(citizen, "scoring", channel="test")
    db.session.commit()
    if consent:
        recompute_citizen(citizen, reason="授权后首次计算")
    return citizen


def gen_department(code: str = "SX_AMR", types=("LA_PENALTY_GENERAL", "LA_PENALTY_SERIOUS"), name: str = "市场监管"):
    department = create_department(code, name, list(types))
    key = issue_department_key(department)
    db.session.commit()
    return department, key


def gen_staff(username: str = "staff01", role: str = "staff"):
    user = create_staff(username, STAFF_PASSWORD, role)
    db.session.commit()
    return user


def staff_headers(client, username: str = "staff01", role: str = "staff") -> dict:
    gen_staff(username, role)
    response = client.post("/api/v1/auth/token", json={"username": username, "password": STAFF_PASSWORD})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}
