"""The demo city has commitments and voluntary reports in every state, and its credentials say how to try them."""

import json
from datetime import timedelta
from pathlib import Path

from app.extensions import db
from app.rights.commitment_models import Commitment, VoluntaryReport
from app.timeutil import city_today


def test_demo_seed_has_commitments_in_every_state_and_the_period_end_works(app, runner):
    result = runner.invoke(args=["demo", "seed", "--citizens", "300"])
    assert result.exit_code == 0, result.output
    credentials = json.loads((Path(app.instance_path) / "demo-credentials.json").read_text(encoding="utf-8"))
    entry = credentials["commitments"]
    assert {d["code"] for d in entry["violation_departments"]} == {"SX_CULTURE", "SX_TRAFFIC", "SX_URBAN"}
    with app.app_context():
        states = set(db.session.scalars(db.select(Commitment.status).distinct()))
        sources = set(db.session.scalars(db.select(Commitment.source).distinct()))
        reports = set(db.session.scalars(db.select(VoluntaryReport.state).distinct()))
    assert states == {"active", "kept", "broken", "false"}
    assert sources == {"citizen", "department", "repair"}
    assert reports == {"submitted", "accepted", "rejected"}

    tomorrow = (city_today() + timedelta(days=1)).isoformat()
    settled = runner.invoke(args=["commitments", "settle", "--date", tomorrow])
    assert f"{len(entry['due_tomorrow'])} kept" in settled.output
