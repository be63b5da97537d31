"""A synthetic 绍兴 for a first look: ~2,000 adults, records in all four dimensions and every status,
departments with keys, staff accounts. Everything goes through the same services as production data."""

from __future__ import annotations

import random
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import g
from sqlalchemy import select, update

from app.audit.service import Actor
from app.auth.service import create_department, create_staff, issue_department_key
from app.citizens import service as citizens
from app.citizens.idnumber import make_id_number
from app.citizens.models import Citizen
from app.extensions import db
from app.records import service as records
from app.records.models import Record
from app.scoring import service as scoring
from app.scoring.models import Score
from app.timeutil import city_today

DISTRICTS = ("330602", "330603", "330604", "330624", "330681", "330683")  # 越城 柯桥 上虞 新昌 诸暨 嵊州
SURNAMES = "王陈张李周徐沈朱金钱孙吴胡杨俞马章董鲁谢蔡何楼宣汤邵陆"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华建国志红文斌浩宇晨欣怡婷佳琪梓涵子轩俊杰一鸣雨萱"

DEPARTMENTS = (
    ("SX_CREDIT", "绍兴市信用中心", ["PC_EVAL"]),
    ("SX_COURT", "绍兴市中级人民法院", ["LA_CRIMINAL", "LA_JUDGMENT_DEBTOR"]),
    ("SX_AMR", "绍兴市市场监督管理局", ["LA_PENALTY_GENERAL", "LA_PENALTY_SERIOUS", "LA_FORCED_ENFORCEMENT"]),
    ("SX_TAX", "国家税务总局绍兴市税务局", ["LA_TAX_ARREARS"]),
    ("SX_DRC", "绍兴市发展和改革委员会", ["LA_SERIOUS_DISHONESTY"]),
    ("SX_CIVILITY", "绍兴市文明办", ["CM_KEPT_ENV", "CM_KEPT_TRAFFIC", "CM_KEPT_PET", "CM_KEPT_TOURISM",
                                   "CM_KEPT_VILLAGE", "CM_KEPT_REPAIR", "CM_BROKEN", "CM_FALSE",
                                   "HN_HONOUR_NATIONAL", "HN_HONOUR_PROVINCIAL", "HN_HONOUR_CITY"]),
    ("SX_REDCROSS", "绍兴市红十字会", ["HN_BLOOD_DONATION", "HN_DONATION"]),
    ("SX_VOLUNTEER", "绍兴市志愿者协会", ["HN_VOLUNTEER"]),
)
KEPT = ("CM_KEPT_ENV", "CM_KEPT_TRAFFIC", "CM_KEPT_PET", "CM_KEPT_TOURISM", "CM_KEPT_VILLAGE")
# Target level of a synthetic person and how common it is; the records drawn below aim at it.
PROFILES = ((5, 0.08), (4, 0.22), (3, 0.34), (2, 0.20), (1, 0.12), (0, 0.04))


@dataclass
class DemoCity:
    departments: list[dict] = field(default_factory=list)
    staff: dict = field(default_factory=dict)
    citizens: list[dict] = field(default_factory=list)
    rights: dict = field(default_factory=dict)


