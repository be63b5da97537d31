"""The staff console and the department desk at /console/: server-rendered pages calling the same services as the
JSON API (DESIGN.md "Web pages"). Views live in ``pages`` (staff), ``charts`` (the dashboard's JSON) and ``desk``
(department users); sign-in, CSRF and headers in ``security``."""

from __future__ import annotations

from flask import Blueprint, Flask

blp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
                static_folder="static", static_url_path="/static")


def register(app: Flask) -> None:
    from app.console import charts, community, desk, pages, reports_pages, security  # noqa: F401  (routes attach to blp)

    if rights_installed():
        from app.console import rights_pages  # noqa: F401
    security.configure(app)
    app.register_blueprint(blp)


def rights_installed() -> bool:
    """The 异议 / 修复 pages need app.rights (objections, repairs and the working-day calendar)."""
    from importlib.util import find_spec

    return find_spec("app.rights") is not None
