"""Builders for 社区 / 乡村 points tests: a scheme with an approved rulebook, households, members and desk workers,
made through the same services as production."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import date

from PIL import Image, ImageDraw

from app.community import counter, service
from app.community.models import Scheme, Worker
from app.extensions import db
from tests.factories import gen_citizen, new_id_number

DIVISIONS_CSV = """code,name,kind,town,county
330681106201,枫源村,村,枫桥镇,诸暨市
330602003001,仓桥社区,社区,府山街道,越城区
"""
WORKER_PASSWORD = "grid-worker-password"

ITEMS = [
    {"code": "VOL", "name": "志愿服务（每小时）", "category": "志愿服务", "points": 10, "unit": "小时",
     "cap_points": 200, "cap_period": "month", "evidence_required": False},
    {"code": "CLEAN", "name": "庭院整洁", "category": "环境卫生", "points": 5, "cap_points": 10,
     "cap_period": "month", "evidence_required": True},
    {"code": "LITTER", "name": "乱扔垃圾", "category": "环境卫生", "points": -5},
]


@dataclass
class Village:
    scheme: Scheme
    items: dict
    people: dict = field(default_factory=dict)  # name -> Member
    citizens: dict = field(default_factory=dict)  # name -> Citizen
    workers: dict = field(default_factory=dict)  # role name -> Worker
    catalog: dict = field(default_factory=dict)  # name -> CatalogItem


def photo(seed: int, size: int = 320, fmt: str = "PNG", quality: int = 90, scale: float = 1.0) -> bytes:
    """A synthetic photo: blocks of random grey levels (distinct seeds give unrelated pictures)."""
    rng = random.Random(seed)
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    step = size // 8
    for x in range(0, size, step):
        for y in range(0, size, step):
            shade = rng.randrange(256)
            draw.rectangle([x, y, x + step, y + step], fill=(shade, shade, (shade * 7) % 256))
    if scale != 1.0:
        image = image.resize((int(size * scale), int(size * scale)))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def make_village(code: str = "330681106201", items=None, households=None, prefix: str = "fy") -> Village:
    """A scheme with an approved rulebook; households of (name, birth date) members, the first one the head; a
    grid worker, a reviewer (who lives in the first household) and a counter."""
    if not db.session.scalar(db.select(service.Division.id).where(service.Division.code == code)):
        service.import_divisions(DIVISIONS_CSV)
    scheme = service.create_scheme(code)
    rulebook = service.propose_rulebook(scheme, date(2026, 1, 10), "村民代表会议", items or ITEMS)
    service.decide_rulebook(rulebook, True, "staff01")
    db.session.commit()
    village = Village(scheme=scheme, items={item.code: item for item in rulebook.items})
    households = households or {"王家": [("王建国", date(1950, 3, 1)), ("王丽", date(1986, 4, 4))],
                                "李家": [("李秀英", date(1942, 7, 9)), ("李明", date(1985, 2, 2))]}
    for index, people in enumerate(households.values()):
        household = service.add_household(scheme, f"{people[0][0]}户", grid="一网格" if index % 2 == 0 else "二网格")
        for position, (name, birth) in enumerate(people):
            citizen = gen_citizen(name, new_id_number(birth))
            village.citizens[name] = citizen
            village.people[name] = service.add_member(household, citizen, is_head=position == 0)
    first_head = next(iter(village.citizens.values()))
    village.workers["grid"] = service.create_worker(scheme, f"{prefix}-grid", WORKER_PASSWORD, "grid", "网格员张平",
                                                    grid="二网格")
    village.workers["reviewer"] = service.create_worker(scheme, f"{prefix}-review", WORKER_PASSWORD, "reviewer",
                                                        "审核员王芳", citizen=first_head)
    village.workers["reviewer2"] = service.create_worker(scheme, f"{prefix}-review2", WORKER_PASSWORD, "reviewer",
                                                         "审核员赵强")
    village.workers["counter"] = service.create_worker(scheme, f"{prefix}-counter", WORKER_PASSWORD, "counter",
                                                       "积分超市柜台")
    village.catalog["soap"] = counter.add_item(scheme, "洗衣液", "goods", 50, 1)
    village.catalog["haircut"] = counter.add_item(scheme, "免费理发", "service", 30, None)
    db.session.commit()
    return village


def worker(village: Village, role: str) -> Worker:
    return db.session.get(Worker, village.workers[role].id)
