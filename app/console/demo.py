"""The demo city's console: a desk account per department, a reconstructed score history (the levels-over-time
chart) and a month of redemptions made through the real verification path, so every dashboard chart has data.
Adds ``console`` to the demo credentials."""

from __future__ import annotations

import random
import secrets
from datetime import UTC, datetime, time, timedelta
from unittest import mock

from sqlalchemy import select

from app.auth.service import create_department_user
from app.citizens.models import Citizen
from app.extensions import db
from app.scoring.backfill import reconstruct_history
from app.scoring.models import Score
from app.scoring.stats import month_ends
from app.timeutil import CITY_TZ, city_today
from benefits import credit_code, verification


def seed(payload: dict, base_url: str, rng: random.Random | None = None) -> None:
    rng = rng or random.Random(20261202)
    desks = []
    for department in payload.get("departments", []):
        username = department["code"].lower()
        password = secrets.token_urlsafe(12)
        create_department_user(department["code"], username, password, f"{department['name']}信用专员")
        desks.append({"department": department["code"], "name": department["name"], "username": username,
                      "password": password})
    db.session.commit()
    staff = payload.get("staff", {})
    payload["console"] = {
        "url": f"{base_url}/console/",
        "staff": {"username": staff.get("username"), "password": staff.get("password")},
        "admin": dict(staff.get("admin", {})),
        "departments": desks,
    }
    today = city_today()
    ends = month_ends(today.replace(day=1) - timedelta(days=335), today - timedelta(days=today.day))
    reconstruct_history(ends)
    _redemptions(payload, rng, days=30)


def _redemptions(payload: dict, rng: random.Random, days: int) -> int:
    """Redemptions on each of the last ``days`` days, through credit_code and verification with the clock set to
    that day (the one seam the tests move time through)."""
    terminals = []
    for merchant in payload.get("merchants", []):
        info = verification.authenticate_terminal(merchant["terminals"][0]["key"])
        if info is not None and not isinstance(info, str):
            terminals.append((info, merchant["offers"], [b["branch_id"] for b in merchant["branches"]]))
    holders = list(db.session.execute(select(Score.citizen_id, Score.level).where(Score.level >= 3)
                                      .order_by(Score.citizen_id).limit(400)).all())
    if not terminals or not holders:
        return 0
    today = city_today()
    made = 0
    for back in range(days, -1, -1):
        day = today - timedelta(days=back)
        for _ in range(rng.randint(2, 9)):
            terminal, offers, branches = rng.choice(terminals)
            offer = rng.choice(offers)
            citizen_id, level = rng.choice(holders)
            if level < offer["min_level"]:
                continue
            moment = datetime.combine(day, time(rng.randint(9, 19), rng.randint(0, 59)), tzinfo=CITY_TZ)
            if moment.astimezone(UTC) > datetime.now(UTC):
                continue
            with mock.patch.object(credit_code, "clock", lambda m=moment: m.timestamp()):
                citizen = db.session.get(Citizen, citizen_id)
                token = credit_code.sign_code(citizen)[0]
                outcome = verification.verify(terminal, token, offer["offer_id"],
                                              rng.choice(branches) if branches else None)
            made += outcome.eligible
    db.session.commit()
    return made
