"""以服务换积分: declare or enter on behalf → review → 公示 (objections) → posted; deductions the same way.

Every change of a member's entries takes the member's row lock first, so caps and the balance are decided one
at a time per person; the balance moves only in the transaction that posts (or spends) the entry.
"""

from __future__ import annotations

import io
import os
import secrets
from datetime import date, datetime, timedelta

from PIL import Image
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.audit import service as audit
from app.citizens.models import Citizen
from app.community.models import Entry, Evidence, Household, Member, Objection, RuleItem, Scheme, Worker
from app.community.service import (
    current_rulebook,
    member_in_scheme,
    member_of_citizen,
    publicity_name,
    require_role,
)
from app.errors import ApiError
from app.extensions import db
from app.rights import evidence as evidence_files
from app.rights import messages
from app.security.secrets_util import new_ref
from app.timeutil import CITY_TZ, city_today, utcnow

# Two photos whose difference hashes differ in at most this many of 64 bits are the same picture (re-saved,
# resized, recompressed); distinct photos of one street differ in far more.
NEAR_DUPLICATE_BITS = 4
# How far back a scheme's photos are compared for near-duplicates (content hashes are checked for ever).
NEAR_DUPLICATE_DAYS = 400
MAX_QUANTITY = 100
ENTRY_STATE_NAMES = {"declared": "待审核", "publicised": "公示中", "objected": "有异议", "posted": "已入账",
                     "rejected": "未通过"}


def period_of(day: date, cap_period: str) -> str:
    if cap_period == "year":
        return f"{day.year}"
    if cap_period == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}-{day.month:02d}"


def difference_hash(data: bytes) -> str:
    """64-bit dHash: grey 9×8 thumbnail, one bit per horizontal neighbour comparison."""
    with Image.open(io.BytesIO(data)) as image:
        pixels = image.convert("L").resize((9, 8), Image.Resampling.LANCZOS).tobytes()
    bits = 0
    for row in range(8):
        for col in range(8):
            bits = (bits << 1) | (pixels[row * 9 + col] > pixels[row * 9 + col + 1])
    return f"{bits:016x}"


def _lock_member(member_id: int) -> Member:
    return db.session.execute(select(Member).where(Member.id == member_id).with_for_update()).scalar_one()


def _item_for(member: Member, item_ref: str) -> RuleItem:
    item = db.session.scalar(select(RuleItem).where(RuleItem.ref == item_ref))
    if item is None:
        raise ApiError(404, "item_not_found", "未找到该积分项目。")
    rulebook = current_rulebook(member.scheme_id)
    if item.rulebook.scheme_id != member.scheme_id:
        raise ApiError(422, "item_of_other_scheme", "该积分项目不属于本村（社区）的积分细则。")
    if rulebook is None or item.rulebook_id != rulebook.id:
        raise ApiError(422, "item_not_in_force", "该积分项目不在现行积分细则中。")
    return item


def _check_cap(member: Member, item: RuleItem, points: int, period: str) -> None:
    if item.cap_points is None or points < 0:
        return
    used = db.session.scalar(select(func.coalesce(func.sum(Entry.points), 0)).where(
        Entry.member_id == member.id, Entry.item_id == item.id, Entry.period == period,
        Entry.state != "rejected")) or 0
    if used + points > item.cap_points:
        left = max(item.cap_points - used, 0)
        names = {"month": "本月", "quarter": "本季度", "year": "本年度"}
        raise ApiError(422, "over_cap", f"「{item.name}」{names[item.cap_period]}最多 {item.cap_points} 分，"
                                        f"还可申报 {left} 分。")


def _check_photos(scheme_id: int, uploads) -> list[tuple]:
    """(upload, phash) for each photo, refusing any photo that already backs an entry."""
    checked = []
    hashes = [upload.sha256 for upload in uploads]
    if len(set(hashes)) != len(hashes) or (hashes and db.session.scalar(
            select(Evidence.id).where(Evidence.sha256.in_(hashes)).limit(1)) is not None):
        raise ApiError(409, "evidence_reused", "这张照片已用于其他积分申报，一张照片只能证明一件事。",
                       {"photos": ["照片已被使用。"]})
    since = utcnow() - timedelta(days=NEAR_DUPLICATE_DAYS)
    known = [int(value, 16) for value in db.session.scalars(
        select(Evidence.phash).where(Evidence.scheme_id == scheme_id, Evidence.created_at >= since))]
    for upload in uploads:
        phash = difference_hash(upload.data)
        value = int(phash, 16)
        if any((value ^ other).bit_count() <= NEAR_DUPLICATE_BITS for other in known):
            raise ApiError(409, "evidence_reused", "这张照片与已用于其他申报的照片相同（翻拍或改尺寸也算），"
                                                   "一张照片只能证明一件事。", {"photos": ["照片已被使用。"]})
        known.append(value)
        checked.append((upload, phash))
    return checked


