"""The 信易+ catalog: scenes, merchants of the 信用惠民联盟, their branches and terminals, and offers."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from app import local_cache
from app.errors import ApiError
from app.extensions import db
from app.paging import Page, paginate
from app.security.secrets_util import digest, new_secret
from app.timeutil import utcnow
from benefits.models import Branch, Merchant, Offer, Scene, Terminal
from benefits.uscc import InvalidUscc, normalise_uscc

# Terminals and offers as verification reads them, cached per process (app/local_cache.py); every change below
# clears it so this process applies the change at once.
VERIFICATION_CACHE = "benefits.verification"

# The 13 scenes of the plan (seed 000, 专栏6). Migration 0003 inserts the same rows into every database;
# ensure_default_scenes() restores any that are missing (tests wipe tables; a restored backup may lack them).
DEFAULT_SCENES: tuple[tuple[str, str, str, str], ...] = (
    ("pi", "信易批", "为守信主体提供容缺受理便利服务", "government"),
    ("guan", "信易管", "在行政监管中降低守信主体抽查比例、抽查频次", "government"),
    ("yue", "信易阅", "延长守信主体图书借阅时间、增加图书借阅数量", "alliance"),
    ("yi", "信易医", "提高守信主体的“医后付”额度", "alliance"),
    ("you", "信易游", "为守信主体提供旅游景点门票优惠", "alliance"),
    ("gou", "信易购", "为守信主体提供购物优惠、信用消费", "alliance"),
    ("dai", "信易贷", "为守信主体提供信用贷款、延长贷款期限、提高贷款额度", "alliance"),
    ("zu", "信易租", "为守信主体提供房屋、设备等免押租赁、降低租赁费用", "alliance"),
    ("xing", "信易行", "为守信主体提供公交车、地铁乘坐折扣、公共自行车免押租赁", "alliance"),
    ("ting", "信易停", "为守信主体提供停车优惠", "alliance"),
    ("bao", "信易保", "为守信主体提供保险优惠", "alliance"),
    ("jian", "信易健", "为守信主体提供校园健身便利、付费健身场馆优惠", "alliance"),
    ("yu", "信易娱", "为守信主体提供娱乐场所消费优惠", "alliance"),
)


# -- scenes ---------------------------------------------------------------------------------------------

def ensure_default_scenes() -> int:
    """Insert whichever of the 13 default scenes are missing; returns how many were added."""
    rows = [{"code": code, "name": name, "description": description, "provider": provider,
             "sort_order": (index + 1) * 10, "active": True, "created_at": utcnow()}
            for index, (code, name, description, provider) in enumerate(DEFAULT_SCENES)]
    module = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    result = db.session.execute(module.insert(Scene).values(rows).on_conflict_do_nothing(index_elements=["code"]))
    db.session.commit()
    return max(result.rowcount or 0, 0)


def list_scenes(include_inactive: bool = False) -> list[Scene]:
    stmt = select(Scene).order_by(Scene.sort_order, Scene.id)
    if not include_inactive:
        stmt = stmt.where(Scene.active.is_(True))
    return list(db.session.scalars(stmt))


def get_scene(code: str) -> Scene:
    scene = db.session.scalar(select(Scene).where(Scene.code == code))
    if scene is None:
        raise ApiError(404, "scene_not_found", "没有这个信易+场景。")
    return scene


def create_scene(code: str, name: str, description: str = "", provider: str = "alliance",
                 sort_order: int | None = None) -> Scene:
    if db.session.scalar(select(Scene.id).where((Scene.code == code) | (Scene.name == name))):
        raise ApiError(409, "scene_exists", "已有相同代码或名称的场景。")
    if sort_order is None:
        sort_order = (db.session.scalar(select(func.max(Scene.sort_order))) or 0) + 10
    scene = Scene(code=code, name=name, description=description, provider=provider, sort_order=sort_order)
    db.session.add(scene)
    db.session.flush()
    return scene


def update_scene(code: str, changes: dict) -> Scene:
    scene = get_scene(code)
    if "name" in changes and changes["name"] != scene.name and db.session.scalar(
            select(Scene.id).where(Scene.name == changes["name"])):
        raise ApiError(409, "scene_exists", "已有相同名称的场景。")
    for name, value in changes.items():
        setattr(scene, name, value)
    db.session.flush()
    return scene


def _scenes_by_code(codes: list[str]) -> list[Scene]:
    scenes = list(db.session.scalars(select(Scene).where(Scene.code.in_(codes)))) if codes else []
    missing = sorted(set(codes) - {scene.code for scene in scenes})
    if missing:
        raise ApiError(422, "scene_not_found", "没有这些信易+场景：" + "、".join(missing),
                       {"scenes": [f"未知场景：{code}" for code in missing]})
    return scenes


# -- merchants, branches, terminals -----------------------------------------------------------------------

def _valid_uscc(value: str) -> str:
    try:
        return normalise_uscc(value)
    except InvalidUscc as error:
        raise ApiError(422, "invalid_uscc", error.message, {"uscc": [error.message]}) from None


def create_merchant(name: str, uscc: str, scene_codes: list[str], status: str = "active") -> Merchant:
    code = _valid_uscc(uscc)
    if db.session.scalar(select(Merchant.id).where(Merchant.uscc == code)):
        raise ApiError(409, "merchant_exists", "该统一社会信用代码的商户已加入信用惠民联盟。")
    merchant = Merchant(name=name.strip(), uscc=code, status=status, scenes=_scenes_by_code(scene_codes))
    db.session.add(merchant)
    db.session.flush()
    return merchant


def get_merchant(ref: str) -> Merchant:
    merchant = db.session.scalar(select(Merchant).where(Merchant.ref == ref))
    if merchant is None:
        raise ApiError(404, "merchant_not_found", "未找到该商户。")
    return merchant


def list_merchants(page: int, per_page: int, scene: str | None = None, status: str | None = None,
                   q: str | None = None) -> Page:
    stmt = select(Merchant).order_by(Merchant.id)
    if scene:
        stmt = stmt.where(Merchant.scenes.any(Scene.code == scene))
    if status:
        stmt = stmt.where(Merchant.status == status)
    if q:
        stmt = stmt.where(Merchant.name.contains(q, autoescape=True))
    return paginate(stmt, page, per_page)


def update_merchant(ref: str, changes: dict) -> Merchant:
    merchant = get_merchant(ref)
    if "scenes" in changes:
        merchant.scenes = _scenes_by_code(changes.pop("scenes"))
    for name, value in changes.items():
        setattr(merchant, name, value.strip() if isinstance(value, str) else value)
    db.session.flush()
    local_cache.forget(VERIFICATION_CACHE, db.session())
    return merchant


def add_branch(merchant: Merchant, name: str, address: str | None = None, lat: float | None = None,
               lng: float | None = None) -> Branch:
    """A branch; ``lat``/``lng`` GCJ-02, both or neither (the schemas check it)."""
    branch = Branch(merchant=merchant, name=name.strip(), address=address, lat=lat, lng=lng)
    db.session.add(branch)
    db.session.flush()
    return branch


def get_branch(merchant: Merchant, ref: str) -> Branch:
    branch = db.session.scalar(select(Branch).where(Branch.ref == ref, Branch.merchant_id == merchant.id))
    if branch is None:
        raise ApiError(404, "branch_not_found", "该商户没有这个门店。")
    return branch


def update_branch(merchant: Merchant, ref: str, changes: dict) -> Branch:
    branch = get_branch(merchant, ref)
    for name, value in changes.items():
        setattr(branch, name, value)
    db.session.flush()
    local_cache.forget(VERIFICATION_CACHE, db.session())
    return branch


def branch_names(branch_ids: set[int]) -> dict[int, str]:
    """Names of branches by id (for the trail a citizen reads); unknown or deleted ones are left out."""
    if not branch_ids:
        return {}
    rows = db.session.execute(select(Branch.id, Branch.name).where(Branch.id.in_(branch_ids)))
    return {row.id: row.name for row in rows}


def issue_terminal(merchant: Merchant, name: str, branch_ref: str | None = None) -> tuple[Terminal, str]:
    """A new scanner account; the key is returned this once (only its digest is kept)."""
    branch = get_branch(merchant, branch_ref) if branch_ref else None
    key = new_secret("mk")
    terminal = Terminal(merchant=merchant, branch=branch, name=name.strip(), key_digest=digest(key))
    db.session.add(terminal)
    db.session.flush()
    return terminal, key


def get_terminal(merchant: Merchant, ref: str) -> Terminal:
    terminal = db.session.scalar(select(Terminal).where(Terminal.ref == ref, Terminal.merchant_id == merchant.id))
    if terminal is None:
        raise ApiError(404, "terminal_not_found", "该商户没有这个终端。")
    return terminal


def revoke_terminal(merchant: Merchant, ref: str) -> Terminal:
    terminal = get_terminal(merchant, ref)
    if terminal.revoked_at is None:
        terminal.revoked_at = utcnow()
        db.session.flush()
        local_cache.forget(VERIFICATION_CACHE, db.session())
    return terminal


def terminals_of(merchant: Merchant) -> list[Terminal]:
    return list(db.session.scalars(select(Terminal).where(Terminal.merchant_id == merchant.id)
                                   .order_by(Terminal.id)))


# -- offers -------------------------------------------------------------------------------------------------

OFFER_FIELDS = ("title", "description", "min_level", "min_score", "partner_allowed", "partner_min_level",
                "limit_per_day", "limit_per_month", "limit_total", "quota", "valid_from", "valid_until", "status")


def get_offer(ref: str) -> Offer:
    offer = db.session.scalar(select(Offer).where(Offer.ref == ref))
    if offer is None:
        raise ApiError(404, "offer_not_found", "未找到该权益。")
    return offer


def _check_offer(offer: Offer) -> None:
    if offer.valid_from and offer.valid_until and offer.valid_until < offer.valid_from:
        raise ApiError(422, "invalid_validity", "有效期的结束日期不能早于开始日期。",
                       {"valid_until": ["结束日期不能早于开始日期。"]})
    if offer.partner_allowed and offer.partner_min_level is None:
        offer.partner_min_level = offer.min_level
    if not offer.partner_allowed:
        offer.partner_min_level = None
    redeemed = offer.redeemed_count or 0
    if offer.quota is not None and offer.quota < redeemed:
        raise ApiError(409, "quota_below_redeemed", f"总名额不能少于已核销的 {redeemed} 次。",
                       {"quota": [f"不能少于已核销的 {redeemed} 次。"]})
    if offer.scene not in offer.merchant.scenes:
        raise ApiError(422, "scene_not_of_merchant", f"该商户未加入“{offer.scene.name}”场景，请先为商户添加该场景。",
                       {"scene": ["商户未加入该场景。"]})


def _branches_for(merchant: Merchant, refs: list[str]) -> list[Branch]:
    return [get_branch(merchant, ref) for ref in dict.fromkeys(refs)]


def create_offer(data: dict) -> Offer:
    merchant = get_merchant(data["merchant_id"])
    offer = Offer(merchant=merchant, scene=get_scene(data["scene"]),
                  branches=_branches_for(merchant, data.get("branch_ids") or []),
                  **{name: data[name] for name in OFFER_FIELDS if name in data})
    _check_offer(offer)
    db.session.add(offer)
    db.session.flush()
    return offer


def update_offer(ref: str, changes: dict) -> Offer:
    offer = get_offer(ref)
    if "scene" in changes:
        offer.scene = get_scene(changes.pop("scene"))
    if "branch_ids" in changes:
        offer.branches = _branches_for(offer.merchant, changes.pop("branch_ids") or [])
    for name, value in changes.items():
        setattr(offer, name, value)
    _check_offer(offer)
    db.session.flush()
    local_cache.forget(VERIFICATION_CACHE, db.session())
    return offer


def list_offers(page: int, per_page: int, merchant_ref: str | None = None, scene: str | None = None,
                status: str | None = None) -> Page:
    stmt = select(Offer).order_by(Offer.id)
    if merchant_ref:
        stmt = stmt.where(Offer.merchant.has(Merchant.ref == merchant_ref))
    if scene:
        stmt = stmt.where(Offer.scene.has(Scene.code == scene))
    if status:
        stmt = stmt.where(Offer.status == status)
    return paginate(stmt, page, per_page)


def offer_state(offer: Offer, today: date) -> str:
    """active, paused (by staff or with its merchant), not_yet_valid or ended."""
    if offer.status != "active" or offer.merchant.status != "active":
        return "paused"
    if offer.valid_from and today < offer.valid_from:
        return "not_yet_valid"
    if offer.valid_until and today > offer.valid_until:
        return "ended"
    return "active"
