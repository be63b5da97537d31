"""The demo's 信易+ pieces: merchants of the 信用惠民联盟 in 绍兴, their branches, terminals and offers."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from app.citizens import service as citizens
from app.citizens.idnumber import make_id_number
from app.extensions import db
from app.records import service as records
from app.records.models import Department
from app.scoring import service as scoring
from app.timeutil import city_today
from benefits import catalog
from benefits.uscc import make_uscc

# name, scenes, branches (name, address, GCJ-02 lat and lng taken off a map of 绍兴), offers (title, scene,
# description, min level, limits and quota)
MERCHANTS = (
    ("绍兴大禹陵景区管理处", ["you"], [("南门售票处", "越城区禹陵路1号", 29.98352, 120.61147),
                                   ("北门游客中心", "越城区禹陵路18号", 29.98702, 120.61003)], [
        dict(title="大禹陵景区门票8折", scene="you", description="信用良好及以上的居民凭信用码购票享8折。",
             min_level=3, limit_per_day=1, quota=5000),
        dict(title="大禹陵讲解服务免费", scene="you", description="信用优秀及以上的居民每月可免费预约讲解一次。",
             min_level=4, limit_per_month=1),
    ]),
    ("绍兴市公共自行车服务有限公司", ["xing"],
     [("城市广场站", "越城区胜利东路城市广场", 30.00101, 120.58598),
      ("鲁迅故里站", "越城区鲁迅中路", 29.99502, 120.58004),
      ("柯桥轻纺城站", "柯桥区轻纺城大道", 30.08203, 120.49588)], [
        dict(title="公共自行车免押金", scene="xing", description="信用一般及以上的居民办卡免交200元押金。",
             min_level=2, limit_total=1),
    ]),
    ("绍兴图书馆", ["yue"], [("总馆", "越城区解放北路", 30.00398, 120.57996),
                         ("柯桥分馆", "柯桥区笛扬路", 30.08996, 120.49302)], [
        dict(title="绍兴图书馆借阅20本", scene="yue", description="信用良好及以上的读者借阅上限由10本提高到20本。",
             min_level=3, limit_total=1),
    ]),
    ("绍兴市中心医院", ["yi"], [("门诊部", "柯桥区华宇路", 30.07003, 120.50197)], [
        dict(title="医后付额度提高到2000元", scene="yi",
             description="信用优秀及以上的居民就诊先诊疗后付费，额度2000元。", min_level=4, limit_total=1),
    ]),
    ("绍兴咸亨酒店", ["gou", "yu"], [("鲁迅中路店", "越城区鲁迅中路179号", 29.99597, 120.58102)], [
        dict(title="咸亨酒店堂食9折", scene="gou", description="信用良好及以上的居民堂食享9折（酒水除外）。",
             min_level=3, limit_per_month=2),
    ]),
    ("绍兴城投停车管理有限公司", ["ting"], [("府山停车场", "越城区府山横街", 30.00302, 120.57497),
                                      ("城市广场停车场", "越城区胜利东路", 30.00049, 120.58703)], [
        dict(title="首小时停车免费", scene="ting", description="信用良好及以上的车主每天首小时停车免费。",
             min_level=3, limit_per_day=1),
    ]),
    ("绍兴奥体中心", ["jian"], [("游泳馆", "柯桥区群贤路", 30.05601, 120.52298)], [
        dict(title="游泳馆门票半价", scene="jian", description="信用优秀及以上的居民每天一次游泳半价。",
             min_level=4, limit_per_day=1, quota=2000),
    ]),
)


def seed(payload: dict) -> None:
    """Seed the benefits catalog for the demo city and add `merchants` to the credentials payload."""
    catalog.ensure_default_scenes()
    rules = scoring.rules()
    merchants = []
    for number, (name, scenes, branches, offers) in enumerate(MERCHANTS, start=1):
        merchant = catalog.create_merchant(name, make_uscc(f"91330602MA2{number:06d}"), scenes)
        made_branches = [catalog.add_branch(merchant, branch, address, lat, lng)
                         for branch, address, lat, lng in branches]
        terminal, key = catalog.issue_terminal(merchant, f"{name}收银台")
        made_offers = [catalog.create_offer({"merchant_id": merchant.ref, **offer}) for offer in offers]
        merchants.append({
            "merchant_id": merchant.ref, "name": merchant.name, "uscc": merchant.uscc, "scenes": scenes,
            "terminals": [{"terminal_id": terminal.ref, "name": terminal.name, "key": key}],
            "branches": [{"branch_id": b.ref, "name": b.name} for b in made_branches],
            "offers": [{"offer_id": o.ref, "title": o.title, "scene": o.scene.name, "min_level": o.min_level,
                        "min_level_name": rules.level_name(o.min_level)} for o in made_offers],
        })
    db.session.commit()
    payload["merchants"] = merchants
    _ensure_showcase_level(payload, 1)


def _ensure_showcase_level(payload: dict, level: int) -> None:
    """The "L1 citizen is refused a level-3 offer" walk-through needs one 待提高 citizen even in a tiny demo."""
    showcase = payload.setdefault("citizens", [])
    if any(person.get("level") == level for person in showcase):
        return
    department = db.session.scalar(select(Department).where(Department.code == "SX_CREDIT"))
    if department is None:
        return
    today = city_today()
    birth = today.replace(year=today.year - 40, day=1)
    while True:  # a fresh ID number: the random city may already hold this one
        id_number = make_id_number("330602", birth, secrets.randbelow(1000))
        if citizens.find_by_id_number(id_number) is None:
            break
    citizen = citizens.register("俞建国", id_number, None, today)
    citizens.grant_consent(citizen, "scoring", channel="demo")
    db.session.commit()
    records.ingest(department, [{"external_id": f"SX_CREDIT-demo-l{level}", "id_number": id_number,
                                 "type_code": "PC_EVAL", "grade": "差",
                                 "occurred_at": (today.replace(day=1)).isoformat()}])
    score = scoring.current_score(citizen)
    showcase.append({"name": citizen.name, "id_number": id_number, "ref": citizen.ref, "level": score.level,
                     "level_name": scoring.rules().level_name(score.level), "total": score.total})
