"""扫码亮信 in the mini-program: a bound citizen gets a short-lived signed code with its QR images."""

from __future__ import annotations

import base64
import io
import time
from datetime import datetime

import pytest

from app.citizens import service as citizens
from app.extensions import db
from app.scoring import service as scoring
from app.security.signing import b64url_decode
from benefits import codes
from tests.benefits.conftest import _scenes  # noqa: F401 - the 13 scenes, restored for every test
from tests.benefits.helpers import make_citizen, mp_headers


@pytest.fixture
def citizen(app):
    with app.app_context():
        person = make_citizen("王丽", level=4)
        return {"ref": person.ref, "id": person.id, "headers": mp_headers(person)}


def test_code_with_expiry_and_qr_images(app, client, citizen):
    before = time.time()
    response = client.post("/mp/v1/me/credit-code", headers=citizen["headers"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == {"code", "expires_at", "expires_in", "level", "level_name", "qr_png", "qr_svg"}
    assert body["expires_in"] == app.config["CREDIT_CODE_TTL_SECONDS"] == 60
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert body["expires_at"].endswith("+08:00") and before + 59 <= expires_at.timestamp() <= time.time() + 61
    assert (body["level"], body["level_name"]) == (4, "优秀")
    assert body["qr_svg"].startswith("<svg")

    import zxingcpp
    from PIL import Image

    image = Image.open(io.BytesIO(base64.b64decode(body["qr_png"])))
    assert [result.text for result in zxingcpp.read_barcodes(image)] == [body["code"]]


def test_code_carries_no_name_id_number_or_score(app, client, citizen):
    body = client.post("/mp/v1/me/credit-code", headers=citizen["headers"]).get_json()
    claims, _, _ = codes.parse(body["code"])
    assert (claims.level, claims.issuer) == (4, "330600")
    raw = b64url_decode(body["code"].split(".")[2])
    with app.app_context():
        person = citizens.get_by_ref(citizen["ref"])
        total = scoring.current_score(person).total
    assert citizen["ref"].encode() not in raw and "王丽".encode() not in raw
    assert total.to_bytes(2, "big") not in raw[26:]  # after the level byte: city, iat, exp only
    # A fresh code id every time, the same pseudonymous subject (so per-citizen limits hold).
    again, _, _ = codes.parse(client.post("/mp/v1/me/credit-code", headers=citizen["headers"]).get_json()["code"])
    assert again.code_id != claims.code_id and again.subject == claims.subject


def test_no_scoring_consent_is_a_clear_refusal(app, client):
    with app.app_context():
        person = make_citizen("陈强", consent=False)
        headers = mp_headers(person)
    response = client.post("/mp/v1/me/credit-code", headers=headers)
    assert response.status_code == 409 and response.get_json()["code"] == "no_scoring_consent"
    assert "授权" in response.get_json()["message"]


def test_restricted_citizen_is_told_privately_instead_of_at_the_counter(app, client):
    with app.app_context():
        headers = mp_headers(make_citizen("刘某", level=0))
    response = client.post("/mp/v1/me/credit-code", headers=headers)
    assert response.status_code == 403 and response.get_json()["code"] == "restricted"
    assert "信用修复" in response.get_json()["message"]


def test_unbound_or_anonymous_caller_gets_no_code(app, client):
    assert client.post("/mp/v1/me/credit-code").status_code == 401
    from miniprogram_api.auth import issue_tokens
    from miniprogram_api.models import WeChatAccount

    with app.app_context():
        account = WeChatAccount(app_kind="mp", openid="o-unbound")
        db.session.add(account)
        db.session.commit()
        token = issue_tokens(account).access_token
    response = client.post("/mp/v1/me/credit-code", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403 and response.get_json()["code"] == "not_bound"


def test_refreshing_like_a_script_is_slowed_down(client, citizen):
    statuses = [client.post("/mp/v1/me/credit-code", headers=citizen["headers"]).status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429