def _store_photos(entry: Entry, checked) -> list[str]:
    folder = evidence_files.evidence_dir() / "points"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    written = []
    for upload, phash in checked:
        name = secrets.token_hex(16) + (".jpg" if upload.content_type == "image/jpeg" else ".png")
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(upload.data)
        written.append(name)
        db.session.add(Evidence(entry_id=entry.id, scheme_id=entry.scheme_id, sha256=upload.sha256, phash=phash,
                                content_type=upload.content_type, stored_name=name))
    return written


def _discard(names: list[str]) -> None:
    for name in names:
        (evidence_files.evidence_dir() / "points" / name).unlink(missing_ok=True)


def _create(member: Member, item_ref: str, quantity: int, occurred_on: date, note: str, photos, *,
            worker: Worker | None, idempotency_key: str | None) -> Entry:
    if idempotency_key:
        existing = db.session.scalar(select(Entry).where(Entry.idempotency_key == idempotency_key))
        if existing is not None:
            if existing.member_id != member.id:
                raise ApiError(409, "idempotency_key_reused", "该请求编号已用于其他申报。")
            return existing
    if not 1 <= quantity <= MAX_QUANTITY:
        raise ApiError(422, "invalid_quantity", f"数量应为 1 到 {MAX_QUANTITY}。")
    today = city_today()
    if occurred_on > today or occurred_on < today - timedelta(days=90):
        raise ApiError(422, "invalid_date", "发生日期应在今天及之前 90 天以内。")
    uploads = evidence_files.validate(photos or [])
    member = _lock_member(member.id)
    item = _item_for(member, item_ref)
    if item.points < 0 and worker is None:
        raise ApiError(422, "deduction_by_worker_only", "扣分事项由网格员登记，不能自行申报。")
    if item.evidence_required and not uploads:
        raise ApiError(422, "evidence_required", f"「{item.name}」需要上传照片作为证明。",
                       {"photos": ["请至少上传一张照片。"]})
    points = item.points * quantity
    period = period_of(occurred_on, item.cap_period)
    _check_cap(member, item, points, period)
    checked = _check_photos(member.scheme_id, uploads)
    entry = Entry(scheme_id=member.scheme_id, member_id=member.id, item_id=item.id,
                  kind="earn" if points > 0 else "deduct", points=points, quantity=quantity, occurred_on=occurred_on,
                  period=period, note=(note or "")[:200], state="declared",
                  entered_by_id=worker.id if worker else None, idempotency_key=idempotency_key or new_ref())
    db.session.add(entry)
    written: list[str] = []
    try:
        db.session.flush()
        written = _store_photos(entry, checked)
        audit.log(member.citizen_id, "community.entry.declare" if worker is None else "community.entry.enter",
                  "申报积分" if worker is None else "网格员代为登记积分",
                  {"entry": entry.ref, "item": item.code, "points": points,
                   "worker": worker.username if worker else None})
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        _discard(written)
        if idempotency_key:
            existing = db.session.scalar(select(Entry).where(Entry.idempotency_key == idempotency_key))
            if existing is not None and existing.member_id == member.id:
                return existing
        raise ApiError(409, "evidence_reused", "这张照片已用于其他积分申报，一张照片只能证明一件事。") from None
    except Exception:
        db.session.rollback()
        _discard(written)
        raise
    return entry


def declare(citizen_id: int, item_ref: str, quantity: int, occurred_on: date, note: str, photos,
            idempotency_key: str | None = None) -> Entry:
    member = member_of_citizen(citizen_id)
    return _create(member, item_ref, quantity, occurred_on, note, photos, worker=None,
                   idempotency_key=idempotency_key)


def enter_on_behalf(worker: Worker, member_ref: str, item_ref: str, quantity: int, occurred_on: date, note: str,
                    photos, idempotency_key: str | None = None) -> Entry:
    require_role(worker, "grid", "reviewer")
    member = member_in_scheme(worker.scheme_id, member_ref)
    return _create(member, item_ref, quantity, occurred_on, note, photos, worker=worker,
                   idempotency_key=idempotency_key)


