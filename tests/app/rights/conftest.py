"""Fixtures for citizen rights: a seeded working-day calendar, a citizen bound in the mini-program with records
from a department, staff, and JPEG/PNG evidence made by Pillow."""

from __future__ import annotations

import io
import itertools
from datetime import date, timedelta

import pytest
from PIL import Image

from app.extensions import db
from app.rights import calendar
from app.timeutil import city_today
from tests.factories import bearer, gen_citizen, gen_department, new_id_number, staff_headers
from tests.miniprogram_api.conftest import _plain_id, auth, login

TYPES = ("LA_PENALTY_GENERAL", "LA_PENALTY_SERIOUS", "LA_CRIMINAL", "LA_TAX_ARREARS", "CM_KEPT_ENV")


def image_bytes(fmt: str = "JPEG", color=(200, 30, 30), size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt)
    return buffer.getvalue()


@pytest.fixture
def seeded_calendar(app):
    with app.app_context():
        calendar.seed()
        db.session.remove()


class Rights:
    """One city: department SX_AMR (and a second one), a bound citizen 王丽 and another citizen 陈强, staff."""

    def __init__(self, app, client) -> None:
        self.app, self.client = app, client
        self._numbers = itertools.count(1)
        with app.app_context():
            _, self.key = gen_department("SX_AMR", TYPES, "绍兴市市场监督管理局")
            _, self.other_key = gen_department("SX_TAX", ("LA_TAX_ARREARS",), "国家税务总局绍兴市税务局")
            wang = gen_citizen("王丽", new_id_number(date(1985, 3, 9)), "13900001111")
            chen = gen_citizen("陈强", new_id_number(date(1979, 11, 2)), "13900002222")
            self.people = {"wang": (wang.ref, _plain_id(wang), "王丽"), "chen": (chen.ref, _plain_id(chen), "陈强")}
            self.staff = staff_headers(client)
        self.citizen = self.bind("wang")

    def bind(self, person: str, code: str | None = None) -> dict:
        session = login(self.client, code or f"{person}-phone")
        _, id_number, name = self.people[person]
        response = self.client.post("/mp/v1/binding", headers=auth(session),
                                    json={"name": name, "id_number": id_number, "phone": "13712345678"})
        assert response.status_code == 201, response.get_json()
        return auth(session)

    def report(self, person: str = "wang", type_code: str = "LA_PENALTY_GENERAL", days_ago: int = 120,
               key: str | None = None, **extra) -> str:
        _, id_number, _ = self.people[person]
        row = {"external_id": f"r-{next(self._numbers)}", "id_number": id_number, "type_code": type_code,
               "occurred_at": (city_today() - timedelta(days=days_ago)).isoformat(), **extra}
        response = self.client.post("/api/v1/records", json=row, headers=bearer(key or self.key))
        assert response.status_code == 200, response.get_json()
        return response.get_json()["ref"]

    def score(self, headers: dict | None = None) -> int:
        return self.client.get("/mp/v1/me/score", headers=headers or self.citizen).get_json()["total"]

    def record(self, ref: str, headers: dict | None = None) -> dict:
        items = self.client.get("/mp/v1/me/records?per_page=100", headers=headers or self.citizen).get_json()["items"]
        return next(item for item in items if item["ref"] == ref)

    def object(self, record_ref: str, headers: dict | None = None, files=(), reason_code: str = "wrong_facts",
               reason_text: str = "罚款已被复议撤销"):
        data = {"record": record_ref, "reason_code": reason_code, "reason_text": reason_text}
        if files:
            data["evidence"] = [(io.BytesIO(content), name) for name, content in files]
        return self.client.post("/mp/v1/me/objections", data=data, headers=headers or self.citizen,
                                content_type="multipart/form-data")

    def repair(self, record_ref: str, headers: dict | None = None, files=(("paid.jpg", None),),
               accepted: bool = True, version: str | None = None):
        headers = headers or self.citizen
        if version is None:
            preview = self.client.get(f"/mp/v1/me/repairs/preview?record={record_ref}", headers=headers).get_json()
            version = preview.get("commitment_version") or "none"
        data = {"record": record_ref, "statement": "罚款已于11月缴清", "commitment_version": version,
                "commitment_accepted": "true" if accepted else "false"}
        if files:
            data["evidence"] = [(io.BytesIO(content if content is not None else image_bytes()), name)
                                for name, content in files]
        return self.client.post("/mp/v1/me/repairs", data=data, headers=headers, content_type="multipart/form-data")

    def decide_objection(self, case_ref: str, decision: str, reason: str = "经核查，该处罚已被复议机关撤销",
                         **extra):
        return self.client.post(f"/api/v1/rights/objections/{case_ref}/decision", headers=self.staff,
                                json={"decision": decision, "reason": reason, **extra})

    def decide_repair(self, case_ref: str, decision: str, reason: str = "已提交缴款凭证，符合修复条件"):
        return self.client.post(f"/api/v1/rights/repairs/{case_ref}/decision", headers=self.staff,
                                json={"decision": decision, "reason": reason})

    def messages(self, headers: dict | None = None) -> list[dict]:
        return self.client.get("/mp/v1/me/messages?per_page=100", headers=headers or self.citizen).get_json()["items"]


@pytest.fixture
def rights(app, client, wechat, seeded_calendar):
    return Rights(app, client)
