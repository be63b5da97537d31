"""Front-end libraries served by the app itself from ``node_modules/`` (installed by ``npm ci``), never a CDN.

Only the files listed in VENDOR_FILES are reachable, under ``/assets/vendor/<name>``. Templates link them with
``url_for('web_assets.vendor', name='echarts.min.js')``. When ``npm ci`` has not been run, the asset answers 503
with a message saying so, and the app logs the same once at start.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, current_app, send_from_directory

from app.config import PROJECT_ROOT

blp = Blueprint("web_assets", __name__)

# public name -> path inside node_modules (package.json pins the packages; package-lock.json the exact versions)
VENDOR_FILES: dict[str, str] = {
    "echarts.min.js": "echarts/dist/echarts.min.js",
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    # QR decoding for the cashier's camera: @zxing/browser's UMD build bundles @zxing/library (global ZXingBrowser)
    "zxing-browser.min.js": "@zxing/browser/umd/zxing-browser.min.js",
    "zxing-library.min.js": "@zxing/library/umd/index.min.js",
}

MISSING_MESSAGE = "Front-end libraries are missing: run `npm ci` in {root} (see README)."


def node_modules_dir() -> Path:
    return Path(current_app.config.get("NODE_MODULES_DIR") or PROJECT_ROOT / "node_modules")


def missing_vendor_files(modules: Path) -> list[str]:
    return [name for name, rel in VENDOR_FILES.items() if not (modules / rel).is_file()]


@blp.route("/assets/vendor/<name>")
def vendor(name: str):
    rel = VENDOR_FILES.get(name)
    if rel is None:
        return "not found", 404, {"Content-Type": "text/plain; charset=utf-8"}
    modules = node_modules_dir()
    path = modules / rel
    if not path.is_file():
        message = MISSING_MESSAGE.format(root=modules.parent)
        current_app.logger.error(message)
        return message, 503, {"Content-Type": "text/plain; charset=utf-8"}
    return send_from_directory(path.parent, path.name, max_age=86400)


def register(app: Flask) -> None:
    app.register_blueprint(blp)
    modules = Path(app.config.get("NODE_MODULES_DIR") or PROJECT_ROOT / "node_modules")
    missing = missing_vendor_files(modules)
    if missing and not app.config.get("TESTING"):
        app.logger.warning(MISSING_MESSAGE.format(root=modules.parent) + " Missing: " + ", ".join(missing))