def _entry_in_scheme(scheme_id: int, ref: str) -> Entry:
    entry = db.session.scalar(select(Entry).where(Entry.ref == ref, Entry.scheme_id == scheme_id))
    if entry is None:
        raise ApiError(404, "entry_not_found", "未找到该积分记录。")
    return entry


def _worker_household(worker: Worker) -> int | None:
    if worker.citizen_id is None:
        return None
    return db.session.scalar(select(Member.household_id).where(Member.citizen_id == worker.citizen_id))


def _move(entry: Entry, from_state: str, **values) -> None:
    changed = db.session.execute(update(Entry).where(Entry.id == entry.id, Entry.state == from_state)
                                 .values(**values)).rowcount
    if not changed:
        db.session.rollback()
        raise ApiError(409, "entry_state_changed", "该积分记录的状态已变化，请刷新后重试。")


def approve(worker: Worker, entry_ref: str) -> Entry:
    """审核通过: the entry goes on 公示 for the scheme's publicity days; a deduction is told to the person."""
    require_role(worker, "reviewer")
    entry = _entry_in_scheme(worker.scheme_id, entry_ref)
    member = _lock_member(entry.member_id)
    if entry.entered_by_id == worker.id:
        raise ApiError(403, "own_entry", "不能审核自己录入的积分。")
    own_household = _worker_household(worker)
    if worker.citizen_id == member.citizen_id or (own_household is not None and own_household == member.household_id):
        raise ApiError(403, "own_household", "不能审核本人或本户成员的积分。")
    if entry.state != "declared":
        raise ApiError(409, "entry_not_pending", "该积分记录不在待审核状态。")
    scheme = db.session.get(Scheme, entry.scheme_id)
    now = utcnow()
    ends = now + timedelta(days=scheme.publicity_days)
    _move(entry, "declared", state="publicised", approved_by_id=worker.id, approved_at=now, publicity_ends_at=ends)
    item = db.session.get(RuleItem, entry.item_id)
    audit.log(member.citizen_id, "community.entry.approve", "审核通过积分，进入公示",
              {"entry": entry.ref, "points": entry.points, "reviewer": worker.username})
    if entry.points < 0:
        messages.post_message(
            member.citizen_id, "points_deduction", f"{scheme.name}扣分公示",
            f"因「{item.name}」，您将被扣减 {-entry.points} 分，现公示 {scheme.publicity_days} 天"
            f"（至 {ends.astimezone(CITY_TZ).date().isoformat()}）。如有异议，请在公示期内在“我的积分—公示”中提出。",
            related_ref=entry.ref)
    db.session.commit()
    db.session.refresh(entry)
    return entry


def reject(worker: Worker, entry_ref: str, reason: str) -> Entry:
    require_role(worker, "reviewer")
    entry = _entry_in_scheme(worker.scheme_id, entry_ref)
    _lock_member(entry.member_id)
    if entry.entered_by_id == worker.id:
        raise ApiError(403, "own_entry", "不能审核自己录入的积分。")
    if entry.state != "declared":
        raise ApiError(409, "entry_not_pending", "该积分记录不在待审核状态。")
    _move(entry, "declared", state="rejected", approved_by_id=worker.id, approved_at=utcnow(),
          decision_note=(reason or "")[:200])
    citizen_id = db.session.get(Member, entry.member_id).citizen_id
    audit.log(citizen_id, "community.entry.reject", "审核未通过积分", {"entry": entry.ref, "reason": reason[:200]})
    db.session.commit()
    db.session.refresh(entry)
    return entry


def _post(entry_id: int, member_id: int, points: int, from_state: str, now: datetime) -> bool:
    moved = db.session.execute(update(Entry).where(Entry.id == entry_id, Entry.state == from_state)
                               .values(state="posted", posted_at=now)).rowcount
    if moved:
        db.session.execute(update(Member).where(Member.id == member_id).values(balance=Member.balance + points))
    return bool(moved)


