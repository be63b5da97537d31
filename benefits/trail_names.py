"""Who read or changed a citizen's data, as a person reads it: staff by name, departments by name, a merchant by its
name and the branch that scanned. Both the citizen's trail (mini-program) and the staff's citizen file show these.

It lives in benefits because a merchant's scan is the one actor only benefits can name; staff and departments are
read from the layers below.
"""

from __future__ import annotations

from sqlalchemy import select

from app.auth.models import StaffUser
from app.extensions import db
from app.records.models import Department
from benefits import catalog

ACTOR_LABELS = {"citizen": "本人", "system": "系统", "job": "系统定时任务", "staff": "信用中心工作人员",
                "department": "数据报送部门", "merchant": "信用惠民联盟商户", "partner": "互认合作城市",
                "verifier": "信用报告核验方（未说明单位）"}


def actor_names(entries) -> dict[int, str]:
    """The name of each entry's actor, keyed by ``id(entry)``; an actor without a name gets its kind's label."""
    staff = {entry.actor_id for entry in entries if entry.actor_type == "staff"}
    departments = {entry.actor_id for entry in entries if entry.actor_type == "department"}
    names: dict[tuple[str, str], str] = {}
    if staff:
        for username, display in db.session.execute(
                select(StaffUser.username, StaffUser.display_name).where(StaffUser.username.in_(staff))):
            names[("staff", username)] = display or ACTOR_LABELS["staff"]
    if departments:
        for code, name in db.session.execute(select(Department.code, Department.name)
                                             .where(Department.code.in_(departments))):
            names[("department", code)] = name
    merchants = _merchant_names(entries)
    return {id(entry): merchants.get(id(entry)) or _stated_organisation(entry)
            or names.get((entry.actor_type, entry.actor_id), ACTOR_LABELS.get(entry.actor_type, "其他"))
            for entry in entries}


def _stated_organisation(entry) -> str | None:
    """A credit report's verifier is whoever holds the report: their organisation as they stated it, so marked."""
    if entry.actor_type == "verifier" and entry.details.get("organisation"):
        return f"{entry.details['organisation']}（核验方自述）"
    return None


def _merchant_names(entries) -> dict[int, str]:
    """"商户（门店）" for the merchant entries: the merchant's name as it was at the scan (kept in the entry), and the
    branch it happened at (its name now)."""
    scans = [entry for entry in entries if entry.actor_type == "merchant" and entry.details.get("merchant")]
    branches = catalog.branch_names({entry.details["branch"] for entry in scans
                                     if isinstance(entry.details.get("branch"), int)})
    named = {}
    for entry in scans:
        branch = branches.get(entry.details.get("branch"))
        named[id(entry)] = f"{entry.details['merchant']}（{branch}）" if branch else entry.details["merchant"]
    return named
