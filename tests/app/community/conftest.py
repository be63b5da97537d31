from __future__ import annotations

import pytest

from app.citizens.service import ID_PURPOSE
from app.security.pii import vault


@pytest.fixture
def citizen_headers(client, wechat):
    """``citizen_headers(citizen)`` -> headers of a mini-program session bound to that citizen."""

    def bind(citizen) -> dict:
        login = client.post("/mp/v1/session", json={"code": f"pts-{citizen.ref}"})
        assert login.status_code == 200, login.get_json()
        headers = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
        if login.get_json().get("bound"):
            return headers
        response = client.post("/mp/v1/binding", headers=headers, json={
            "name": citizen.name, "id_number": vault().decrypt(citizen.id_cipher, ID_PURPOSE),
            "phone": "13712345678"})
        assert response.status_code == 201, response.get_json()
        return headers

    return bind
