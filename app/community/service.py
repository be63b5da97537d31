"""Divisions, schemes, rulebooks (proposed by the village, approved by staff), households, members, desk accounts."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app import ratelimit
from app.audit import service as audit
from app.auth.models import DepartmentUser, StaffUser
from app.auth.service import LOGIN_LOCKED
from app.citizens.models import Citizen
from app.community.models import (
    CAP_PERIODS,
    DIVISION_KINDS,
    WORKER_ROLES,
    Division,
    Household,
    Member,
    Rulebook,
    RuleItem,
    Scheme,
    Worker,
)
from app.errors import ApiError
from app.extensions import db
from app.security.secrets_util import digest
from app.timeutil import utcnow

CATEGORIES = ("环境卫生", "志愿服务", "移风易俗", "邻里互助", "矛盾调解", "平安建设", "孝老爱亲", "文明新风", "其他")
DIVISION_COLUMNS = ("code", "name", "kind", "town", "county")
_DUMMY_HASH = generate_password_hash("not-a-password")


def publicity_name(name: str) -> str:
    """How a person appears on a 公示 list: 王*明, 李*, 欧**娜 (first and last character kept)."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


# -- divisions --------------------------------------------------------------------------------------------------

@dataclass
class DivisionReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[dict] = field(default_factory=list)


def import_divisions(text: str) -> DivisionReport:
    """Rows ``code,name,kind,town,county`` (12-digit 统计用区划代码, kind 村 or 社区); upsert by code; a bad row is
    reported with its line and never stops the good ones."""
    report = DivisionReport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [name for name in DIVISION_COLUMNS if name not in (reader.fieldnames or [])]
    if missing:
        raise ApiError(422, "missing_columns", f"文件缺少列：{'、'.join(missing)}。")
    existing = {row.code: row for row in db.session.scalars(select(Division))}
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        values = {name: (row.get(name) or "").strip() for name in DIVISION_COLUMNS}
        problem = None
        if not (len(values["code"]) == 12 and values["code"].isdigit()):
            problem = "区划代码应为 12 位数字。"
        elif values["kind"] not in DIVISION_KINDS:
            problem = "类型只能为 村 或 社区。"
        elif not values["name"] or len(values["name"]) > 64 or not values["town"] or not values["county"]:
            problem = "名称、镇街和区县不能为空。"
        elif values["code"] in seen:
            problem = "区划代码在文件中重复。"
        if problem:
            report.rejected.append({"line": line, "code": values["code"][:12], "message": problem})
            continue
        seen.add(values["code"])
        division = existing.get(values["code"])
        if division is None:
            db.session.add(Division(**values))
            report.added += 1
        elif any(getattr(division, name) != values[name] for name in DIVISION_COLUMNS):
            for name in DIVISION_COLUMNS:
                setattr(division, name, values[name])
            report.updated += 1
        else:
            report.unchanged += 1
    db.session.commit()
    return report


# -- schemes and rulebooks --------------------------------------------------------------------------------------

def create_scheme(division_code: str, name: str | None = None, publicity_days: int = 5) -> Scheme:
    division = db.session.scalar(select(Division).where(Division.code == division_code))
    if division is None:
        raise ApiError(404, "division_not_found", "未找到该村（社区）的区划代码，请先导入区划。")
    if db.session.scalar(select(Scheme.id).where(Scheme.division_id == division.id)) is not None:
        raise ApiError(409, "scheme_exists", "该村（社区）已建立积分制度。")
    if not 1 <= publicity_days <= 30:
        raise ApiError(422, "invalid_publicity_days", "公示期应为 1 到 30 天。")
    suffix = "文明积分" if division.kind == "村" else "信用积分"
    scheme = Scheme(division=division, name=name or f"{division.name}{suffix}", publicity_days=publicity_days)
    db.session.add(scheme)
    db.session.flush()
    return scheme


def get_scheme(ref: str) -> Scheme:
    scheme = db.session.scalar(select(Scheme).where(Scheme.ref == ref))
    if scheme is None:
        raise ApiError(404, "scheme_not_found", "未找到该村（社区）积分制度。")
    return scheme


def list_schemes() -> list[Scheme]:
    return list(db.session.scalars(select(Scheme).join(Division).order_by(Division.code)))


