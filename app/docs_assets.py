"""Swagger UI's files served by the app itself, so /docs works where a CDN cannot be reached (a city intranet)."""

from flask import Blueprint, send_from_directory
from swagger_ui_bundle import swagger_ui_path

blp = Blueprint("docs_assets", __name__)

ASSETS_URL = "/docs/assets/"


@blp.route(f"{ASSETS_URL}<path:filename>")
def asset(filename: str):
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
