"""`flask demo seed`: a newcomer gets a synthetic city and the credentials to try it."""

import json
from pathlib import Path

from app.extensions import db
from app.scoring.models import Score


def test_demo_seed_writes_working_credentials(app, runner, client):
    result = runner.invoke(args=["demo", "seed", "--citizens", "300"])
    assert result.exit_code == 0, result.output
    path = Path(app.instance_path) / "demo-credentials.json"
    assert str(path) in result.output
    credentials = json.loads(path.read_text(encoding="utf-8"))

    department = next(d for d in credentials["departments"] if d["code"] == "SX_AMR")
    assert "LA_PENALTY_GENERAL" in department["record_types"]
    response = client.post("/api/v1/records/batch", json={"records": []},
                           headers={"Authorization": f"Bearer {department['key']}"})
    assert response.status_code == 200

    login = client.post("/api/v1/auth/token", json={"username": credentials["staff"]["username"],
                                                    "password": credentials["staff"]["password"]})
    headers = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
    assert {c["level"] for c in credentials["citizens"]} >= {0, 1, 3, 4, 5}
    for shown in credentials["citizens"]:
        found = client.post("/api/v1/citizens/lookup", json={"id_number": shown["id_number"], "reason": "演示"},
                            headers=headers).get_json()
        assert found["name"] == shown["name"]
        score = client.get(f"/api/v1/citizens/{found['ref']}/score", headers=headers).get_json()
        assert (score["level"], score["total"]) == (shown["level"], shown["total"])

    with app.app_context():
        records_per_adult = db.session.scalar(db.text("SELECT count(*) FROM credit_record")) / 300
        statuses = set(db.session.scalars(db.text("SELECT DISTINCT status FROM credit_record")))
        assert db.session.scalar(db.select(db.func.count()).select_from(Score)) > 250
    assert 5 <= records_per_adult <= 12
    assert statuses == {"active", "disputed", "repaired", "revoked", "expired"}

    # Citizen rights: every disputed record has an open objection, every repaired one an approved repair, and
    # cases exist in every state.
    with app.app_context():
        from app.rights.models import RightsCase

        cases = db.session.execute(db.select(RightsCase.kind, RightsCase.state, RightsCase.record_id)).all()
        open_objections = {c.record_id for c in cases if c.kind == "objection" and c.state in ("received", "answered")}
        approved = {c.record_id for c in cases if c.kind == "repair" and c.state == "approved"}
        disputed = set(db.session.scalars(db.text("SELECT id FROM credit_record WHERE status = 'disputed'")))
        repaired = set(db.session.scalars(db.text("SELECT id FROM credit_record WHERE status = 'repaired'")))
    assert disputed and disputed == open_objections
    assert repaired and repaired == approved
    assert {(c.kind, c.state) for c in cases} >= {
        ("objection", "received"), ("objection", "answered"), ("objection", "upheld"), ("objection", "dismissed"),
        ("objection", "corrected"), ("objection", "withdrawn"), ("repair", "applied"), ("repair", "approved"),
        ("repair", "rejected")}
    rights = credentials["rights"]
    assert rights["objection_citizen"]["record_ref"] and rights["repair_citizen"]["record_ref"]
    queue = client.get("/api/v1/rights/cases?state=open", headers=headers).get_json()
    assert queue["total"] >= len(disputed)
    stats = client.get("/api/v1/rights/stats?from=2026-09-01&to=2026-12-31", headers=headers).get_json()
    assert next(k for k in stats["kinds"] if k["kind"] == "objection")["total"]["decided"] > 0

    # Credit reports: one citizen holds one of each kind and a revoked one; each verifies as the file says.
    reports = credentials["reports"]
    assert {r["scope"] for r in reports["reports"]} == {"level", "level_score", "full"}
    for report in reports["reports"]:
        answer = client.get(f"/api/v1/reports/{report['number']}/verification").get_json()
        assert answer["status"] == report["status"] and answer["scope"] == report["scope"]
        assert Path(report["pdf_file"]).read_bytes().startswith(b"%PDF-")
    assert [r["status"] for r in reports["reports"]].count("revoked") == 1

    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code != 0 and "already" in again.output