def post_due(now: datetime | None = None, chunk: int = 500) -> int:
    """Entries whose 公示 ended without objection are posted: the scheduler's ``community-publicity`` job."""
    now = now or utcnow()
    posted = 0
    while True:
        due = db.session.execute(select(Entry.id, Entry.member_id, Entry.points, Entry.ref).where(
            Entry.state == "publicised", Entry.publicity_ends_at <= now).order_by(Entry.id).limit(chunk)).all()
        if not due:
            return posted
        subjects = []
        for row in due:
            if _post(row.id, row.member_id, row.points, "publicised", now):
                posted += 1
                subjects.append(row.member_id)
        citizens = dict(db.session.execute(select(Member.id, Member.citizen_id)
                                           .where(Member.id.in_(set(subjects)))).all()) if subjects else {}
        audit.append([citizens[m] for m in subjects], "community.entry.post", "公示期满，积分入账")
        db.session.commit()


def object_to(citizen_id: int, entry_ref: str, reason: str) -> Objection:
    """A member objects to an entry of their scheme during its 公示."""
    objector = member_of_citizen(citizen_id)
    reason = (reason or "").strip()
    if not 2 <= len(reason) <= 500:
        raise ApiError(422, "invalid_reason", "请写明异议理由（2 到 500 字）。", {"reason": ["请写明理由。"]})
    entry = _entry_in_scheme(objector.scheme_id, entry_ref)
    if entry.state not in ("publicised", "objected") or entry.publicity_ends_at is None \
            or entry.publicity_ends_at <= utcnow():
        raise ApiError(409, "publicity_over", "该积分不在公示期内，不能再提出异议。")
    objection = Objection(entry_id=entry.id, member_id=objector.id, reason=reason)
    db.session.add(objection)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ApiError(409, "already_objected", "您已对该积分提出过异议。") from None
    # Decided in one statement with the posting job, which may be posting it this very moment.
    if not db.session.execute(update(Entry).where(
            Entry.id == entry.id, Entry.state.in_(("publicised", "objected")), Entry.publicity_ends_at > utcnow())
            .values(state="objected")).rowcount:
        db.session.rollback()
        raise ApiError(409, "publicity_over", "该积分不在公示期内，不能再提出异议。")
    subject = db.session.get(Member, entry.member_id).citizen_id
    audit.log(subject, "community.entry.object", "公示期内对积分提出异议",
              {"entry": entry.ref, "objection": objection.ref})
    db.session.commit()
    return objection


def decide_objection(worker: Worker, entry_ref: str, uphold: bool, note: str) -> Entry:
    """Upheld: the entry is rejected. Dismissed: it posts now (its 公示 has been seen). Objectors are told."""
    require_role(worker, "reviewer")
    entry = _entry_in_scheme(worker.scheme_id, entry_ref)
    _lock_member(entry.member_id)
    if entry.state != "objected":
        raise ApiError(409, "no_open_objection", "该积分没有待处理的异议。")
    if entry.entered_by_id == worker.id:
        raise ApiError(403, "own_entry", "不能处理针对自己录入积分的异议。")
    now = utcnow()
    if uphold:
        _move(entry, "objected", state="rejected", decision_note=(note or "异议成立")[:200])
    elif not _post(entry.id, entry.member_id, entry.points, "objected", now):
        db.session.rollback()
        raise ApiError(409, "entry_state_changed", "该积分记录的状态已变化，请刷新后重试。")
    objections = list(db.session.scalars(select(Objection).where(Objection.entry_id == entry.id,
                                                                 Objection.state == "open")))
    for objection in objections:
        objection.state = "upheld" if uphold else "dismissed"
        objection.decided_by_id, objection.decided_at = worker.id, now
        objector = db.session.get(Member, objection.member_id)
        messages.post_message(objector.citizen_id, "points_objection_result", "积分公示异议处理结果",
                              "您的异议成立，该积分不予入账。" if uphold else
                              f"经核实，该积分符合细则，予以入账。{note or ''}".strip(), related_ref=entry.ref)
    subject = db.session.get(Member, entry.member_id).citizen_id
    audit.log(subject, "community.objection.decide", "处理积分公示异议",
              {"entry": entry.ref, "upheld": uphold, "reviewer": worker.username})
    db.session.commit()
    db.session.refresh(entry)
    return entry


# -- reads ----------------------------------------------------------------------------------------------------

def describe(entry: Entry, item: RuleItem | None, name: str | None = None) -> dict:
    return {"ref": entry.ref, "kind": entry.kind, "item": item.name if item else None,
            "category": item.category if item else None, "points": entry.points, "quantity": entry.quantity,
            "occurred_on": entry.occurred_on, "state": entry.state,
            "state_name": ENTRY_STATE_NAMES[entry.state], "note": entry.note,
            "publicity_ends_at": entry.publicity_ends_at, "posted_at": entry.posted_at,
            **({"name": name} if name is not None else {})}


