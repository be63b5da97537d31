"""A partner city simulated in-process: its own Ed25519 key ring, registered in our registry with its JWKS.

It signs what a real partner instance would: attestations for us, its own credit codes, and the short-lived JWTs
its servers use to call our partner API. The two-city tests (tests/two_cities/) do the same with a second real
instance over HTTP.
"""

from __future__ import annotations

import secrets
import time

import pytest

from app.extensions import db
from app.partners import jws
from app.partners import service as registry
from app.security.signing import KeyRing, b64url
from benefits import codes
from benefits.catalog import ensure_default_scenes

QIANJIANG_CUTOFFS = [{"level": 1, "min": 0, "name": "待提高"}, {"level": 2, "min": 550, "name": "一般"},
                     {"level": 3, "min": 600, "name": "良好"}, {"level": 4, "min": 700, "name": "优秀"},
                     {"level": 5, "min": 750, "name": "极好"}]


@pytest.fixture(autouse=True)
def _scenes(app):
    with app.app_context():
        ensure_default_scenes()
    yield


class PartnerCity:
    def __init__(self, directory, city_code: str = "330100", city_name: str = "杭州", score_name: str = "钱江分",
                 our_code: str = "330600") -> None:
        self.ring = KeyRing(directory)
        self.city_code, self.city_name, self.score_name, self.our_code = city_code, city_name, score_name, our_code

    def register(self, status: str = "active", cutoffs=QIANJIANG_CUTOFFS, **extra):
        partner = registry.create_partner({
            "city_code": self.city_code, "city_name": self.city_name, "score_name": self.score_name,
            "scale_min": 0, "scale_max": 1000, "cutoffs": cutoffs, "scale_confirmed": True, "status": status,
            "jwks": self.ring.jwks(), **extra})
        db.session.commit()
        return partner

    def attestation(self, *, aud=None, sub: str | None = None, lvl: int = 3, score: int | None = None,
                    issued_at: int | None = None, ttl: int = 3600, jti: str | None = None, iss: str | None = None,
                    key=None, **extra) -> str:
        now = int(issued_at if issued_at is not None else time.time())
        claims = {"iss": iss or self.city_code, "aud": aud or self.our_code,
                  "sub": sub or "hz-" + b64url(secrets.token_bytes(16)), "lvl": lvl, "lvl_name": "良好",
                  "iat": now, "exp": now + ttl, "jti": jti or b64url(secrets.token_bytes(16)), **extra}
        if score is not None:
            claims.update(score=score, score_name=self.score_name, scale=[0, 1000])
        return jws.sign(claims, key or self.ring.current())

    def credit_code(self, *, level: int = 3, subject: bytes | None = None, ttl: int = 60,
                    issued_at: int | None = None, kid: str | None = None, sign=None) -> str:
        key = self.ring.current()
        now = int(issued_at if issued_at is not None else time.time())
        return codes.encode(kid=kid or key.kid, sign=sign or key.sign, code_id=codes.new_code_id(),
                            subject=subject or secrets.token_bytes(12), level=level, issuer=self.city_code,
                            issued_at=now, expires_at=now + ttl)

    def auth_token(self, *, aud: str | None = None, issued_at: int | None = None, ttl: int = 120,
                   jti: str | None = None, iss: str | None = None, key=None) -> str:
        now = int(issued_at if issued_at is not None else time.time())
        return jws.sign({"iss": iss or self.city_code, "aud": aud or self.our_code, "iat": now, "exp": now + ttl,
                         "jti": jti or b64url(secrets.token_bytes(16))}, key or self.ring.current())

    def headers(self, **kwargs) -> dict:
        return {"Authorization": f"Bearer {self.auth_token(**kwargs)}"}


@pytest.fixture
def hangzhou(app, tmp_path):
    """杭州 (钱江分), registered and active, with its keys inline."""
    city = PartnerCity(tmp_path / "hangzhou-keys")
    with app.app_context():
        city.register()
    return city


@pytest.fixture
def ningbo(app, tmp_path):
    """宁波 (天一分), registered and active (unlike its seeded placeholder), for pairwise-pseudonym tests."""
    city = PartnerCity(tmp_path / "ningbo-keys", "330200", "宁波", "天一分")
    with app.app_context():
        city.register()
    return city