class _Builder:
    def __init__(self, rng: random.Random, today: date) -> None:
        self.rng, self.today = rng, today
        self.rows: dict[str, list[dict]] = defaultdict(list)
        self.owner = {code: dept for dept, _, codes in DEPARTMENTS for code in codes}
        self.counter = 0

    def add(self, id_number: str, type_code: str, days_ago: int, **extra) -> None:
        self.counter += 1
        department = self.owner[type_code]
        self.rows[department].append({
            "external_id": f"{department}-{self.counter:07d}", "id_number": id_number, "type_code": type_code,
            "occurred_at": (self.today - timedelta(days=days_ago)).isoformat(), **extra,
        })

    def person(self, id_number: str, target: int) -> None:
        rng, add = self.rng, self.add
        grade = {5: "优秀", 4: "良好", 3: rng.choice(["良好", "中等", None]), 2: "中等", 1: "较差",
                 0: rng.choice(["中等", "较差"])}[target]
        if grade:
            add(id_number, "PC_EVAL", rng.randint(10, 300), grade=grade)
            if rng.random() < 0.4:  # last year's evaluation, superseded
                add(id_number, "PC_EVAL", rng.randint(400, 700), grade=rng.choice(["良好", "中等"]))
        kept = {5: 6, 4: 3, 3: 1, 2: 0, 1: 0, 0: 0}[target] + rng.randint(0, 2 if target != 2 else 1)
        for _ in range(kept):
            add(id_number, rng.choice(KEPT), rng.randint(5, 700))
        if target == 5:
            add(id_number, rng.choice(["HN_HONOUR_CITY", "HN_HONOUR_PROVINCIAL"]), rng.randint(30, 900))
        for _ in range(rng.choice([0, 1, 2, 2, 3, 4])):
            add(id_number, "HN_VOLUNTEER", rng.randint(5, 600), quantity=rng.choice([10, 20, 30, 45, 60]))
        for _ in range(rng.choice([0, 0, 0, 1, 2])):
            add(id_number, "HN_BLOOD_DONATION", rng.randint(30, 700))
        if rng.random() < 0.15:
            add(id_number, "HN_DONATION", rng.randint(10, 300))
        if target == 2:
            add(id_number, "LA_PENALTY_GENERAL", rng.randint(20, 300), summary="占道经营，一般程序行政处罚")
            if rng.random() < 0.5:
                add(id_number, "LA_TAX_ARREARS", rng.randint(20, 300), summary="个人所得税逾期未缴")
        if target == 1:
            incident = f"INC-{self.counter:07d}"
            add(id_number, "LA_PENALTY_SERIOUS", rng.randint(20, 300), incident_id=incident,
                summary="无证经营，较重行政处罚")
            add(id_number, "LA_FORCED_ENFORCEMENT", rng.randint(5, 200), incident_id=incident,
                summary="罚款逾期未缴，申请强制执行")
            add(id_number, "CM_BROKEN", rng.randint(30, 300))
            if rng.random() < 0.3:
                add(id_number, "LA_TAX_ARREARS", rng.randint(30, 300))
        if target == 0:
            add(id_number, rng.choice(["LA_JUDGMENT_DEBTOR", "LA_JUDGMENT_DEBTOR", "LA_SERIOUS_DISHONESTY"]),
                rng.randint(20, 300), summary="被人民法院列为失信被执行人")
        if rng.random() < 0.05:  # an old penalty past its validity period
            add(id_number, "LA_PENALTY_GENERAL", rng.randint(500, 900), summary="早年行政处罚（已过有效期）")


def _people(rng: random.Random, count: int, today: date):
    seen: set[str] = set()
    while len(seen) < count:
        age_days = rng.randint(18 * 366, 85 * 365)
        birth = today - timedelta(days=age_days)
        id_number = make_id_number(rng.choice(DISTRICTS), birth, rng.randint(0, 999))
        if id_number in seen:
            continue
        seen.add(id_number)
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2, 2])))
        phone = "1" + rng.choice("3578") + "".join(str(rng.randint(0, 9)) for _ in range(9))
        yield name, id_number, phone


