"""What the public, the schemes and city staff see: the opt-in 红榜, every scheme's figures, unusual reviewers."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from app.citizens.models import Citizen
from app.community.models import Division, Entry, Household, Member, Redemption, Scheme, Worker
from app.community.service import publicity_name
from app.extensions import db
from app.timeutil import CITY_TZ, city_today, utcnow

# A reviewer is flagged when, over the window: they approved more than VOLUME_FACTOR × the median of the
# scheme's reviewers (and at least MIN_APPROVALS); or at least OWN_GRID_SHARE of their approvals are of their own
# grid's households; or their TOP_PEOPLE most-approved people take at least TOP_SHARE of their approvals.
WINDOW_DAYS = 90
MIN_APPROVALS = 10
VOLUME_FACTOR = 3
OWN_GRID_SHARE = 0.8
TOP_PEOPLE, TOP_SHARE = 3, 0.5


def honour_board(scheme: Scheme, year: int | None = None, limit: int = 10) -> dict:
    """红榜: the top households and people by the year's posted points, among those who agreed to be shown. There is
    deliberately no list of the lowest."""
    year = year or city_today().year
    points = (select(Entry.member_id, func.sum(Entry.points).label("points"))
              .where(Entry.scheme_id == scheme.id, Entry.state == "posted", Entry.kind != "spend",
                     Entry.occurred_on >= date(year, 1, 1), Entry.occurred_on <= date(year, 12, 31))
              .group_by(Entry.member_id).subquery())
    people = db.session.execute(
        select(Citizen.name, points.c.points).join(Member, Member.id == points.c.member_id)
        .join(Citizen, Citizen.id == Member.citizen_id)
        .where(Member.show_on_honour_board.is_(True), points.c.points > 0)
        .order_by(points.c.points.desc(), Member.id).limit(limit)).all()
    households = db.session.execute(
        select(Household.name, func.sum(points.c.points).label("points"))
        .join(Member, Member.id == points.c.member_id).join(Household, Household.id == Member.household_id)
        .where(Household.show_on_honour_board.is_(True)).group_by(Household.id, Household.name)
        .having(func.sum(points.c.points) > 0)
        .order_by(func.sum(points.c.points).desc(), Household.id).limit(limit)).all()
    return {"scheme": scheme.name, "year": year,
            "people": [{"rank": i + 1, "name": publicity_name(name), "points": int(p)}
                       for i, (name, p) in enumerate(people)],
            "households": [{"rank": i + 1, "name": publicity_name(name[:-1]) + name[-1] if name.endswith("户")
                            else publicity_name(name), "points": int(p)} for i, (name, p) in enumerate(households)]}


def reviewer_flags(scheme_id: int | None = None, days: int = WINDOW_DAYS) -> list[dict]:
    since = utcnow() - timedelta(days=days)
    stmt = (select(Entry.approved_by_id, Entry.member_id, Household.grid)
            .join(Member, Member.id == Entry.member_id).join(Household, Household.id == Member.household_id)
            .where(Entry.approved_by_id.is_not(None), Entry.approved_at >= since, Entry.kind != "spend",
                   Entry.state != "rejected"))
    if scheme_id is not None:
        stmt = stmt.where(Entry.scheme_id == scheme_id)
    approvals: dict[int, list] = defaultdict(list)
    for reviewer_id, member_id, grid in db.session.execute(stmt):
        approvals[reviewer_id].append((member_id, grid))
    if not approvals:
        return []
    workers = {w.id: w for w in db.session.scalars(select(Worker).where(Worker.id.in_(approvals)))}
    by_scheme: dict[int, list[int]] = defaultdict(list)
    for reviewer_id, rows in approvals.items():
        by_scheme[workers[reviewer_id].scheme_id].append(len(rows))
    schemes = {s.id: s.name for s in db.session.scalars(select(Scheme).where(Scheme.id.in_(by_scheme)))}
    flags = []
    for reviewer_id, rows in approvals.items():
        worker = workers[reviewer_id]
        count = len(rows)
        if count < MIN_APPROVALS:
            continue
        reasons = []
        median = statistics.median(by_scheme[worker.scheme_id])
        if len(by_scheme[worker.scheme_id]) > 1 and count > VOLUME_FACTOR * median:
            reasons.append(f"审核量 {count} 条，为本村（社区）审核员中位数的 {count / median:.1f} 倍")
        own = sum(1 for _, grid in rows if worker.grid and grid == worker.grid)
        if worker.grid and own / count >= OWN_GRID_SHARE:
            reasons.append(f"{own / count:.0%} 的审核对象在本人网格（{worker.grid}）")
        top = sum(n for _, n in Counter(member for member, _ in rows).most_common(TOP_PEOPLE))
        if top / count >= TOP_SHARE:
            reasons.append(f"{top / count:.0%} 的审核集中在 {TOP_PEOPLE} 人以内")
        if reasons:
            flags.append({"scheme": schemes[worker.scheme_id], "reviewer": worker.display_name,
                          "username": worker.username, "approvals": count, "reasons": reasons})
    return sorted(flags, key=lambda flag: (flag["scheme"], -flag["approvals"]))


def scheme_figures() -> list[dict]:
    """Every scheme's members, entries by state, approvals, redemptions and flagged reviewers (city staff)."""
    members = dict(db.session.execute(select(Member.scheme_id, func.count()).group_by(Member.scheme_id)).all())
    states: dict[int, dict] = defaultdict(dict)
    for scheme_id, state, count in db.session.execute(
            select(Entry.scheme_id, Entry.state, func.count()).where(Entry.kind != "spend")
            .group_by(Entry.scheme_id, Entry.state)):
        states[scheme_id][state] = count
    redeemed = dict(db.session.execute(select(Redemption.scheme_id, func.count())
                                       .where(Redemption.state == "redeemed").group_by(Redemption.scheme_id)).all())
    flagged = Counter(flag["scheme"] for flag in reviewer_flags())
    rows = []
    for scheme, division in db.session.execute(select(Scheme, Division).join(Division).order_by(Division.code)):
        counts = states.get(scheme.id, {})
        rows.append({"ref": scheme.ref, "name": scheme.name, "kind": division.kind, "county": division.county,
                     "members": members.get(scheme.id, 0), "declared": counts.get("declared", 0),
                     "publicised": counts.get("publicised", 0) + counts.get("objected", 0),
                     "posted": counts.get("posted", 0), "rejected": counts.get("rejected", 0),
                     "redemptions": redeemed.get(scheme.id, 0), "flagged_reviewers": flagged.get(scheme.name, 0)})
    return rows


