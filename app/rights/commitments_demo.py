"""The demo city's commitments in every state and voluntary reports in every state, made through the same services
as production (a violation a department pushes breaks a commitment; the daily job keeps the ones that ran their
period), and the entry of demo-credentials.json telling a newcomer how to try them."""

from __future__ import annotations

import random
from datetime import date, timedelta

from flask import g
from sqlalchemy import select

from app.audit.service import Actor
from app.auth.service import create_department, issue_department_key
from app.extensions import db
from app.records import service as records
from app.records.models import Department
from app.rights import commitments, voluntary
from app.rights.commitment_models import Commitment
from app.scoring import service as scoring
from app.scoring.models import Score

# Departments that report the violations civility commitments are broken by.
VIOLATION_DEPARTMENTS = (
    ("SX_CULTURE", "绍兴市文化广电旅游局", ["LA_UNCIVIL_TOURISM"], "在景区文物上刻画涂污"),
    ("SX_TRAFFIC", "绍兴市公安局交通警察支队", ["LA_TRAFFIC_VIOLATION"], "驾驶机动车闯红灯"),
    ("SX_URBAN", "绍兴市综合行政执法局", ["LA_ENV_VIOLATION", "LA_PET_VIOLATION"], "乱扔垃圾，经劝阻拒不改正"),
)
CIVILITY = ("CIVIL_ENV", "CIVIL_TRAFFIC", "CIVIL_PET", "CIVIL_TOURISM", "CIVIL_VILLAGE")


def _candidates(plain_ids: dict[int, tuple[str, str]], count: int) -> list[int]:
    """Scored citizens at L2–L4 (room to gain, not restricted), in a stable order."""
    rows = db.session.scalars(select(Score.citizen_id).where(Score.level.between(2, 4)).order_by(Score.citizen_id))
    return [citizen_id for citizen_id in rows if citizen_id in plain_ids][:count]


def _backdated(citizen_id: int, code: str, days_ago: int, today: date) -> Commitment:
    ctype = commitments.commitment_type(code)
    commitment = commitments._create(citizen_id, ctype, source="citizen", text_version=ctype.current_text.version,
                                     starts_on=today - timedelta(days=days_ago))
    db.session.commit()
    return commitment