def ledger_of(member: Member, page: int = 1, per_page: int = 20) -> tuple[list[dict], int]:
    base = select(Entry).where(Entry.member_id == member.id)
    total = db.session.scalar(select(func.count()).select_from(base.subquery()))
    rows = db.session.execute(select(Entry, RuleItem).outerjoin(RuleItem, RuleItem.id == Entry.item_id)
                              .where(Entry.member_id == member.id).order_by(Entry.id.desc())
                              .limit(per_page).offset((page - 1) * per_page)).all()
    return [describe(entry, item) for entry, item in rows], total


def publicity_list(scheme_id: int, limit: int = 200) -> list[dict]:
    """What the scheme's members see on 公示: entries in 公示 or under objection, names masked (王*明)."""
    rows = db.session.execute(
        select(Entry, RuleItem, Citizen.name).join(RuleItem, RuleItem.id == Entry.item_id)
        .join(Member, Member.id == Entry.member_id).join(Citizen, Citizen.id == Member.citizen_id)
        .where(Entry.scheme_id == scheme_id, Entry.state.in_(("publicised", "objected")))
        .order_by(Entry.publicity_ends_at, Entry.id).limit(limit)).all()
    return [describe(entry, item, publicity_name(name)) for entry, item, name in rows]


def review_queue(worker: Worker, limit: int = 100) -> list[dict]:
    """Entries waiting for review; the worker's own entries and own household's are marked (they can't approve)."""
    own_household = _worker_household(worker)
    rows = db.session.execute(
        select(Entry, RuleItem, Citizen.name, Member.household_id, Citizen.birth_date)
        .join(RuleItem, RuleItem.id == Entry.item_id).join(Member, Member.id == Entry.member_id)
        .join(Citizen, Citizen.id == Member.citizen_id)
        .where(Entry.scheme_id == worker.scheme_id, Entry.state.in_(("declared", "objected")))
        .order_by(Entry.created_at, Entry.id).limit(limit)).all()
    result = []
    for entry, item, name, household_id, _birth in rows:
        view = describe(entry, item, name)
        view["own"] = entry.entered_by_id == worker.id or household_id == own_household \
            or worker.citizen_id is not None and db.session.get(Member, entry.member_id).citizen_id == worker.citizen_id
        view["entered_by_worker"] = entry.entered_by_id is not None
        view["photos"] = list(db.session.scalars(select(Evidence.ref).where(Evidence.entry_id == entry.id)
                                                 .order_by(Evidence.id)))
        view["objections"] = [o.reason for o in db.session.scalars(
            select(Objection).where(Objection.entry_id == entry.id, Objection.state == "open"))]
        result.append(view)
    return result


def photo_for(worker: Worker, ref: str) -> tuple[str, bytes]:
    """A photo behind an entry, for the desk of the entry's scheme only; every view is in the audit trail."""
    row = db.session.scalar(select(Evidence).where(Evidence.ref == ref, Evidence.scheme_id == worker.scheme_id))
    path = evidence_files.evidence_dir() / "points" / row.stored_name if row is not None else None
    if path is None or not path.is_file():
        raise ApiError(404, "photo_not_found", "未找到该照片。")
    entry = db.session.get(Entry, row.entry_id)
    audit.log(db.session.get(Member, entry.member_id).citizen_id, "community.photo.view", "审核时查看积分证明照片",
              {"entry": entry.ref, "worker": worker.username})
    db.session.commit()
    return row.content_type, path.read_bytes()


def grid_members(worker: Worker, elderly_age: int = 70) -> list[dict]:
    """The members a grid worker enters for: their grid's (or the whole scheme's for reviewers and managers),
    oldest first, those aged ``elderly_age`` or over marked 长者."""
    today = city_today()
    stmt = (select(Member, Citizen.name, Citizen.birth_date, Household.name, Household.grid)
            .join(Citizen, Citizen.id == Member.citizen_id).join(Household, Household.id == Member.household_id)
            .where(Member.scheme_id == worker.scheme_id).order_by(Citizen.birth_date, Member.id))
    if worker.role == "grid" and worker.grid:
        stmt = stmt.where(Household.grid == worker.grid)
    result = []
    for member, name, birth, household, grid in db.session.execute(stmt):
        age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
        result.append({"ref": member.ref, "name": name, "age": age, "elderly": age >= elderly_age,
                       "household": household, "grid": grid, "balance": member.balance})
    return result
