"""A partner city's SD-JWT VC at our merchant: the disclosures it chose, a tampered one refused, its Token Status
List read over HTTP from the partner's own address, its JWKS refreshed when older than its ttl (refused when that
fails), its key's window; and the legacy compact JWS accepted until PARTNER_LEGACY_JWS_UNTIL, not after.

The partner is served by a real HTTP server on loopback (its JWKS and status lists), as a partner instance would
serve them; the two-city tests do it with a second instance of this project."""

from __future__ import annotations

import json
import secrets
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from joserfc import jwt as jose_jwt

from app.extensions import db
from app.partners import sdjwt, status_list
from app.partners import service as registry
from app.security.signing import b64url
from app.timeutil import city_today, utcnow
from tests.app.partners.conftest import PartnerCity
from tests.benefits.helpers import Shop, make_citizen, mp_headers

pytestmark = pytest.mark.filterwarnings("ignore::joserfc.errors.SecurityWarning")


class PartnerServer:
    """The partner's public documents over real HTTP: path -> (status, content type, body)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, str, str]] = {}
        routes = self.routes

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                status, content_type, body = routes.get(self.path, (404, "text/plain", "not found"))
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class ModernPartner(PartnerCity):
    """杭州 issuing SD-JWT VCs with a status list it serves itself."""

    def __init__(self, directory, server: PartnerServer) -> None:
        super().__init__(directory)
        self.server = server
        self.revoked: set[int] = set()
        self.next_index = 0
        self.publish()

    def publish(self, jwks: dict | None = None) -> None:
        self.server.routes["/.well-known/jwks.json"] = (200, "application/json", json.dumps(jwks or self.ring.jwks()))
        now = int(time.time())
        lst = status_list.encode_lst(status_list.pack(dict.fromkeys(self.revoked, 1), 1024))
        key = self.ring.current()
        token = jose_jwt.encode({"alg": "Ed25519", "kid": key.kid, "typ": "statuslist+jwt"},
                                {"sub": self.list_uri, "iat": now, "exp": now + 600, "ttl": 60,
                                 "status_list": {"bits": 1, "lst": lst}}, key.jose_private(), algorithms=["Ed25519"])
        self.server.routes["/partner/v1/status-lists/1"] = (200, "application/statuslist+jwt", token)

    @property
    def list_uri(self) -> str:
        return f"{self.server.url}/partner/v1/status-lists/1"

    def register_modern(self):
        partner = self.register(jwks=None, jwks_url=f"{self.server.url}/.well-known/jwks.json",
                                api_base_url=f"{self.server.url}/partner/v1", credential_format="sd-jwt-vc")
        registry.refresh_jwks(partner)  # as staff do when they set the URL (PUT …/keys)
        db.session.commit()
        return partner

    def sd_jwt_vc(self, *, level: int = 3, score: int | None = None, name: str | None = None, uri: str | None = None,
                  issued_at: int | None = None, ttl: int = 3600, key=None) -> tuple[str, int]:
        now = int(issued_at if issued_at is not None else time.time())
        index, self.next_index = self.next_index, self.next_index + 1
        claims = {"iss": self.city_code, "aud": self.our_code, "sub": "hz-" + b64url(secrets.token_bytes(16)),
                  "iat": now, "nbf": now, "exp": now + ttl, "jti": b64url(secrets.token_bytes(16)),
                  "vct": sdjwt.VCT, "level": level, "level_name": "良好",
                  "status": {"status_list": {"idx": index, "uri": uri or self.list_uri}}}
        selective = {k: v for k, v in (("score", score), ("name", name)) if v is not None}
        issuer_jwt, disclosures = sdjwt.issue(claims, selective, key or self.ring.current())
        return sdjwt.present(issuer_jwt, disclosures.values()), index


@pytest.fixture
def server():
    served = PartnerServer()
    yield served
    served.close()


@pytest.fixture
def modern(app, tmp_path, server):
    city = ModernPartner(tmp_path / "hz-modern", server)
    with app.app_context():
        city.register_modern()
    return city


@pytest.fixture
def shop(app, client):
    with app.app_context():
        return Shop(client, partner_allowed=True, partner_min_level=3)


def test_an_sd_jwt_vc_with_the_chosen_disclosures_is_accepted(client, shop, modern):
    token, _ = modern.sd_jwt_vc(level=3)
    answer = shop.verify(token)
    assert (answer["eligible"], answer["reason"], answer["partner_city"]) == (True, "ok", "杭州"), answer
    assert shop.verify(token)["reason"] == "already_used"
    # With the 钱江分 disclosed, our registry's cut-offs decide: 760 is 极好 (L5) on 钱江分's public ladder.
    token, _ = modern.sd_jwt_vc(level=3, score=760, name="苏小小")
    answer = shop.verify(token)
    assert (answer["reason"], answer["level_name"]) == ("ok", "极好"), answer
    assert answer["masked_name"] is None  # a partner's citizen is never named at our counter


def test_a_tampered_disclosure_is_refused(client, shop, modern):
    token, _ = modern.sd_jwt_vc(level=2, score=560)
    issuer_jwt, disclosure, _ = token.split("~")
    salt, name, _value = json.loads(sdjwt.b64url_decode(disclosure))
    forged = b64url(json.dumps([salt, name, 900]).encode())
    answer = shop.verify(f"{issuer_jwt}~{forged}~")
    assert (answer["eligible"], answer["reason"]) == (False, "bad_disclosure"), answer
    assert "篡改" in answer["message"]
    # The issuer-signed part alone still says L2: below the offer, but genuine.
    assert shop.verify(f"{issuer_jwt}~")["reason"] == "level_too_low"


def test_revoked_in_the_partners_status_list_is_refused(app, client, shop, modern):
    token, index = modern.sd_jwt_vc()
    modern.revoked.add(index)
    modern.publish()
    answer = shop.verify(token)
    assert (answer["eligible"], answer["reason"]) == (False, "attestation_revoked"), answer


def test_a_status_list_that_cannot_be_read_refuses_the_token(client, shop, modern, server):
    token, _ = modern.sd_jwt_vc(uri="http://203.0.113.9/partner/v1/status-lists/1")  # not the partner's address
    assert shop.verify(token)["reason"] == "status_unavailable"
    server.routes["/partner/v1/status-lists/1"] = (503, "text/plain", "down")
    token, _ = modern.sd_jwt_vc()
    answer = shop.verify(token)
    assert (answer["eligible"], answer["reason"]) == (False, "status_unavailable") and "稍后" in answer["message"]


def test_a_stale_partner_jwks_is_refreshed_or_refused(app, client, shop, modern, server, monkeypatch):
    with app.app_context():
        partner = registry.find_partner("330100")
        first_fetch = partner.jwks_fetched_at
        partner.jwks_fetched_at = utcnow() - timedelta(seconds=app.config["PARTNER_JWKS_TTL_SECONDS"] + 60)
        db.session.commit()
    monkeypatch.setitem(app.config, "PARTNER_JWKS_REFRESH_MIN_SECONDS", 1)
    jwks = server.routes.pop("/.well-known/jwks.json")
    token, _ = modern.sd_jwt_vc()
    answer = shop.verify(token)
    assert (answer["eligible"], answer["reason"]) == (False, "partner_keys_stale"), answer
    # The partner answers again: the next scan refreshes (after the refresh throttle) and is accepted.
    server.routes["/.well-known/jwks.json"] = jwks
    time.sleep(1.1)
    assert shop.verify(token)["reason"] == "ok"
    with app.app_context():
        assert registry.find_partner("330100").jwks_fetched_at > first_fetch


def test_a_signature_before_the_partner_keys_not_before_is_refused(app, client, shop, modern):
    upcoming = modern.ring.prepare_next(not_before=time.time() + 3600)
    modern.publish()
    with app.app_context():
        registry.refresh_jwks(registry.find_partner("330100"))
        db.session.commit()
    from joserfc.jwk import OKPKey

    class Early:  # the published-but-not-yet-valid key, used before its time (a stolen next key)
        kid = upcoming.kid

        @staticmethod
        def jose_private():
            return OKPKey.import_key(upcoming._private)

    token, _ = modern.sd_jwt_vc(key=Early)
    assert shop.verify(token)["reason"] == "key_out_of_window"


def test_a_partners_early_switch_is_learnt_by_refetching_its_jwks(app, client, shop, modern):
    modern.ring.prepare_next(not_before=time.time() + 3600)
    modern.publish()
    with app.app_context():
        registry.refresh_jwks(registry.find_partner("330100"))  # we hold the next key with its nbf an hour ahead
        db.session.commit()
    switched = modern.ring.rotate(keep_previous_for=600)  # an emergency: the next key signs now
    modern.publish()
    token, _ = modern.sd_jwt_vc(key=switched)
    assert shop.verify(token)["reason"] == "ok"


def test_legacy_jws_is_accepted_until_the_stated_date_and_not_after(app, client, shop, hangzhou, monkeypatch):
    assert shop.verify(hangzhou.attestation(lvl=3))["reason"] == "ok"
    with app.app_context():
        citizen = make_citizen("李清照", level=3)
        from app.citizens import service as citizens

        citizens.grant_consent(citizen, "partner_sharing", channel="test")
        db.session.commit()
        headers = mp_headers(citizen)
    assert client.post("/mp/v1/me/attestations", json={"partner": "330100"}, headers=headers).status_code == 201
    monkeypatch.setitem(app.config, "PARTNER_LEGACY_JWS_UNTIL", (city_today() - timedelta(days=1)).isoformat())
    answer = shop.verify(hangzhou.attestation(lvl=3))
    assert (answer["eligible"], answer["reason"]) == (False, "legacy_format_retired") and "旧格式" in answer["message"]
    refused = client.post("/mp/v1/me/attestations", json={"partner": "330100"}, headers=headers)
    assert refused.status_code == 409 and refused.get_json()["code"] == "legacy_format_retired"
    assert client.get("/partner/v1/info").get_json()["credential_formats"] == ["sd-jwt-vc"]
