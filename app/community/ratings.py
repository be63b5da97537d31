"""Year-end ratings (星级信誉户, 诚信人) from a year's posted points, and the one door into the score: each rating
becomes credit records pushed through app/records' ingest, as a department (the city's 文明办) would push them.

Raw points never reach the score; the rules files say what a rating counts and for how long
(``HN_STAR_HOUSEHOLD`` per star, ``HN_HONEST_PERSON``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import case, func, select

from app.audit import service as audit
from app.citizens.models import Citizen
from app.citizens.service import ID_PURPOSE
from app.community.models import Entry, Household, Member, Rating, Scheme
from app.errors import ApiError
from app.extensions import db
from app.records import service as records
from app.records.models import Department
from app.security.pii import vault
from app.timeutil import city_today

STAR_TYPE = "HN_STAR_HOUSEHOLD"
HONEST_TYPE = "HN_HONEST_PERSON"


@dataclass(frozen=True)
class RatingRules:
    honest_person_points: int  # a year's net points for 诚信人 (and no deduction that year)
    star_thresholds: tuple[tuple[int, int], ...]  # (stars, household's net points), best first

    @classmethod
    def from_config(cls) -> RatingRules:
        config = current_app.config
        raw = config.get("COMMUNITY_STAR_THRESHOLDS", "5:600,4:400,3:200")
        pairs = sorted(((int(s), int(p)) for s, p in (part.split(":") for part in raw.split(","))), reverse=True)
        return cls(int(config.get("COMMUNITY_HONEST_PERSON_POINTS", 100)), tuple(pairs))

    def stars(self, points: int, had_deduction: bool) -> int | None:
        for stars, minimum in self.star_thresholds:
            if points >= minimum:
                # A household with a deduction that year is rated, but never above the lowest star level.
                return min(stars, self.star_thresholds[-1][0]) if had_deduction else stars
        return None


def year_points(scheme_ids: list[int], year: int):
    """Per member of the schemes with posted entries in ``year``: scheme, household, the year's net points earned
    or deducted (spending excluded) and how many deductions."""
    return db.session.execute(
        select(Member.scheme_id, Member.household_id, Entry.member_id, func.sum(Entry.points).label("points"),
               func.sum(case((Entry.points < 0, 1), else_=0)).label("deductions"))
        .join(Member, Member.id == Entry.member_id)
        # The members' scheme condition lets the planner read only these schemes' members (by their index), not
        # the city's members once per chunk.
        .where(Entry.scheme_id.in_(scheme_ids), Member.scheme_id.in_(scheme_ids), Entry.state == "posted",
               Entry.kind != "spend", Entry.occurred_on >= date(year, 1, 1), Entry.occurred_on <= date(year, 12, 31))
        .group_by(Member.scheme_id, Member.household_id, Entry.member_id)).all()


def preview_schemes(scheme_ids: list[int], year: int, rules: RatingRules | None = None) -> dict[int, dict]:
    """The ratings each scheme would give for ``year``; nothing is stored. Only members with entries that year can
    be rated, so only they are read; names are fetched for those rated."""
    rules = rules or RatingRules.from_config()
    result: dict[int, dict] = {scheme_id: {"year": year, "households": [], "people": []} for scheme_id in scheme_ids}
    households: dict[int, list] = {}  # household id -> [scheme id, points, had a deduction]
    people: list[tuple[int, int, int]] = []  # (scheme id, member id, points)
    for scheme_id, household_id, member_id, points, deductions in year_points(scheme_ids, year):
        points, deductions = int(points), int(deductions)
        total = households.setdefault(household_id, [scheme_id, 0, False])
        total[1] += points
        total[2] = total[2] or deductions > 0
        if points >= rules.honest_person_points and not deductions:
            people.append((scheme_id, member_id, points))
    rated = {household_id: (total[0], total[1], stars) for household_id, total in households.items()
             if (stars := rules.stars(total[1], total[2])) is not None}
    names = {}
    for start in range(0, len(people), 900):
        part = [member_id for _, member_id, _ in people[start:start + 900]]
        names.update((row.id, (row.ref, row.name)) for row in db.session.execute(
            select(Member.id, Member.ref, Citizen.name).join(Citizen, Citizen.id == Member.citizen_id)
            .where(Member.id.in_(part))))
    for scheme_id, member_id, points in people:
        ref, name = names[member_id]
        result[scheme_id]["people"].append({"member": ref, "member_id": member_id, "name": name, "points": points})
    rated_ids = sorted(rated)
    for start in range(0, len(rated_ids), 900):
        for row in db.session.execute(select(Household.id, Household.ref, Household.name)
                                      .where(Household.id.in_(rated_ids[start:start + 900]))):
            scheme_id, points, stars = rated[row.id]
            result[scheme_id]["households"].append({"household": row.ref, "household_id": row.id, "name": row.name,
                                                    "points": points, "stars": stars})
    for preview_of_scheme in result.values():
        preview_of_scheme["households"].sort(key=lambda row: (-row["points"], row["household"]))
        preview_of_scheme["people"].sort(key=lambda row: (-row["points"], row["member"]))
    return result


def preview(scheme: Scheme, year: int) -> dict:
    return preview_schemes([scheme.id], year)[scheme.id]


def _department() -> Department:
    code = current_app.config.get("COMMUNITY_RATING_DEPARTMENT", "SX_CIVILITY")
    department = db.session.scalar(select(Department).where(Department.code == code))
    if department is None or not {STAR_TYPE, HONEST_TYPE} <= set(department.record_types):
        raise ApiError(409, "rating_department_missing",
                       f"评定结果需由报送部门 {code} 归集，请先为其开通 {STAR_TYPE}、{HONEST_TYPE} 类型。")
    return department


def confirm(scheme: Scheme, year: int, confirmed_by: str) -> dict:
    """Store the year's ratings (a second run adds only what is new) and push them as credit records."""
    today = city_today()
    if today < date(year, 12, 1):
        raise ApiError(409, "year_not_ended", f"{year} 年度评定须在 {year} 年 12 月 1 日之后进行。")
    department = _department()
    proposal = preview(scheme, year)
    existing = set(db.session.scalars(select(Rating.subject).where(Rating.scheme_id == scheme.id,
                                                                   Rating.year == year)))
    added = 0
    for row in proposal["households"]:
        if f"h:{row['household_id']}" not in existing:
            db.session.add(Rating(scheme_id=scheme.id, year=year, kind="household", household_id=row["household_id"],
                                  subject=f"h:{row['household_id']}", stars=row["stars"], points=row["points"],
                                  confirmed_by=confirmed_by))
            added += 1
    for row in proposal["people"]:
        if f"m:{row['member_id']}" not in existing:
            db.session.add(Rating(scheme_id=scheme.id, year=year, kind="person", member_id=row["member_id"],
                                  subject=f"m:{row['member_id']}", points=row["points"], confirmed_by=confirmed_by))
            added += 1
    audit.log(None, "community.rating.confirm", "确认年度信誉户、诚信人评定",
              {"scheme": scheme.ref, "year": year, "added": added})
    db.session.commit()
    pushed = _push(scheme, year, department, min(date(year, 12, 31), today))
    return {"year": year, "added": added, **pushed}