def seed(rng: random.Random, today: date, plain_ids: dict[int, tuple[str, str]]) -> dict:
    g.actor = Actor("system", "demo-seed")
    scoring.recompute("all", reason="演示数据初始计算")  # the candidates are picked by level
    keys: dict[str, dict] = {}
    for code, name, types, _ in VIOLATION_DEPARTMENTS:
        department = create_department(code, name, types)
        keys[code] = {"code": code, "name": name, "key": issue_department_key(department), "record_types": types}
    db.session.commit()
    people = _candidates(plain_ids, 90)
    rng.shuffle(people)
    groups = {"active": people[:30], "kept": people[30:50], "broken": people[50:62], "false": people[62:66],
              "due_tomorrow": people[66:68], "new": people[68:70], "voluntary": people[70:78]}
    for citizen_id in groups["active"]:
        for code in rng.sample(CIVILITY, rng.choice([1, 1, 2])):
            _backdated(citizen_id, code, rng.randint(5, 330), today)
    for citizen_id in groups["kept"]:
        _backdated(citizen_id, rng.choice(CIVILITY), rng.randint(366, 500), today)
    for citizen_id in groups["due_tomorrow"]:
        _backdated(citizen_id, "CIVIL_ENV", 364, today)  # `flask commitments settle --date <tomorrow>` keeps it
    commitments.settle(today)  # the daily job: the ones past their period are kept

    # Violations pushed by departments break the commitments they match (the records_landed listener).
    rows: dict[str, list[dict]] = {code: [] for code, *_ in VIOLATION_DEPARTMENTS}
    for n, citizen_id in enumerate(groups["broken"]):
        code, _, types, summary = VIOLATION_DEPARTMENTS[n % len(VIOLATION_DEPARTMENTS)]
        ctype = {"LA_UNCIVIL_TOURISM": "CIVIL_TOURISM", "LA_TRAFFIC_VIOLATION": "CIVIL_TRAFFIC",
                 "LA_ENV_VIOLATION": "CIVIL_ENV"}[types[0]]
        started = rng.randint(60, 300)
        _backdated(citizen_id, ctype, started, today)
        rows[code].append({"external_id": f"{code}-demo-{n:04d}", "id_number": plain_ids[citizen_id][1],
                           "type_code": types[0], "summary": summary,
                           "occurred_at": (today - timedelta(days=rng.randint(1, started - 1))).isoformat()})
    for code, batch in rows.items():
        department = db.session.scalar(select(Department).where(Department.code == code))
        g.actor = Actor("department", code)
        records.ingest(department, batch, source="demo", recompute_inline=False)
    g.actor = Actor("system", "demo-seed")

    # 告知承诺 registered by 市场监管, one of them found untrue.
    amr = db.session.scalar(select(Department).where(Department.code == "SX_AMR"))
    for n, citizen_id in enumerate(groups["false"]):
        commitment = commitments.register(amr, plain_ids[citizen_id][1], "NOTIFY", "以告知承诺代替经营场所使用证明",
                                          starts_on=today - timedelta(days=rng.randint(10, 90)))
        if n % 2 == 0:
            commitments.report_false(commitment.ref, "核查发现所告知的经营场所并不存在", department=amr)

    # 自愿注册: some waiting for staff, some accepted, one rejected.
    from app.citizens.models import Citizen

    texts = voluntary.truth_commitment().current_text.version
    for n, citizen_id in enumerate(groups["voluntary"]):
        citizen = db.session.get(Citizen, citizen_id)
        kind = rng.choice([("HN_BLOOD_DONATION", 1, "绍兴市中心血站"), ("HN_VOLUNTEER", 20, "绍兴市志愿者协会")])
        report = voluntary.submit(citizen, {
            "type": kind[0], "quantity": kind[1], "issuer": kind[2], "certificate_no": f"SX{today.year}{n:05d}",
            "occurred_at": today - timedelta(days=rng.randint(10, 200)), "description": "演示数据",
            "commitment_version": texts, "commitment_accepted": True})
        if n % 3 == 1:
            voluntary.decide(report.ref, "accepted", "已与出具单位核对")
        elif n == 2:
            voluntary.decide(report.ref, "rejected", "出具单位查无此记录")
    db.session.commit()
    shown = groups["due_tomorrow"] + groups["new"] + groups["broken"][:2]
    return {"keys": keys, "due_tomorrow": groups["due_tomorrow"], "new": groups["new"],
            "broken": groups["broken"][:2], "today": today.isoformat(),
            "people": {citizen_id: plain_ids[citizen_id] for citizen_id in shown}}


def credentials(payload: dict, seeded: dict) -> None:
    """The ``commitments`` entry of demo-credentials.json."""
    def person(citizen_id: int) -> dict:
        name, id_number = seeded["people"][citizen_id]
        return {"name": name, "id_number": id_number}

    tomorrow = (date.fromisoformat(seeded["today"]) + timedelta(days=1)).isoformat()
    payload["commitments"] = {
        "how_to": [
            "居民：POST /mp/v1/me/what-if "
            "{\"changes\": [{\"kind\": \"make_commitment\", \"type\": \"CIVIL_TOURISM\"}]} "
            "看作出文明旅游承诺能加几分；GET /mp/v1/me/commitment-types 取承诺书版本，"
            "POST /mp/v1/me/commitments 作出承诺。",
            "部门：用 violation_departments 里文旅局的密钥 POST /api/v1/records 报送 LA_UNCIVIL_TOURISM，"
            "承诺即变为“未履约”，居民的消息中心收到说明。",
            f"期满：flask --app wsgi commitments settle --date {tomorrow} 之后，"
            "due_tomorrow 中居民的公共环境文明承诺变为“已履约”。",
        ],
        "violation_departments": list(seeded["keys"].values()),
        "try_citizens": [person(c) for c in seeded["new"]],
        "due_tomorrow": [person(c) for c in seeded["due_tomorrow"]],
        "broken_examples": [person(c) for c in seeded["broken"]],
    }
