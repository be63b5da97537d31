"""The demo's 村社信用积分: 诸暨市枫桥镇枫源村 (乡村) and 越城区府山街道仓桥社区 (社区), each with an approved rulebook,
households of demo citizens, entries in every state, a 积分超市 with stock, redemptions and a 红榜; the 文明办 owns
the rating types and a 政法委 desk pushes 枫桥-style governance records. Adds ``community`` to the credentials."""

from __future__ import annotations

import random
import secrets
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select, update

from app.auth.service import create_department, issue_department_key, set_department_record_types
from app.citizens.models import Citizen
from app.citizens.service import ID_PURPOSE
from app.community import counter, ledger, ratings, service
from app.community.models import Entry, Member, Worker
from app.extensions import db
from app.records import service as records
from app.records.models import Department
from app.scoring import service as scoring
from app.security.pii import vault
from app.timeutil import city_today, utcnow

DIVISIONS_FILE = Path(__file__).parent / "data" / "shaoxing-divisions.csv"
GOVERNANCE_TYPES = ["HN_GOV_MEDIATION", "HN_GOV_PATROL", "HN_GOV_LAWFUL_PETITION"]

VILLAGE_ITEMS = [  # 枫源村: 村规民约 points as 诸暨 / 江山 villages run them
    {"code": "VOL", "name": "志愿服务（每小时）", "category": "志愿服务", "points": 10, "unit": "小时",
     "cap_points": 200, "cap_period": "month"},
    {"code": "YARD", "name": "门前三包、庭院整洁", "category": "环境卫生", "points": 5, "cap_points": 20,
     "cap_period": "month", "evidence_required": True},
    {"code": "SORT", "name": "垃圾分类示范户", "category": "环境卫生", "points": 10,
     "cap_points": 10, "cap_period": "month"},
    {"code": "MEDIATE", "name": "参与矛盾纠纷调解", "category": "矛盾调解", "points": 20, "cap_points": 40,
     "cap_period": "quarter"},
    {"code": "PATROL", "name": "平安巡防（每次）", "category": "平安建设", "points": 5, "cap_points": 40,
     "cap_period": "month"},
    {"code": "SIMPLE", "name": "红白喜事简办", "category": "移风易俗", "points": 30,
     "cap_points": 30, "cap_period": "year",
     "evidence_required": True},
    {"code": "FILIAL", "name": "孝老爱亲事迹", "category": "孝老爱亲", "points": 20,
     "cap_points": 40, "cap_period": "year"},
    {"code": "CLUTTER", "name": "乱堆乱放", "category": "环境卫生", "points": -10},
    {"code": "BURN", "name": "违规焚烧秸秆", "category": "平安建设", "points": -20},
]
COMMUNITY_ITEMS = [  # 仓桥社区: 社区公约
    {"code": "VOL", "name": "社区志愿服务（每小时）", "category": "志愿服务", "points": 10, "unit": "小时",
     "cap_points": 150, "cap_period": "month"},
    {"code": "HELP", "name": "邻里互助", "category": "邻里互助", "points": 5, "cap_points": 20, "cap_period": "month"},
    {"code": "SORT", "name": "垃圾分类准确投放", "category": "环境卫生", "points": 2,
     "cap_points": 20, "cap_period": "month"},
    {"code": "COUNCIL", "name": "参加社区议事会", "category": "文明新风", "points": 10, "cap_points": 20,
     "cap_period": "month"},
    {"code": "DOG", "name": "文明养犬", "category": "文明新风", "points": 5, "cap_points": 10, "cap_period": "month"},
    {"code": "THROW", "name": "高空抛物", "category": "平安建设", "points": -30},
    {"code": "LEASH", "name": "遛狗未牵绳", "category": "文明新风", "points": -10},
]
CATALOGS = {
    "village": [("洗衣液 2kg", "goods", 50, 40), ("食用油 5L", "goods", 120, 20), ("大米 10kg", "goods", 150, 15),
                ("免费理发", "service", 30, None), ("农技指导上门", "service", 40, None)],
    "community": [("抽纸一提", "goods", 30, 60), ("电影票", "goods", 80, 20), ("免费理发", "service", 30, None),
                  ("政务服务优先办理", "service", 20, None), ("家电义修", "service", 50, None)],
}


