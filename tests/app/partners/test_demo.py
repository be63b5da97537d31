"""The demo city comes with its partner registry and offers open to partner citizens."""

import json
from pathlib import Path

from app.extensions import db
from benefits import catalog


def test_demo_seed_writes_the_partners_entry(app, runner):
    result = runner.invoke(args=["demo", "seed", "--citizens", "40"])
    assert result.exit_code == 0, result.output
    credentials = json.loads((Path(app.instance_path) / "demo-credentials.json").read_text(encoding="utf-8"))
    partners = credentials["partners"]
    assert partners["city"] == {"city_code": "330600", "city_name": "绍兴", "score_name": "绍兴信用分",
                                "rules_version": "v1"}
    assert partners["jwks_url"].endswith("/.well-known/jwks.json") and partners["api_base_url"].endswith("/partner/v1")
    assert [(p["city_code"], p["status"]) for p in partners["registry"]] == [
        ("320500", "suspended"), ("330100", "active"), ("330200", "suspended")]
    # Seeded partners take the compact JWS until staff switch them; the entry says how and where the lists are.
    assert {p["credential_format"] for p in partners["registry"]} == {"jws"}
    assert partners["credentials"]["status_lists"].endswith("/partner/v1/status-lists/1")
    opened = partners["offers_open_to_partner_citizens"]
    assert {o["title"] for o in opened} == {"大禹陵景区门票8折", "咸亨酒店堂食9折", "首小时停车免费"}
    with app.app_context():
        for entry in opened:
            offer = catalog.get_offer(entry["offer_id"])
            assert offer.partner_allowed and offer.partner_min_level == entry["partner_min_level"]
            assert entry["terminal_key"]
        db.session.remove()
