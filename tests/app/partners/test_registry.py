"""The partner registry: seeded known cities, and the staff API to manage partners and their keys."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.partners import service as registry
from tests.app.partners.conftest import QIANJIANG_CUTOFFS, PartnerCity
from tests.factories import staff_headers


@pytest.fixture
def admin(app, client):
    with app.app_context():
        return staff_headers(client, "admin01", "admin")


@pytest.fixture
def staff(app, client):
    with app.app_context():
        return staff_headers(client, "staff01")


def test_seed_adds_the_known_cities_except_our_own_and_is_idempotent(app, runner):
    result = runner.invoke(args=["partners", "seed"])
    assert result.exit_code == 0, result.output
    assert "330100" in result.output and "330600" not in result.output
    assert "added 0" in runner.invoke(args=["partners", "seed"]).output
    with app.app_context():
        rows = {p.city_code: p for p in registry.list_partners()}
        assert set(rows) == {"330100", "330200", "320500"}
        hangzhou = rows["330100"]
        assert (hangzhou.score_name, hangzhou.status, hangzhou.scale_confirmed) == ("钱江分", "active", True)
        assert [c.min for c in registry.scale_of(hangzhou).cutoffs] == [0, 550, 600, 700, 750]
        for code, score in (("330200", "天一分"), ("320500", "桂花分")):
            placeholder = rows[code]
            assert (placeholder.score_name, placeholder.status, placeholder.scale_confirmed) == (score, "suspended",
                                                                                                False)
            assert placeholder.scale_note == "未公开——需与对方城市确认" and registry.scale_of(placeholder) is None


def test_an_instance_running_as_hangzhou_seeds_shaoxing_instead(app):
    with app.app_context():
        previous = app.config["CITY_CODE"]
        app.config["CITY_CODE"] = "330100"
        try:
            added = registry.seed_known_partners()
            db.session.commit()
        finally:
            app.config["CITY_CODE"] = previous
        assert added == ["330600", "330200", "320500"]
        shaoxing = registry.find_partner("330600")
        assert [c.min for c in registry.scale_of(shaoxing).cutoffs] == [0, 560, 640, 720, 800]


def test_staff_read_admins_change(app, client, staff, admin):
    with app.app_context():
        registry.seed_known_partners()
        db.session.commit()
    listed = client.get("/api/v1/partners", headers=staff).get_json()
    assert [p["city_code"] for p in listed] == ["320500", "330100", "330200"]
    hangzhou = client.get("/api/v1/partners/330100", headers=staff).get_json()
    assert hangzhou["cutoffs"][2] == {"level": 3, "name": "良好", "min": 600, "max": 699}
    assert hangzhou["scale"] == {"min": 0, "max": 1000} and hangzhou["key_ids"] == []
    assert client.get("/api/v1/partners?status=suspended", headers=staff).get_json()[0]["city_code"] == "320500"
    response = client.post("/api/v1/partners/330100/suspend", headers=staff)
    assert (response.status_code, response.get_json()["code"]) == (403, "forbidden")
    assert client.post("/api/v1/partners/330100/suspend", headers=admin).get_json()["status"] == "suspended"
    assert client.post("/api/v1/partners/330100/activate", headers=admin).get_json()["status"] == "active"
    assert client.get("/api/v1/partners").status_code == 401
    assert client.get("/api/v1/partners/999999", headers=staff).get_json()["code"] == "partner_unknown"


def test_confirming_a_placeholder_scale(app, client, admin):
    with app.app_context():
        registry.seed_known_partners()
        db.session.commit()
    body = {"scale_min": 0, "scale_max": 1000, "scale_confirmed": True, "scale_note": "2026年11月与宁波确认",
            "cutoffs": [{"level": level, "min": start} for level, start in
                        ((1, 0), (2, 500), (3, 600), (4, 700), (5, 800))]}
    updated = client.patch("/api/v1/partners/330200", json=body, headers=admin).get_json()
    assert updated["scale_confirmed"] is True and updated["cutoffs"][4] == {"level": 5, "name": "", "min": 800,
                                                                             "max": 1000}
    for bad in ([{"level": 1, "min": 0}], [{"level": level, "min": 100 * level} for level in range(1, 6)],
                [{"level": level, "min": [0, 600, 500, 700, 800][level - 1]} for level in range(1, 6)]):
        response = client.patch("/api/v1/partners/330200", json={"cutoffs": bad}, headers=admin)
        assert (response.status_code, response.get_json()["code"]) == (422, "invalid_scale"), bad
    too_big = client.patch("/api/v1/partners/330200", json={"scale_max": 10**20}, headers=admin)
    assert too_big.status_code == 422 and set(too_big.get_json()["errors"]) == {"scale_max"}


def test_create_a_new_partner_with_inline_keys(app, client, admin, tmp_path):
    city = PartnerCity(tmp_path / "wz", "330300", "温州", "金鹿分")
    body = {"city_code": "330300", "city_name": "温州", "score_name": "金鹿分", "scale_min": 0, "scale_max": 1000,
            "cutoffs": QIANJIANG_CUTOFFS, "jwks": city.ring.jwks()}
    created = client.post("/api/v1/partners", json=body, headers=admin)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["status"] == "suspended"  # a new partner starts suspended
    assert created.get_json()["key_ids"] == [city.ring.current().kid]
    assert client.post("/api/v1/partners", json=body, headers=admin).get_json()["code"] == "partner_exists"
    own = client.post("/api/v1/partners", json={**body, "city_code": "330600"}, headers=admin)
    assert own.get_json()["code"] == "own_city"
    assert client.post("/api/v1/partners", json={**body, "city_code": "hz"}, headers=admin).status_code == 422


def test_keys_are_checked_and_a_jwks_url_fetched_at_once(app, client, admin, hangzhou, monkeypatch):
    private = {"keys": [{**hangzhou.ring.jwks()["keys"][0], "d": "AAAA"}]}
    response = client.put("/api/v1/partners/330100/keys", json={"jwks": private}, headers=admin)
    assert (response.status_code, response.get_json()["code"]) == (422, "invalid_jwks")
    response = client.put("/api/v1/partners/330100/keys", json={"jwks": {"keys": [{"kty": "RSA"}]}}, headers=admin)
    assert response.get_json()["code"] == "invalid_jwks"
    # Nothing listens on port 9: the address is refused and nothing is kept.
    response = client.put("/api/v1/partners/330100/keys", headers=admin,
                          json={"jwks_url": "http://127.0.0.1:9/.well-known/jwks.json",
                                "api_base_url": "http://127.0.0.1:9/partner/v1"})
    assert (response.status_code, response.get_json()["code"]) == (502, "jwks_unavailable")
    assert client.get("/api/v1/partners/330100", headers=admin).get_json()["jwks_url"] is None
    from app.partners import client as partner_client

    monkeypatch.setattr(partner_client, "fetch_jwks", lambda url, timeout=None: hangzhou.ring.jwks())
    response = client.put("/api/v1/partners/330100/keys", headers=admin,
                          json={"jwks_url": "http://hz.example/.well-known/jwks.json",
                                "api_base_url": "http://hz.example/partner/v1"})
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["jwks_url"] == "http://hz.example/.well-known/jwks.json" and body["jwks_fetched_at"]
    assert body["key_ids"] == [hangzhou.ring.current().kid]


def test_cli_configure_and_list(app, runner, hangzhou, tmp_path):
    path = tmp_path / "jwks.json"
    import json

    path.write_text(json.dumps(hangzhou.ring.jwks()))
    result = runner.invoke(args=["partners", "configure", "330100", "--jwks-file", str(path),
                                 "--api-base-url", "http://hz.example/partner/v1", "--activate"])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(args=["partners", "list"]).output
    assert "330100\t杭州\t钱江分\tactive" in listed and "http://hz.example/partner/v1" in listed
    assert "format: jws" in listed
    assert runner.invoke(args=["partners", "configure", "999999", "--api-base-url", "http://x/"]).exit_code != 0