def seed(payload: dict, rng: random.Random | None = None) -> dict:
    rng = rng or random.Random(20261206)
    service.import_divisions(DIVISIONS_FILE.read_text(encoding="utf-8"))
    _departments(payload)
    today = city_today()
    adults = list(db.session.scalars(select(Citizen).where(Citizen.status == "active").order_by(Citizen.id)))
    shown = {person.get("id_number") for person in payload.get("citizens", [])}
    pii = vault()
    # The credentials' citizens are the ones a newcomer opens first (their score, their trail): scheme members get
    # dozens of ledger entries in their trail, which would bury the departments' records there.
    unlisted = [c for c in adults if pii.decrypt(c.id_cipher, ID_PURPOSE) not in shown]
    elders = sorted(unlisted, key=lambda c: c.birth_date)[:12]
    others = [c for c in unlisted if c not in elders]
    rng.shuffle(others)
    # Split evenly when the demo city is small (`demo seed --citizens 40`: the mini-program's tests use it).
    share = min(30, len(others) // 2)
    plan = (("330681106201", "village", VILLAGE_ITEMS, "村民代表会议", "fy", elders[:6] + others[:share]),
            ("330602003001", "community", COMMUNITY_ITEMS, "居民会议", "cq", elders[6:] + others[share:2 * share]))
    credentials = {"url": "/console/", "schemes": []}
    for code, kind, items, body, prefix, people in plan:
        credentials["schemes"].append(_scheme(code, kind, items, body, prefix, people, rng, today))
    quiet = [c for c in reversed(adults) if pii.decrypt(c.id_cipher, ID_PURPOSE) not in shown][:6]
    _governance_records(payload, quiet, today)  # not the credentials' citizens, whose scores are listed there
    payload["community"] = credentials
    return credentials


def _departments(payload: dict) -> None:
    civility = db.session.scalar(select(Department).where(Department.code == "SX_CIVILITY"))
    if civility is not None:
        set_department_record_types(civility, sorted({*civility.record_types, ratings.STAR_TYPE, ratings.HONEST_TYPE}),
                                    scoring.rules().catalog)
    department = create_department("SX_ZFW", "绍兴市委政法委", GOVERNANCE_TYPES)
    key = issue_department_key(department)
    db.session.commit()
    payload.setdefault("departments", []).append({"code": "SX_ZFW", "name": "绍兴市委政法委", "key": key,
                                                  "record_types": GOVERNANCE_TYPES})


def _scheme(code, kind, items, body, prefix, people, rng, today) -> dict:
    scheme = service.create_scheme(code)
    rulebook = service.propose_rulebook(scheme, date(today.year, 1, 15), body, items)
    service.decide_rulebook(rulebook, True, "demo")
    by_code = {item.code: item for item in rulebook.items}
    members = []
    for start in range(0, len(people), 3):
        group = people[start:start + 3]
        household = service.add_household(scheme, f"{group[0].name}户", grid=f"{'一二三'[(start // 3) % 3]}网格")
        household.show_on_honour_board = rng.random() < 0.6
        for position, citizen in enumerate(group):
            member = service.add_member(household, citizen, is_head=position == 0)
            member.show_on_honour_board = rng.random() < 0.5
            members.append((member, household))
    accounts = []
    head = members[0][0]
    for role, suffix, name, grid, citizen_id in (
            ("grid", "grid", "网格员", "一网格", None), ("reviewer", "review", "审核员", "一网格", head.citizen_id),
            ("reviewer", "review2", "审核员", "二网格", None), ("counter", "counter", "积分超市柜台", "", None),
            ("manager", "admin", "管理员", "", None)):
        secret = secrets.token_urlsafe(12)
        citizen = db.session.get(Citizen, citizen_id) if citizen_id else None
        worker = service.create_worker(scheme, f"{prefix}-{suffix}", secret, role, f"{scheme.division.name}{name}",
                                       grid=grid, citizen=citizen)
        accounts.append({"username": worker.username, "password": secret, "role": role})
    for name, item_kind, price, stock in CATALOGS[kind]:
        counter.add_item(scheme, name, item_kind, price, stock)
    db.session.commit()
    workers = {worker.username: worker for worker in db.session.scalars(
        select(Worker).where(Worker.scheme_id == scheme.id))}
    grid, review, review2 = workers[f"{prefix}-grid"], workers[f"{prefix}-review"], workers[f"{prefix}-review2"]
    _entries(scheme, by_code, members, grid, review, review2, rng, today)
    till = workers[f"{prefix}-counter"]
    catalog = counter.catalog(scheme.id)
    spent = 0
    for member, _household in members[:10]:
        db.session.refresh(member)
        affordable = [item for item in catalog if item.price <= member.balance and (item.stock is None or item.stock)]
        if affordable:
            code = counter.issue_code(member.citizen_id, rng.choice(affordable).ref).code
            counter.redeem(till, code)
            spent += 1
    return {"scheme": scheme.name, "ref": scheme.ref, "kind": "村" if kind == "village" else "社区",
            "accounts": accounts, "redemptions": spent}


def _entries(scheme, items, members, grid, review, review2, rng, today) -> None:
    """Posted entries (their 公示 ended), entries in 公示, under objection, waiting for review, rejected, and a
    deduction in 公示 the person was told about."""
    positive = [item for item in items.values() if item.points > 0 and not item.evidence_required]
    negative = [item for item in items.values() if item.points < 0]
    posted_ids = []

    def enter(member, item, quantity, days_ago):
        try:
            return ledger.enter_on_behalf(grid, member.ref, item.ref, quantity, today - timedelta(days=days_ago),
                                          "演示数据", [])
        except Exception:  # noqa: BLE001 - a cap reached in the random plan: skip that entry
            db.session.rollback()
            return None

    reviewer_household = db.session.scalar(select(Member.household_id).where(Member.citizen_id == review.citizen_id))

    def approver(member):
        return review2 if member.household_id == reviewer_household else review

    for index, (member, _household) in enumerate(members):
        for _ in range(rng.randint(2, 6)):
            item = rng.choice(positive)
            quantity = rng.randint(1, 8) if item.unit == "小时" else 1
            entry = enter(member, item, quantity, rng.randint(8, 80))
            if entry is not None:
                ledger.approve(approver(member), entry.ref)
                posted_ids.append(entry.id)
        if index % 7 == 3:
            entry = enter(member, rng.choice(negative), 1, rng.randint(10, 60))
            if entry is not None:
                ledger.approve(approver(member), entry.ref)
                posted_ids.append(entry.id)
    # Their 公示 ended days ago: they post the way the scheduler posts them.
    db.session.execute(update(Entry).where(Entry.id.in_(posted_ids)).values(
        approved_at=utcnow() - timedelta(days=12), publicity_ends_at=utcnow() - timedelta(days=7)))
    db.session.commit()
    ledger.post_due()
    for number, (member, _household) in enumerate(members[:12]):
        entry = enter(member, rng.choice(positive), 1, 2)
        if entry is None:
            continue
        if number < 5:
            ledger.approve(approver(member), entry.ref)  # in 公示 now
        elif number == 5:
            ledger.approve(approver(member), entry.ref)
            objector = members[-1][0]
            ledger.object_to(db.session.get(Citizen, objector.citizen_id).id, entry.ref, "当天他不在村里，请核实。")
        elif number == 6:
            ledger.reject(approver(member), entry.ref, "时长无法核实")
        # the rest wait for review
    entry = enter(members[7][0], negative[0], 1, 3) if len(members) > 7 else None
    if entry is not None:
        ledger.approve(approver(members[7][0]), entry.ref)  # a deduction in 公示; the person was told


def _governance_records(payload: dict, people: list[Citizen], today: date) -> None:
    """枫桥 linkage: the 政法委 pushes governance participation like any department (see README)."""
    department = db.session.scalar(select(Department).where(Department.code == "SX_ZFW"))
    pii = vault()
    rows = []
    for number, citizen in enumerate(people):
        row = {"external_id": f"FQ-{today.year}-{number:04d}", "id_number": pii.decrypt(citizen.id_cipher, ID_PURPOSE),
               "occurred_at": (today - timedelta(days=20 + number)).isoformat()}
        if number % 3 == 0:
            row.update(type_code="HN_GOV_MEDIATION", summary="参与村级矛盾纠纷调解（枫桥式人民调解委员会确认）")
        elif number % 3 == 1:
            row.update(type_code="HN_GOV_PATROL", quantity=40, summary="平安志愿巡防 40 小时")
        else:
            row.update(type_code="HN_GOV_LAWFUL_PETITION", summary="依法理性表达诉求，事项已办结（信访部门确认）")
        rows.append(row)
    records.ingest(department, rows, source="api")