def _push(scheme: Scheme, year: int, department: Department, occurred: date) -> dict:
    ratings = list(db.session.scalars(select(Rating).where(Rating.scheme_id == scheme.id, Rating.year == year)
                                      .order_by(Rating.id)))
    adult_born_before = occurred.replace(year=occurred.year - 18) if not (occurred.month == 2 and occurred.day == 29) \
        else date(occurred.year - 18, 2, 28)
    pii = vault()
    rows, owners = [], []
    for rating in ratings:
        stmt = select(Member.id, Citizen.id_cipher, Citizen.birth_date).join(Citizen, Citizen.id == Member.citizen_id)
        stmt = stmt.where(Member.household_id == rating.household_id) if rating.kind == "household" \
            else stmt.where(Member.id == rating.member_id)
        for member_id, cipher, birth in db.session.execute(stmt):
            if birth > adult_born_before:
                continue  # the score is for adults only
            row = {"external_id": f"PTS{year}-{scheme.id}-{rating.subject}-{member_id}",
                   "id_number": pii.decrypt(cipher, ID_PURPOSE), "occurred_at": occurred.isoformat()}
            if rating.kind == "household":
                row.update(type_code=STAR_TYPE, quantity=rating.stars,
                           summary=f"{scheme.name}{year}年度{rating.stars}星级信誉户")
            else:
                row.update(type_code=HONEST_TYPE, summary=f"{scheme.name}{year}年度诚信人")
            rows.append(row)
            owners.append(rating)
    result = {"accepted": 0, "unchanged": 0, "updated": 0, "rejected": 0}
    limit = current_app.config["RECORDS_BATCH_MAX"]
    refs_by_rating: dict[int, list[str]] = defaultdict(list)
    for start in range(0, len(rows), limit):
        batch = records.ingest(department, rows[start:start + limit], source="community")
        result["accepted"] += batch.accepted
        result["unchanged"] += batch.unchanged
        result["updated"] += batch.updated
        result["rejected"] += len(batch.rejected)
        for offset, ref in enumerate(batch.record_refs):
            if ref:
                refs_by_rating[owners[start + offset].id].append(ref)
    for rating in ratings:
        if refs_by_rating.get(rating.id) and rating.records != refs_by_rating[rating.id]:
            db.session.get(Rating, rating.id).records = refs_by_rating[rating.id]
    db.session.commit()
    return result


def ratings_of(scheme: Scheme, year: int) -> list[Rating]:
    return list(db.session.scalars(select(Rating).where(Rating.scheme_id == scheme.id, Rating.year == year)
                                   .order_by(Rating.kind, Rating.stars.desc(), Rating.points.desc())))


def preview_city(year: int, chunk: int = 250) -> dict:
    """The year-end rating of every scheme of the city, computed a chunk of schemes at a time (what the run does
    before anyone confirms); returns the counts."""
    rules = RatingRules.from_config()
    scheme_ids = list(db.session.scalars(select(Scheme.id).order_by(Scheme.id)))
    households = people = 0
    for start in range(0, len(scheme_ids), chunk):
        for preview_of_scheme in preview_schemes(scheme_ids[start:start + chunk], year, rules).values():
            households += len(preview_of_scheme["households"])
            people += len(preview_of_scheme["people"])
        db.session.rollback()  # nothing to keep: let the session forget the chunk
    return {"schemes": len(scheme_ids), "households": households, "people": people}