def scheme_activity(date_from: date, date_to: date, limit: int = 20) -> dict:
    """The dashboard's chart: per scheme, entries made, entries posted and redemptions within the city dates
    (the ``limit`` busiest schemes)."""
    start = datetime.combine(date_from, time.min, CITY_TZ)
    end = datetime.combine(date_to + timedelta(days=1), time.min, CITY_TZ)
    made = dict(db.session.execute(select(Entry.scheme_id, func.count()).where(
        Entry.kind != "spend", Entry.created_at >= start, Entry.created_at < end).group_by(Entry.scheme_id)).all())
    posted = dict(db.session.execute(select(Entry.scheme_id, func.count()).where(
        Entry.kind != "spend", Entry.posted_at >= start, Entry.posted_at < end).group_by(Entry.scheme_id)).all())
    spent = dict(db.session.execute(select(Redemption.scheme_id, func.count()).where(
        Redemption.state == "redeemed", Redemption.redeemed_at >= start, Redemption.redeemed_at < end)
        .group_by(Redemption.scheme_id)).all())
    busiest = sorted(set(made) | set(posted) | set(spent),
                     key=lambda s: (-(made.get(s, 0) + posted.get(s, 0) + spent.get(s, 0)), s))[:limit]
    names = dict(db.session.execute(select(Scheme.id, Scheme.name).where(Scheme.id.in_(busiest))).all()) \
        if busiest else {}
    return {"from": date_from.isoformat(), "to": date_to.isoformat(), "schemes": [names[s] for s in busiest],
            "series": [{"name": "登记/申报", "counts": [made.get(s, 0) for s in busiest]},
                       {"name": "入账", "counts": [posted.get(s, 0) for s in busiest]},
                       {"name": "兑换", "counts": [spent.get(s, 0) for s in busiest]}]}
