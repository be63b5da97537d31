"""What each party sees: a citizen's offers and redemptions, a merchant's totals, staff's view of everything."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.citizens.models import Citizen
from app.citizens.service import has_consent
from app.extensions import db
from app.paging import Page, paginate
from app.scoring import service as scoring
from app.timeutil import CITY_TZ, city_today
from benefits import credit_code, geo
from benefits.catalog import get_scene
from benefits.models import Attempt, Branch, Merchant, Offer, Redemption, Scene
from benefits.verification import CANCEL_WINDOW

LACK_MESSAGES = {
    "no_scoring_consent": "开启信用评分授权后才能享受信易+权益。",
    "score_not_ready": "信用分正在计算中，请稍后再看。",
    "restricted": "信用等级为“受限”时不能享受信易+权益，履行义务后可申请信用修复。",
    "not_yet_valid": "权益尚未开始，{date} 起可用。",
    "level": "需要信用等级“{need}”及以上，您目前为“{have}”。",
    "score": "需要信用分 {need} 分及以上，您目前为 {have} 分。",
    "limit_day": "今天已使用过，明天可再次使用。",
    "limit_month": "本月使用次数已满，下月可再次使用。",
    "limit_total": "您已用完该权益的全部次数。",
    "quota_gone": "名额已领完。",
}


def _lack(code: str, **values) -> dict:
    return {"code": code, "message": LACK_MESSAGES[code].format(**values)}


def _usage_by_offer(citizen_id: int, today: date) -> dict[int, tuple[int, int, int]]:
    rows = db.session.execute(
        select(Redemption.offer_id,
               func.sum(case((Redemption.city_day == today, 1), else_=0)),
               func.sum(case((Redemption.city_day >= today.replace(day=1), 1), else_=0)),
               func.count())
        .where(Redemption.citizen_id == citizen_id, Redemption.cancelled_at.is_(None))
        .group_by(Redemption.offer_id)
    ).all()
    return {row[0]: (int(row[1] or 0), int(row[2] or 0), int(row[3])) for row in rows}


def _branches_near(branches, near: tuple[float, float] | None) -> list[dict]:
    """The offer's open branches, each with its distance from ``near`` (None without a location or coordinates),
    nearest first when there is a location."""
    views = [{"branch_id": b.ref, "name": b.name, "address": b.address, "lat": b.lat, "lng": b.lng,
              "distance_m": geo.distance_m(near[0], near[1], b.lat, b.lng)
              if near is not None and b.lat is not None and b.lng is not None else None}
             for b in branches if b.active]
    if near is not None:
        views.sort(key=lambda view: (view["distance_m"] is None, view["distance_m"] or 0))
    return views


def offers_for(citizen: Citizen, scene_code: str | None = None, near: tuple[float, float] | None = None) -> dict:
    """Offers the citizen qualifies for now, and the others with what they lack (ended offers are left out).
    With ``near`` (lat, lng, GCJ-02) each list runs from the offer with the nearest branch to the farthest, offers
    without located branches last, and every offer says its nearest branch and the distance."""
    today = city_today()
    rules = scoring.rules()
    consent = has_consent(citizen.id, "scoring")
    score = scoring.current_score(citizen) if consent else None
    stmt = (select(Offer).join(Merchant, Merchant.id == Offer.merchant_id).join(Scene, Scene.id == Offer.scene_id)
            .where(Offer.status == "active", Merchant.status == "active", Scene.active.is_(True),
                   or_(Offer.valid_until.is_(None), Offer.valid_until >= today))
            .options(joinedload(Offer.merchant), joinedload(Offer.scene), selectinload(Offer.branches))
            .order_by(Scene.sort_order, Offer.id))
    if scene_code:
        get_scene(scene_code)  # an unknown scene is a 404, not an empty list
        stmt = stmt.where(Scene.code == scene_code)
    usage = _usage_by_offer(citizen.id, today)
    qualified, others = [], []
    for offer in db.session.scalars(stmt).unique():
        day, month, total = usage.get(offer.id, (0, 0, 0))
        lacks = []
        if offer.valid_from and today < offer.valid_from:
            lacks.append(_lack("not_yet_valid", date=offer.valid_from.isoformat()))
        if not consent:
            lacks.append(_lack("no_scoring_consent"))
        elif score is None:
            lacks.append(_lack("score_not_ready"))
        elif score.level == 0:
            lacks.append(_lack("restricted"))
        else:
            if score.level < offer.min_level:
                lacks.append(_lack("level", need=rules.level_name(offer.min_level),
                                   have=rules.level_name(score.level)))
            if offer.min_score is not None and score.total < offer.min_score:
                lacks.append(_lack("score", need=offer.min_score, have=score.total))
        for code, limit, used in (("limit_day", offer.limit_per_day, day),
                                  ("limit_month", offer.limit_per_month, month),
                                  ("limit_total", offer.limit_total, total)):
            if limit is not None and used >= limit:
                lacks.append(_lack(code))
        if offer.quota is not None and offer.redeemed_count >= offer.quota:
            lacks.append(_lack("quota_gone"))
        view = {
            "offer_id": offer.ref, "title": offer.title, "description": offer.description,
            "scene": {"code": offer.scene.code, "name": offer.scene.name},
            "merchant_name": offer.merchant.name,
            "min_level": offer.min_level, "min_level_name": rules.level_name(offer.min_level),
            "min_score": offer.min_score,
            "limits": {"per_day": offer.limit_per_day, "per_month": offer.limit_per_month, "total": offer.limit_total},
            "used": {"today": day, "this_month": month, "total": total},
            "quota_left": None if offer.quota is None else max(offer.quota - offer.redeemed_count, 0),
            "valid_from": offer.valid_from, "valid_until": offer.valid_until,
            "branches": _branches_near(offer.branches or offer.merchant.branches, near),
            "eligible": not lacks, "lacks": lacks,
        }
        nearest = view["branches"][0] if view["branches"] and view["branches"][0]["distance_m"] is not None else None
        view["distance_m"] = nearest["distance_m"] if nearest else None
        view["nearest_branch"] = nearest["name"] if nearest else None
        (others if lacks else qualified).append(view)
    if near is not None:
        def by_distance(view):
            return (view["distance_m"] is None, view["distance_m"] or 0)

        qualified.sort(key=by_distance)
        others.sort(key=by_distance)
    return {
        "level": score.level if score else None,
        "level_name": rules.level_name(score.level) if score else None,
        "qualified": qualified,
        "others": others,
    }


def _redemption_rows(stmt):
    return (stmt.join(Offer, Offer.id == Redemption.offer_id)
            .join(Merchant, Merchant.id == Redemption.merchant_id)
            .join(Branch, Branch.id == Redemption.branch_id)
            .join(Scene, Scene.id == Offer.scene_id))


def _redemption_view(row) -> dict:
    return {
        "redemption_id": row.ref, "offer_id": row.offer_ref, "offer_title": row.title, "scene_name": row.scene_name,
        "merchant_name": row.merchant_name, "branch_name": row.branch_name, "redeemed_at": row.redeemed_at,
        "status": "cancelled" if row.cancelled_at else "redeemed", "cancelled_at": row.cancelled_at,
    }


_VIEW_COLUMNS = (Redemption.ref, Offer.ref.label("offer_ref"), Offer.title, Scene.name.label("scene_name"),
                 Merchant.name.label("merchant_name"), Branch.name.label("branch_name"), Redemption.redeemed_at,
                 Redemption.cancelled_at)


def redemptions(page: int, per_page: int, *, citizen_id: int | None = None, merchant_id: int | None = None,
                merchant_ref: str | None = None, offer_ref: str | None = None, redemption_ref: str | None = None,
                terminal_id: int | None = None, date_from: date | None = None,
                date_to: date | None = None) -> Page:
    """Newest first; never names the citizen (a caller that may see who redeemed asks per citizen)."""
    stmt = _redemption_rows(select(*_VIEW_COLUMNS))
    if terminal_id is not None:
        stmt = stmt.where(Redemption.terminal_id == terminal_id)
    if citizen_id is not None:
        stmt = stmt.where(Redemption.citizen_id == citizen_id)
    if merchant_id is not None:
        stmt = stmt.where(Redemption.merchant_id == merchant_id)
    if merchant_ref:
        stmt = stmt.where(Merchant.ref == merchant_ref)
    if offer_ref:
        stmt = stmt.where(Offer.ref == offer_ref)
    if redemption_ref:
        stmt = stmt.where(Redemption.ref == redemption_ref)
    if date_from:
        stmt = stmt.where(Redemption.city_day >= date_from)
    if date_to:
        stmt = stmt.where(Redemption.city_day <= date_to)
    stmt = stmt.order_by(Redemption.redeemed_at.desc(), Redemption.id.desc())
    result = paginate(stmt, page, per_page, scalars=False)
    return result.with_items([_redemption_view(row) for row in result.items])


def terminal_today(terminal_id: int, limit: int = 100) -> dict:
    """One terminal's redemptions of today (city time), newest first, for the cashier's page: each says until
    when it may still be cancelled (None once cancelled or past the window)."""
    now = datetime.fromtimestamp(credit_code.clock(), UTC)
    today = now.astimezone(CITY_TZ).date()
    page = redemptions(1, limit, terminal_id=terminal_id, date_from=today, date_to=today)
    items, total = page.items, page.total
    for item in items:
        until = item["redeemed_at"] + CANCEL_WINDOW
        item["cancellable_until"] = until if item["status"] == "redeemed" and now < until else None
    return {"day": today, "items": items, "total": total}


def totals(*, merchant_id: int | None = None, merchant_ref: str | None = None, date_from: date | None = None,
           date_to: date | None = None) -> list[dict]:
    """Redemptions (net of cancellations) and cancellations by offer and day."""
    stmt = (select(Redemption.city_day, Offer.ref, Offer.title, Merchant.ref, Merchant.name,
                   func.sum(case((Redemption.cancelled_at.is_(None), 1), else_=0)),
                   func.sum(case((Redemption.cancelled_at.is_not(None), 1), else_=0)))
            .join(Offer, Offer.id == Redemption.offer_id).join(Merchant, Merchant.id == Redemption.merchant_id)
            .group_by(Redemption.city_day, Offer.ref, Offer.title, Merchant.ref, Merchant.name)
            .order_by(Redemption.city_day.desc(), Offer.title))
    if merchant_id is not None:
        stmt = stmt.where(Redemption.merchant_id == merchant_id)
    if merchant_ref:
        stmt = stmt.where(Merchant.ref == merchant_ref)
    if date_from:
        stmt = stmt.where(Redemption.city_day >= date_from)
    if date_to:
        stmt = stmt.where(Redemption.city_day <= date_to)
    return [{"day": day, "offer_id": offer_ref, "offer_title": title, "merchant_id": m_ref, "merchant_name": m_name,
             "redeemed": int(redeemed or 0), "cancelled": int(cancelled or 0)}
            for day, offer_ref, title, m_ref, m_name, redeemed, cancelled in db.session.execute(stmt)]


def attempts_summary(*, merchant_ref: str | None = None, date_from: date | None = None,
                     date_to: date | None = None) -> list[dict]:
    """Verification attempts by day and reason (the ledger of every scan, for staff)."""
    stmt = (select(Attempt.city_day, Attempt.reason, func.count())
            .group_by(Attempt.city_day, Attempt.reason).order_by(Attempt.city_day.desc(), Attempt.reason))
    if merchant_ref:
        stmt = stmt.join(Merchant, Merchant.id == Attempt.merchant_id).where(Merchant.ref == merchant_ref)
    if date_from:
        stmt = stmt.where(Attempt.city_day >= date_from)
    if date_to:
        stmt = stmt.where(Attempt.city_day <= date_to)
    return [{"day": day, "reason": reason, "count": count} for day, reason, count in db.session.execute(stmt)]


def attempts(page: int, per_page: int, *, merchant_ref: str | None = None, reason: str | None = None,
             date_from: date | None = None, date_to: date | None = None) -> Page:
    stmt = (select(Attempt.created_at, Attempt.reason, Attempt.eligible, Merchant.ref.label("merchant_ref"),
                   Merchant.name.label("merchant_name"), Offer.ref.label("offer_ref"), Offer.title,
                   Branch.name.label("branch_name"), Redemption.ref.label("redemption_ref"))
            .join(Merchant, Merchant.id == Attempt.merchant_id)
            .outerjoin(Offer, Offer.id == Attempt.offer_id)
            .outerjoin(Branch, Branch.id == Attempt.branch_id)
            .outerjoin(Redemption, Redemption.id == Attempt.redemption_id)
            .order_by(Attempt.id.desc()))
    if merchant_ref:
        stmt = stmt.where(Merchant.ref == merchant_ref)
    if reason:
        stmt = stmt.where(Attempt.reason == reason)
    if date_from:
        stmt = stmt.where(Attempt.city_day >= date_from)
    if date_to:
        stmt = stmt.where(Attempt.city_day <= date_to)
    result = paginate(stmt, page, per_page, scalars=False)
    return result.with_items([
        {"at": row.created_at, "reason": row.reason, "eligible": row.eligible, "merchant_id": row.merchant_ref,
         "merchant_name": row.merchant_name, "offer_id": row.offer_ref, "offer_title": row.title,
         "branch_name": row.branch_name, "redemption_id": row.redemption_ref} for row in result.items])

