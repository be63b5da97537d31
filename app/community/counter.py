"""以积分换服务: the 积分超市 catalog, a member's redeem code, and the counter that spends it exactly once.

The guarantees are those of a merchant verification (benefits/verification.py): the code is claimed with a
key-value ``SET NX`` (two counters scanning at once: one wins), and the database has the last word — the
redemption row moves issued → redeemed with a conditional UPDATE and the spending entry's idempotency key is the
code (unique). Stock and balance move by conditional UPDATEs (``stock >= 1``, ``balance >= price``), so neither
can go negative whatever runs beside it.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.audit import service as audit
from app.community.models import CatalogItem, Entry, Member, Redemption, Scheme, Worker
from app.community.service import member_of_citizen, require_role
from app.errors import ApiError
from app.extensions import db, kv
from app.timeutil import city_today, utcnow

CODE_PREFIX = "JF"  # a counter's scanner routes a 积分 code by it
_CODE_DIGITS = 10


def add_item(scheme: Scheme, name: str, kind: str, price: int, stock: int | None) -> CatalogItem:
    if kind not in ("goods", "service"):
        raise ApiError(422, "invalid_kind", "类型只能为 商品 或 服务。")
    if price <= 0 or (stock is not None and stock < 0):
        raise ApiError(422, "invalid_price_or_stock", "积分价格应大于 0，库存不能为负数。")
    item = CatalogItem(scheme_id=scheme.id, name=name, kind=kind, price=price, stock=stock)
    db.session.add(item)
    db.session.flush()
    return item


def catalog(scheme_id: int, active_only: bool = True) -> list[CatalogItem]:
    stmt = select(CatalogItem).where(CatalogItem.scheme_id == scheme_id).order_by(CatalogItem.price, CatalogItem.id)
    if active_only:
        stmt = stmt.where(CatalogItem.active.is_(True))
    return list(db.session.scalars(stmt))


def _item_in_scheme(scheme_id: int, ref: str) -> CatalogItem:
    item = db.session.scalar(select(CatalogItem).where(CatalogItem.ref == ref))
    if item is None or not item.active:
        raise ApiError(404, "catalog_item_not_found", "未找到该兑换项目。")
    if item.scheme_id != scheme_id:
        raise ApiError(422, "item_of_other_scheme", "该兑换项目不属于您所在村（社区）的积分超市。")
    return item


def restock(worker: Worker, item_ref: str, delta: int) -> CatalogItem:
    require_role(worker, "counter")
    item = _item_in_scheme(worker.scheme_id, item_ref)
    if item.stock is None:
        raise ApiError(422, "no_stock_kept", "服务类项目不记库存。")
    changed = db.session.execute(update(CatalogItem).where(CatalogItem.id == item.id,
                                                           CatalogItem.stock + delta >= 0)
                                 .values(stock=CatalogItem.stock + delta)).rowcount
    if not changed:
        db.session.rollback()
        raise ApiError(409, "out_of_stock", "库存不足，不能减到负数。")
    audit.log(None, "community.catalog.restock", "积分超市调整库存", {"item": item.ref, "delta": delta})
    db.session.commit()
    db.session.refresh(item)
    return item


def issue_code(citizen_id: int, item_ref: str) -> Redemption:
    """The member picks an item; the code they show at the counter names it. Enough points and stock are checked
    now (to save a wasted trip) and again, atomically, when the code is spent."""
    member = member_of_citizen(citizen_id)
    item = _item_in_scheme(member.scheme_id, item_ref)
    if member.balance < item.price:
        raise ApiError(409, "not_enough_points", f"积分不足：需要 {item.price} 分，您现有 {member.balance} 分。")
    if item.stock is not None and item.stock < 1:
        raise ApiError(409, "out_of_stock", "该项目已兑完，请选择其他项目。")
    ttl = current_app.config.get("COMMUNITY_CODE_TTL_SECONDS", 600)
    redemption = Redemption(code=CODE_PREFIX + "".join(secrets.choice("0123456789") for _ in range(_CODE_DIGITS)),
                            scheme_id=member.scheme_id, member_id=member.id, catalog_item_id=item.id,
                            price=item.price, expires_at=utcnow() + timedelta(seconds=ttl))
    db.session.add(redemption)
    db.session.commit()
    return redemption


def _refuse(status: int, code: str, message: str, claim_key: str | None = None):
    db.session.rollback()
    if claim_key:
        kv.delete(claim_key)  # refused: the code is still the member's to use
    raise ApiError(status, code, message)


def redeem(worker: Worker, code: str) -> dict:
    """The counter scans (or types) a member's code: spends it once, or refuses with a reason."""
    require_role(worker, "counter")
    code = (code or "").strip().upper()
    redemption = db.session.scalar(select(Redemption).where(Redemption.code == code))
    if redemption is None or redemption.scheme_id != worker.scheme_id:
        raise ApiError(404, "code_not_found", "兑换码无效，请让居民重新出示。")
    if redemption.state == "redeemed":
        raise ApiError(409, "code_used", "该兑换码已使用。")
    now = utcnow()
    if redemption.expires_at <= now:
        raise ApiError(410, "code_expired", "兑换码已过期，请让居民重新生成。")
    claim_key = f"community:code:{code}"
    ttl = int((redemption.expires_at - now).total_seconds()) + 120
    if not kv.set(claim_key, worker.ref, nx=True, ex=ttl):
        raise ApiError(409, "code_used", "该兑换码已使用。")
    try:
        claimed = db.session.execute(update(Redemption).where(Redemption.id == redemption.id,
                                                              Redemption.state == "issued")
                                     .values(state="redeemed", redeemed_at=now, redeemed_by_id=worker.id)).rowcount
        if not claimed:
            _refuse(409, "code_used", "该兑换码已使用。")
        item_id, member_id, price = redemption.catalog_item_id, redemption.member_id, redemption.price
        if not db.session.execute(update(CatalogItem).where(
                CatalogItem.id == item_id, CatalogItem.active.is_(True),
                (CatalogItem.stock.is_(None)) | (CatalogItem.stock >= 1))
                .values(stock=CatalogItem.stock - 1)).rowcount:
            _refuse(409, "out_of_stock", "该项目库存不足，本次未扣积分。", claim_key)
        if not db.session.execute(update(Member).where(Member.id == member_id, Member.balance >= price)
                                  .values(balance=Member.balance - price)).rowcount:
            _refuse(409, "not_enough_points", "居民积分不足，本次未兑换。", claim_key)
        today = city_today()
        entry = Entry(scheme_id=worker.scheme_id, member_id=member_id, catalog_item_id=item_id, kind="spend",
                      points=-price, occurred_on=today, period=f"{today.year}", state="posted", posted_at=now,
                      entered_by_id=worker.id, idempotency_key=f"redeem:{code}")
        db.session.add(entry)
        db.session.flush()
        db.session.execute(update(Redemption).where(Redemption.id == redemption.id).values(entry_id=entry.id))
        member = db.session.get(Member, member_id)
        item = db.session.get(CatalogItem, item_id)
        audit.log(member.citizen_id, "community.redeem", "积分超市兑换",
                  {"code": redemption.ref, "item": item.name, "points": price, "counter": worker.username})
        db.session.commit()
    except IntegrityError:
        # The spending row exists although the key-value store had forgotten the claim: the database decides.
        db.session.rollback()
        raise ApiError(409, "code_used", "该兑换码已使用。") from None
    except ApiError:
        raise
    except Exception:
        db.session.rollback()
        kv.delete(claim_key)
        raise
    return {"redemption": redemption.ref, "item": item.name, "points": price, "balance": member.balance,
            "stock": item.stock}