def seed_demo_city(count: int = 2000, seed: int = 20261122) -> DemoCity:
    rng = random.Random(seed)
    today = city_today()
    g.actor = Actor("system", "demo-seed")
    city = DemoCity()
    keys: dict[str, str] = {}
    for code, name, record_types in DEPARTMENTS:
        department = create_department(code, name, record_types)
        keys[code] = issue_department_key(department)
        city.departments.append({"code": code, "name": name, "key": keys[code], "record_types": record_types})
    staff_password, admin_password = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    create_staff("xinyong01", staff_password, "staff", "信用中心 王晓燕")
    create_staff("admin", admin_password, "admin", "信用中心管理员")
    city.staff = {"username": "xinyong01", "password": staff_password, "role": "staff",
                  "admin": {"username": "admin", "password": admin_password, "role": "admin"}}

    builder = _Builder(rng, today)
    plain_ids: dict[int, tuple[str, str]] = {}
    targets = [level for level, _ in PROFILES]
    weights = [weight for _, weight in PROFILES]
    for name, id_number, phone in _people(rng, count, today):
        citizen = citizens.register(name, id_number, phone, today)
        plain_ids[citizen.id] = (name, id_number)
        if rng.random() < 0.96:
            citizens.grant_consent(citizen, "scoring", channel="demo")
            if rng.random() < 0.4:
                citizens.grant_consent(citizen, "partner_sharing", channel="demo")
        builder.person(id_number, rng.choices(targets, weights)[0])
    db.session.commit()

    departments = {d["code"]: d for d in city.departments}
    from app.records.models import Department

    for code, rows in builder.rows.items():
        department = db.session.scalar(select(Department).where(Department.code == code))
        g.actor = Actor("department", code)
        for start in range(0, len(rows), 5000):
            records.ingest(department, rows[start:start + 5000], source="demo", recompute_inline=False)
        departments[code]["records"] = len(rows)
    g.actor = Actor("system", "demo-seed")
    disputed, repaired = _vary_statuses(rng, today)
    from app.rights import demo as rights_demo

    # Disputed and repaired records get there through an objection / a repair, as in production.
    city.rights = rights_demo.seed_cases(rng, today, disputed, repaired, plain_ids)
    from app.rights import commitments_demo

    city.commitments = commitments_demo.seed(rng, today, plain_ids)  # commitments and 自愿注册 in every state
    scoring.recompute("all", reason="演示数据初始计算")
    city.citizens = _showcase(plain_ids)
    return city


def _vary_statuses(rng: random.Random, today: date) -> tuple[list[int], list[int]]:
    """Statuses that the expiry and staff processes would have produced; returns the records to be disputed and
    repaired, which app/rights' demo backs with an open objection / an approved repair."""
    rules = scoring.rules()
    adverse = db.session.execute(select(Record.id, Record.type_code, Record.occurred_at)).all()
    changes: dict[str, list[int]] = defaultdict(list)
    for record_id, type_code, occurred_at in adverse:
        record_type = rules.catalog[type_code]
        if occurred_at + timedelta(days=record_type.validity_days) <= today:
            changes["expired"].append(record_id)
        elif record_type.is_adverse and not record_type.forces_l0:
            roll = rng.random()
            if roll < 0.06:
                changes["disputed"].append(record_id)
            elif roll < 0.12 and record_type.repairable:
                changes["repaired"].append(record_id)
        elif not record_type.is_adverse and rng.random() < 0.01:
            changes["revoked"].append(record_id)
    for status, ids in changes.items():
        if status in ("disputed", "repaired"):
            continue
        for start in range(0, len(ids), 900):
            db.session.execute(update(Record).where(Record.id.in_(ids[start:start + 900])).values(status=status))
    db.session.commit()
    return changes["disputed"], changes["repaired"]


def _showcase(plain_ids: dict[int, tuple[str, str]], per_level: int = 2) -> list[dict]:
    rules = scoring.rules()
    picked: list[dict] = []
    for level in range(5, -1, -1):
        rows = db.session.execute(
            select(Score.citizen_id, Score.total).where(Score.level == level).order_by(Score.citizen_id)
            .limit(per_level)
        ).all()
        for citizen_id, total in rows:
            name, id_number = plain_ids[citizen_id]
            ref = db.session.scalar(select(Citizen.ref).where(Citizen.id == citizen_id))
            picked.append({"name": name, "id_number": id_number, "ref": ref, "level": level,
                           "level_name": rules.level_name(level), "total": total})
    return picked
