"""The issue's "Done when", tried as a newcomer would against a (small) demo city."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.citizens import service as citizens
from app.demo.seed import seed_demo_city
from benefits import demo
from tests.benefits.helpers import code_for, mp_headers
from tests.factories import bearer


def _demo(app) -> dict:
    with app.app_context():
        city = seed_demo_city(60)
        payload = {"citizens": city.citizens}
        demo.seed(payload)
        people = {}
        for person in payload["citizens"]:
            people.setdefault(person["level"], mp_headers(citizens.get_by_ref(person["ref"])))
    return {"payload": payload, "people": people}


def test_demo_city_walk_through(app, client):
    seeded = _demo(app)
    merchants = {m["name"]: m for m in seeded["payload"]["merchants"]}
    assert len(merchants) >= 5 and len({scene for m in merchants.values() for scene in m["scenes"]}) >= 5
    for merchant in merchants.values():
        assert merchant["terminals"][0]["key"].startswith("mk_") and merchant["branches"] and merchant["offers"]
    assert 1 in seeded["people"], "the demo city must show an L1 (待提高) citizen"
    good = seeded["people"].get(4) or seeded["people"].get(5) or seeded["people"][3]

    # A bound citizen sees the offers and gets a code.
    listing = client.get("/mp/v1/me/offers", headers=good).get_json()
    titles = [offer["title"] for offer in listing["qualified"]]
    assert "大禹陵景区门票8折" in titles and "公共自行车免押金" in titles
    code = code_for(client, good)

    # A merchant terminal redeems it once, and is refused the second time.
    yuling = merchants["绍兴大禹陵景区管理处"]
    offer = next(o for o in yuling["offers"] if o["title"] == "大禹陵景区门票8折")
    assert offer["min_level"] == 3
    body = {"code": code, "offer_id": offer["offer_id"], "branch_id": yuling["branches"][0]["branch_id"]}
    terminal = bearer(yuling["terminals"][0]["key"])
    first = client.post("/merchant/v1/verifications", headers=terminal, json=body).get_json()
    assert first["eligible"] is True and first["redemption_id"]
    second = client.post("/merchant/v1/verifications", headers=terminal, json=body).get_json()
    assert (second["eligible"], second["reason"]) == (False, "already_used")

    # An L1 citizen is refused a level-3 offer.
    low = client.post("/merchant/v1/verifications", headers=terminal,
                      json={**body, "code": code_for(client, seeded["people"][1])}).get_json()
    assert (low["reason"], low["level_name"]) == ("level_too_low", "待提高")

    # The JWKS verifies the code with a standard Ed25519 library.
    prefix, kid, payload, signature = code.split(".")
    jwk = next(k for k in client.get("/.well-known/jwks.json").get_json()["keys"] if k["kid"] == kid)
    unb64 = lambda text: base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))  # noqa: E731
    Ed25519PublicKey.from_public_bytes(unb64(jwk["x"])).verify(unb64(signature), f"{prefix}.{kid}.{payload}".encode())
