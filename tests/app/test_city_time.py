"""Every time the API answers is shown in Asia/Shanghai (+08:00), for staff and partners as for citizens."""

from __future__ import annotations

import importlib

from marshmallow import Schema, fields

from app.factory import BLUEPRINT_MODULES
from tests.factories import new_id_number, staff_headers


def test_no_response_schema_shows_a_time_in_utc():
    from app.schema_base import CityDateTime

    modules = {name.rsplit(".", 1)[0] + ".schemas" for name in BLUEPRINT_MODULES} | {"benefits.schemas"}
    plain = []
    for module_name in sorted(modules):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        for name, cls in vars(module).items():
            if isinstance(cls, type) and issubclass(cls, Schema):
                for field_name, field in cls._declared_fields.items():
                    if isinstance(field, fields.DateTime) and not isinstance(field, CityDateTime) \
                            and not field.load_only and not isinstance(field, fields.AwareDateTime):
                        plain.append(f"{module_name}.{name}.{field_name}")
    assert plain == []


def test_staff_see_consent_times_in_city_time(app, client):
    with app.app_context():
        headers = staff_headers(client)
    created = client.post("/api/v1/citizens", json={"name": "鲁迅", "id_number": new_id_number(), "phone": None,
                                                    "scoring_consent": True}, headers=headers).get_json()
    scoring = next(c for c in created["consents"] if c["kind"] == "scoring")
    assert scoring["granted_at"].endswith("+08:00"), scoring