def propose_rulebook(scheme: Scheme, adopted_on: date, adopted_by: str, items: list[dict]) -> Rulebook:
    """A new version of the scheme's rulebook, as adopted by its 村民会议 / 居民会议; it waits for staff approval."""
    if not items:
        raise ApiError(422, "rulebook_empty", "积分细则至少要有一个项目。")
    codes = [item["code"] for item in items]
    if len(set(codes)) != len(codes):
        raise ApiError(422, "duplicate_item_code", "积分项目编号不能重复。")
    for item in items:
        if item["category"] not in CATEGORIES:
            raise ApiError(422, "unknown_category", f"积分类别只能是：{'、'.join(CATEGORIES)}。")
        if item["points"] == 0:
            raise ApiError(422, "zero_points", "积分项目的分值不能为 0。")
        if item.get("cap_period", "month") not in CAP_PERIODS:
            raise ApiError(422, "invalid_cap_period", "上限周期只能为 月、季度 或 年。")
    version = (db.session.scalar(select(func.max(Rulebook.version)).where(Rulebook.scheme_id == scheme.id)) or 0) + 1
    rulebook = Rulebook(scheme_id=scheme.id, version=version, adopted_on=adopted_on, adopted_by=adopted_by)
    db.session.add(rulebook)
    db.session.flush()
    for item in items:
        db.session.add(RuleItem(rulebook_id=rulebook.id, code=item["code"], name=item["name"],
                                category=item["category"], points=item["points"], unit=item.get("unit") or "次",
                                cap_points=item.get("cap_points"), cap_period=item.get("cap_period") or "month",
                                evidence_required=bool(item.get("evidence_required"))))
    audit.log(None, "community.rulebook.propose", "提交积分细则（村规民约 / 社区公约）",
              {"scheme": scheme.ref, "version": version, "adopted_by": adopted_by, "items": len(items)})
    db.session.flush()
    return rulebook


def get_rulebook(ref: str) -> Rulebook:
    rulebook = db.session.scalar(select(Rulebook).where(Rulebook.ref == ref))
    if rulebook is None:
        raise ApiError(404, "rulebook_not_found", "未找到该积分细则。")
    return rulebook


def decide_rulebook(rulebook: Rulebook, approve: bool, staff_username: str) -> Rulebook:
    if rulebook.state != "pending":
        raise ApiError(409, "rulebook_decided", "该积分细则已审批。")
    rulebook.state = "approved" if approve else "rejected"
    rulebook.decided_by, rulebook.decided_at = staff_username, utcnow()
    audit.log(None, "community.rulebook.decide", "审批积分细则",
              {"rulebook": rulebook.ref, "version": rulebook.version, "approved": approve})
    db.session.flush()
    return rulebook


def current_rulebook(scheme_id: int) -> Rulebook | None:
    """The newest approved version: the one entries are made under."""
    return db.session.scalar(select(Rulebook).where(Rulebook.scheme_id == scheme_id, Rulebook.state == "approved")
                             .order_by(Rulebook.version.desc()).limit(1))


def rulebooks_in_state(state: str = "pending") -> list[Rulebook]:
    return list(db.session.scalars(select(Rulebook).where(Rulebook.state == state).order_by(Rulebook.id)))


# -- households, members ---------------------------------------------------------------------------------------

def add_household(scheme: Scheme, name: str, grid: str = "") -> Household:
    household = Household(scheme_id=scheme.id, name=name, grid=grid)
    db.session.add(household)
    db.session.flush()
    return household


def add_member(household: Household, citizen: Citizen, is_head: bool = False) -> Member:
    if db.session.scalar(select(Member.id).where(Member.citizen_id == citizen.id)) is not None:
        raise ApiError(409, "already_member", "该居民已是积分制度成员。")
    member = Member(scheme_id=household.scheme_id, household_id=household.id, citizen_id=citizen.id,
                    is_head=is_head)
    db.session.add(member)
    db.session.flush()
    return member


def member_of_citizen(citizen_id: int) -> Member:
    member = db.session.scalar(select(Member).where(Member.citizen_id == citizen_id))
    if member is None:
        raise ApiError(404, "not_a_member", "您还没有加入所在村（社区）的积分制度，请联系村（社区）网格员。")
    return member


def member_in_scheme(scheme_id: int, ref: str) -> Member:
    member = db.session.scalar(select(Member).where(Member.ref == ref, Member.scheme_id == scheme_id))
    if member is None:
        raise ApiError(404, "member_not_found", "本村（社区）没有该成员。")
    return member


