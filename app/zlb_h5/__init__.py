"""The 浙里办 H5 app (zlb/, built into zlb/build/ by `npm run build`) served at /zlb/, and, in the demo and the tests
only, a stand-in of the 浙里办 container at /zlb/standin/: pick a demo citizen, switch 长辈版 on or off, open the
app; the stand-in's fake ZWJSBridge gives the app a sign-on ticket from the demo's stand-in SSO and the UI style.

In production the city uploads zlb/build/ to 浙里办's hosting; serving it here is for the demo, the tests and a
city that hosts the page itself. The API it calls is /zlb/v1/... (zlb_api).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, render_template, send_from_directory

from app.config import PROJECT_ROOT

blp = Blueprint("zlb_h5", __name__, url_prefix="/zlb", template_folder="templates", static_folder="static",
                static_url_path="/standin/static")

# The fake ZWJSBridge and zwlog scripts: served only while the stand-in is enabled.
STANDIN_SCRIPTS = Path(__file__).parent / "standin"

MISSING_BUILD = ("The 浙里办 H5 is not built: run `(cd zlb && npm ci && npm run build)` in {root} (the README's "
                 "install command does).")

# The app's own files only; Vant sets inline style attributes (hence 'unsafe-inline' for styles, never scripts)
# and embeds its icon font as a data: URI.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
))


def build_dir() -> Path:
    return Path(current_app.config.get("ZLB_BUILD_DIR") or PROJECT_ROOT / "zlb" / "build")


def standin_enabled() -> bool:
    """The container stand-in exists in the tests and in `flask demo serve` only, never in production."""
    config = current_app.config
    return bool(config.get("TESTING") or config.get("ZLB_STANDIN"))


@blp.after_request
def _headers(response):
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _missing():
    message = MISSING_BUILD.format(root=PROJECT_ROOT)
    current_app.logger.error(message)
    return message, 503, {"Content-Type": "text/plain; charset=utf-8"}


@blp.route("/")
@blp.route("/index.html")
def index():
    root = build_dir()
    if not (root / "index.html").is_file():
        return _missing()
    response = send_from_directory(root, "index.html", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@blp.route("/assets/<path:name>")
def asset(name: str):
    root = build_dir() / "assets"
    if not root.is_dir():
        return _missing()
    # File names carry a content hash: cache them for long.
    return send_from_directory(root, name, max_age=31536000)


@blp.route("/standin/")
def container():
    if not standin_enabled():
        abort(404)
    return render_template("zlb_h5/container.html"), 200, {"Cache-Control": "no-store"}


@blp.route("/standin/zwjsbridge.js")
def fake_bridge():
    if not standin_enabled():
        abort(404)
    return send_from_directory(STANDIN_SCRIPTS, "zwjsbridge.js", max_age=0)


@blp.route("/standin/zwlog.js")
def fake_zwlog():
    if not standin_enabled():
        abort(404)
    return send_from_directory(STANDIN_SCRIPTS, "zwlog.js", max_age=0)


def register(app: Flask) -> None:
    app.register_blueprint(blp)
    root = Path(app.config.get("ZLB_BUILD_DIR") or PROJECT_ROOT / "zlb" / "build")
    if not (root / "index.html").is_file() and not app.config.get("TESTING"):
        app.logger.warning(MISSING_BUILD.format(root=PROJECT_ROOT))
