"""Read-only aggregates of the redemption ledger for the console's dashboard (cancelled redemptions excluded)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from app.extensions import db
from benefits.models import Offer, Redemption, Scene


def _in_range(date_from: date, date_to: date):
    return (Redemption.city_day >= date_from, Redemption.city_day <= date_to, Redemption.cancelled_at.is_(None))


def redemptions_by_scene(date_from: date, date_to: date) -> dict:
    """Redemptions per scene in the range (city days), every active scene listed, most used first."""
    counts = dict(db.session.execute(
        select(Offer.scene_id, func.count(Redemption.id)).join(Offer, Offer.id == Redemption.offer_id)
        .where(*_in_range(date_from, date_to)).group_by(Offer.scene_id)
    ).all())
    scenes = db.session.execute(select(Scene.id, Scene.code, Scene.name, Scene.active, Scene.sort_order)).all()
    rows = [{"scene": code, "name": name, "count": int(counts.get(scene_id, 0))}
            for scene_id, code, name, active, _ in sorted(scenes, key=lambda s: (s.sort_order, s.id))
            if active or counts.get(scene_id)]
    rows.sort(key=lambda row: -row["count"])
    return {"from": date_from.isoformat(), "to": date_to.isoformat(), "scenes": rows}


def redemptions_by_day(date_from: date, date_to: date) -> dict:
    """Redemptions per city day in the range, days without any included as 0."""
    counts = dict(db.session.execute(
        select(Redemption.city_day, func.count(Redemption.id)).where(*_in_range(date_from, date_to))
        .group_by(Redemption.city_day)
    ).all())
    days = [date_from + timedelta(days=offset) for offset in range((date_to - date_from).days + 1)]
    return {"from": date_from.isoformat(), "to": date_to.isoformat(),
            "days": [day.isoformat() for day in days], "counts": [int(counts.get(day, 0)) for day in days]}
