"""The cashier's page at /merchant/: a counter tablet scans customers' credit codes.

The page is static (a template, our own JS and CSS); everything it shows comes from the merchant JSON API
(/merchant/v1/...), which the page's script calls with the terminal key kept in the browser's localStorage.
So the page holds no rule of its own and needs no session: the key is the terminal's only credential.
"""

from __future__ import annotations

from flask import Blueprint, render_template

blp = Blueprint("cashier", __name__, url_prefix="/merchant", template_folder="templates",
                static_folder="static/cashier", static_url_path="/static")

# Only our own files: no inline script or style, no other origin; the camera stream is a blob/media stream.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob: mediastream:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))


@blp.after_request
def _headers(response):
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=()"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blp.route("/")
def page():
    response = render_template("cashier/index.html")
    return response, 200, {"Cache-Control": "no-store"}
