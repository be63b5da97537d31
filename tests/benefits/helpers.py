"""Builders for the benefits tests: citizens at a chosen level, merchants with a terminal, offers, sessions.

Everything goes through the same services as production (records are reported by a department, scores
computed by the scoring service), so a citizen's level is what the engine makes of their records.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from sqlalchemy import select

from app.auth.service import create_department
from app.extensions import db
from app.records import service as records
from app.records.models import Department
from app.scoring import service as scoring
from app.timeutil import utcnow
from benefits import catalog
from benefits.uscc import make_uscc
from tests.factories import bearer, gen_citizen, new_id_number

_numbers = itertools.count(1)
RECORD_TYPES = ["PC_EVAL", "LA_JUDGMENT_DEBTOR", "CM_KEPT_ENV"]
# Records that put a clean adult (655, L3 良好) at each level.
LEVEL_RECORDS = {
    0: [{"type_code": "LA_JUDGMENT_DEBTOR"}],
    1: [{"type_code": "PC_EVAL", "grade": "差"}],  # 100 + 300 + 75 = 475
    2: [{"type_code": "PC_EVAL", "grade": "较差"}],  # 200 + 300 + 75 = 575
    3: [],  # 280 + 300 + 75 = 655
    4: [{"type_code": "PC_EVAL", "grade": "优秀"}],  # 400 + 300 + 75 = 775
}


def _department() -> Department:
    department = db.session.scalar(select(Department).where(Department.code == "SX_BENEFITS_TEST"))
    if department is None:
        department = create_department("SX_BENEFITS_TEST", "测试报送部门", RECORD_TYPES)
        db.session.commit()
    return department


def report(id_number: str, rows: list[dict]) -> None:
    result = records.ingest(_department(), [
        {"external_id": f"bt-{next(_numbers)}", "id_number": id_number,
         "occurred_at": (date.today() - timedelta(days=30)).isoformat(), **row} for row in rows])
    assert not result.rejected, result.rejected


def make_citizen(name: str = "张三", level: int = 3, consent: bool = True):
    """A registered adult at ``level`` (0–4) with a stored score (when they consent)."""
    id_number = new_id_number()
    citizen = gen_citizen(name, id_number, consent=consent)
    if LEVEL_RECORDS[level]:
        report(id_number, LEVEL_RECORDS[level])
    scoring.recompute_citizen(citizen, reason="测试")
    db.session.commit()
    if consent:
        assert scoring.current_score(citizen).level == level
    return citizen


def make_merchant(name: str = "绍兴大禹陵景区", scenes=("you",), branches=("南门售票处",)):
    merchant = catalog.create_merchant(name, make_uscc(f"91330602MA2{next(_numbers):06d}"), list(scenes))
    made = [catalog.add_branch(merchant, branch, "绍兴市越城区") for branch in branches]
    terminal, key = catalog.issue_terminal(merchant, "收银台1号")
    db.session.commit()
    return merchant, made, key


def make_offer(merchant, **fields):
    """An offer of ``merchant`` (the object or its ref) in its first scene unless ``scene`` is given."""
    merchant = catalog.get_merchant(merchant) if isinstance(merchant, str) else merchant
    data = {"merchant_id": merchant.ref, "scene": merchant.scenes[0].code, "title": "大禹陵景区门票8折",
            "min_level": 3, **fields}
    offer = catalog.create_offer(data)
    db.session.commit()
    return offer


def mp_headers(citizen) -> dict:
    """A mini-program session bound to the citizen, without going through the WeChat login."""
    from miniprogram_api.auth import issue_tokens
    from miniprogram_api.models import WeChatAccount

    account = WeChatAccount(app_kind="mp", openid=f"o-test-{citizen.ref}", citizen_id=citizen.id, bound_at=utcnow())
    db.session.add(account)
    db.session.commit()
    return bearer(issue_tokens(account).access_token)


def zlb_headers(citizen) -> dict:
    """A 浙里办 session bound to the citizen, without going through the province's sign-on."""
    from miniprogram_api.auth import issue_tokens
    from miniprogram_api.models import WeChatAccount

    account = WeChatAccount(app_kind="zlb", openid=f"zlb-test-{citizen.ref}", citizen_id=citizen.id,
                            bound_at=utcnow())
    db.session.add(account)
    db.session.commit()
    return bearer(issue_tokens(account).access_token)


class Shop:
    """A merchant with one branch, a terminal key and an L3 offer: the usual counterpart of a test."""

    def __init__(self, client, **offer_fields) -> None:
        self.client = client
        self.merchant, self.branches, self.key = make_merchant()
        self.branch = self.branches[0]
        self.offer = make_offer(self.merchant, **offer_fields)
        self.merchant_ref, self.branch_ref, self.offer_ref = self.merchant.ref, self.branch.ref, self.offer.ref

    @property
    def headers(self) -> dict:
        return bearer(self.key)

    def verify(self, code: str, offer_ref: str | None = None, branch_ref: str | None = None, client=None,
               headers: dict | None = None) -> dict:
        response = (client or self.client).post("/merchant/v1/verifications", headers=headers or self.headers,
                                                json={"code": code, "offer_id": offer_ref or self.offer_ref,
                                                      "branch_id": branch_ref or self.branch_ref})
        assert response.status_code == 200, response.get_json()
        return response.get_json()


def code_for(client, citizen_headers: dict) -> str:
    response = client.post("/mp/v1/me/credit-code", headers=citizen_headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["code"]
