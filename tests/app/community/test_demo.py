"""`flask demo seed` builds both schemes with members, entries in every state, a catalog, a 红榜 and desk accounts
that sign in."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from app.community.models import Entry, Redemption
from app.extensions import db
from tests.app.console.helpers import login


def test_demo_has_a_village_and_a_community_scheme_with_everything_in_it(app, runner, client):
    result = runner.invoke(args=["demo", "seed", "--citizens", "200"])
    assert result.exit_code == 0, result.output
    credentials = json.loads((Path(app.instance_path) / "demo-credentials.json").read_text(encoding="utf-8"))
    schemes = credentials["community"]["schemes"]
    assert [s["kind"] for s in schemes] == ["村", "社区"]
    assert [s["scheme"] for s in schemes] == ["枫源村文明积分", "仓桥社区信用积分"]
    with app.app_context():
        states = set(db.session.scalars(select(Entry.state).distinct()))
        assert states == {"declared", "publicised", "objected", "posted", "rejected"}
        assert db.session.scalar(select(func.count()).select_from(Entry).where(Entry.kind == "deduct")) > 0
        assert db.session.scalar(select(func.count()).select_from(Redemption).where(Redemption.state == "redeemed"))
    for scheme in schemes:
        board = client.get(f"/api/v1/community/schemes/{scheme['ref']}/honour-board").get_json()
        assert board["people"] and board["households"]
        assert all("*" in row["name"] for row in board["people"])
        account = next(a for a in scheme["accounts"] if a["role"] == "reviewer")
        desk = app.test_client()
        assert login(desk, account["username"], account["password"]).status_code == 302
        assert "审核与公示异议" in desk.get("/console/points/review").get_data(as_text=True)
    zfw = next(d for d in credentials["departments"] if d["code"] == "SX_ZFW")
    assert "HN_GOV_MEDIATION" in zfw["record_types"]