def household_view(member: Member) -> dict:
    household = db.session.get(Household, member.household_id)
    rows = db.session.execute(select(Member, Citizen.name).join(Citizen, Citizen.id == Member.citizen_id)
                              .where(Member.household_id == household.id).order_by(Member.is_head.desc(),
                                                                                   Member.id)).all()
    return {"ref": household.ref, "name": household.name, "grid": household.grid,
            "balance": sum(row.Member.balance for row in rows),
            "show_on_honour_board": household.show_on_honour_board,
            "members": [{"ref": row.Member.ref, "name": row.name if row.Member.id == member.id
                         else publicity_name(row.name), "is_head": row.Member.is_head,
                         "balance": row.Member.balance} for row in rows]}


def set_honour_board(member: Member, show: bool, household_too: bool = False) -> None:
    """Opt in (or out) of the 红榜; the head may opt the household in."""
    member.show_on_honour_board = show
    if household_too:
        if not member.is_head:
            raise ApiError(403, "not_household_head", "只有户主可以设置本户是否上红榜。")
        db.session.get(Household, member.household_id).show_on_honour_board = show
    audit.log(member.citizen_id, "community.honour_board", "设置是否上红榜", {"show": show,
                                                                          "household": household_too})
    db.session.commit()


# -- desk accounts ---------------------------------------------------------------------------------------------

def create_worker(scheme: Scheme, username: str, password: str, role: str, display_name: str, grid: str = "",
                  citizen: Citizen | None = None) -> Worker:
    if role not in WORKER_ROLES:
        raise ValueError(f"role must be one of {WORKER_ROLES}")
    if len(password) < 10:
        raise ValueError("password must be at least 10 characters")
    for model in (StaffUser, DepartmentUser, Worker):
        if db.session.scalar(select(model.id).where(model.username == username)) is not None:
            raise ValueError(f"username {username} is taken")
    worker = Worker(scheme_id=scheme.id, username=username, password_hash=generate_password_hash(password),
                    role=role, display_name=display_name, grid=grid, citizen_id=citizen.id if citizen else None)
    db.session.add(worker)
    db.session.flush()
    return worker


def is_worker_username(username: str) -> bool:
    return db.session.scalar(select(Worker.id).where(Worker.username == username)) is not None


def authenticate_worker(username: str, password: str) -> Worker | None:
    """The active desk account with this username and password, or None; the console's lockout applies (a 429
    ``login_locked`` once the failures budget of the username or the address is spent)."""
    config = current_app.config
    limits = [(config["LOGIN_FAILURES_PER_USER"], ("points-login-user", digest(username.casefold()))),
              (config["LOGIN_FAILURES_PER_ADDRESS"], ("login-address", ratelimit.client_ip()))]
    for limit, keys in limits:
        ratelimit.check(limit, LOGIN_LOCKED, *keys)
    worker = db.session.scalar(select(Worker).where(Worker.username == username))
    if worker is None:
        check_password_hash(_DUMMY_HASH, password)
    if worker is None or not check_password_hash(worker.password_hash, password) or not worker.active:
        for limit, keys in limits:
            ratelimit.count(limit, *keys)
        return None
    ratelimit.clear(limits[0][0], *limits[0][1])
    return worker


def active_worker(worker_id: int) -> Worker | None:
    worker = db.session.get(Worker, worker_id)
    return worker if worker is not None and worker.active else None


def scheme_name(worker: Worker) -> str:
    return db.session.get(Scheme, worker.scheme_id).name


def require_role(worker: Worker, *roles: str) -> None:
    if worker.role != "manager" and worker.role not in roles:
        raise ApiError(403, "role_forbidden", "您的岗位不能进行此操作。")


# -- views shared by the API and the console -------------------------------------------------------------------

def scheme_view(scheme) -> dict:
    division = scheme.division
    return {"ref": scheme.ref, "name": scheme.name, "kind": division.kind, "division_code": division.code,
            "county": division.county, "town": division.town, "publicity_days": scheme.publicity_days}


def rulebook_view(rulebook: Rulebook) -> dict:
    scheme = db.session.get(Scheme, rulebook.scheme_id)
    return {"ref": rulebook.ref, "scheme": scheme.name, "version": rulebook.version,
            "adopted_on": rulebook.adopted_on, "adopted_by": rulebook.adopted_by, "state": rulebook.state,
            "items": rulebook.items}
