"""Base classes of the schemas that read JSON bodies: JSON's own types, nothing coerced.

marshmallow's defaults are made for text (a form, a query string): ``Integer`` casts ``2.6e-42`` to ``0`` and
``Boolean`` takes ``0``, ``"yes"`` or ``"on"``. A JSON body has real types, so a body schema asks for them:
integers with ``strict=True`` (and not ``true``, which Python counts as an integer), booleans that are ``true`` or
``false`` only. Query-string schemas keep marshmallow's base class, since a query string is text by nature.

``PatchSchema`` adds the rule for partial updates: a body that changes nothing (none, or ``{}``) is a mistake the
caller hears about, not a silent 200.
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, pre_load

from app.timeutil import CITY_TZ

BOOLEAN_MESSAGE = "应为 true 或 false。"
INTEGER_MESSAGE = "应为整数。"
EMPTY_PATCH_MESSAGE = "请至少提供一项要修改的内容。"


class BodySchema(Schema):
    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        super().on_bind_field(field_name, field_obj)
        for field in (field_obj, getattr(field_obj, "inner", None)):
            if isinstance(field, fields.Integer):
                field.strict = True

    @pre_load
    def _json_types(self, data, **kwargs):
        if not isinstance(data, dict):
            return data  # marshmallow answers "应为 JSON 对象" itself
        errors: dict[str, list[str]] = {}
        for name, field in self.load_fields.items():
            key = field.data_key or name
            if key not in data or data[key] is None:
                continue
            value = data[key]
            if isinstance(field, fields.Boolean) and not isinstance(value, bool):
                errors[key] = [BOOLEAN_MESSAGE]
            elif isinstance(field, fields.Integer) and isinstance(value, bool):
                errors[key] = [INTEGER_MESSAGE]
        if errors:
            raise ValidationError(errors)
        return data


class PatchSchema(BodySchema):
    @pre_load
    def _something_to_change(self, data, **kwargs):
        if isinstance(data, dict) and not data:
            raise ValidationError({"_schema": [EMPTY_PATCH_MESSAGE]})
        return data


class CityDateTime(fields.DateTime):
    """A stored UTC moment shown in Asia/Shanghai time (with its +08:00 offset): every time the API answers, for
    citizens, staff, merchants and partners alike."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(value.astimezone(CITY_TZ) if value is not None else None, attr, obj, **kwargs)
