"""URL converters for the shapes our path variables have, so a fixed path is never read as a variable's value.

``/records/<ref>`` would otherwise match ``/records/batch``, and ``/partners/<city_code>`` would match
``/partners/reconciliations``: requests still reach the right view (Werkzeug prefers fixed parts), but the ``Allow``
header of the fixed path advertises the neighbour's methods (``PATCH``). The converters are documented in the
OpenAPI document as the string patterns they are.
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api
from werkzeug.routing import BaseConverter


class RefConverter(BaseConverter):
    """An opaque reference: 32 lower-case hex digits (``secrets.token_hex(16)``)."""

    regex = "[0-9a-f]{32}"


class CityCodeConverter(BaseConverter):
    """A city's 6-digit administrative division code."""

    regex = "[0-9]{6}"


class DayConverter(BaseConverter):
    """A calendar day written YYYY-MM-DD (its validity, 2026-13-01, is checked by the view: a coded 422)."""

    regex = "[0-9]{4}-[0-9]{2}-[0-9]{2}"


CONVERTERS = {"ref": RefConverter, "city_code": CityCodeConverter, "day": DayConverter}


def register_converters(app: Flask, api: Api) -> None:
    """Before the blueprints: their rules look the converters up when they are added."""
    for name, converter in CONVERTERS.items():
        app.url_map.converters[name] = converter
        api.register_converter(converter, lambda conv: {"type": "string", "pattern": f"^{conv.regex}$"})
