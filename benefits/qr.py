"""QR images of a credit code: base64 PNG for the mini-program's <image>, SVG for web views and print."""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M

# M (15% recovery) survives a cracked or glare-struck phone screen; the code stays small enough for version ≤ 10.
ERROR_CORRECTION = ERROR_CORRECT_M


def _qr(text: str, box_size: int) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECTION, box_size=box_size, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    return qr


def qr_version(text: str) -> int:
    return _qr(text, 1).version


def render(text: str, box_size: int = 6) -> tuple[str, str]:
    """(PNG as base64, SVG markup) of one QR symbol; the symbol is laid out once for both."""
    qr = _qr(text, box_size)
    buffer = io.BytesIO()
    qr.make_image().save(buffer, format="PNG")
    # With its own white background: on a dark page, or rendered transparent, the dark modules stay readable.
    svg = qr.make_image(image_factory=qrcode.image.svg.SvgPathFillImage).to_string(encoding="unicode")
    return base64.b64encode(buffer.getvalue()).decode("ascii"), svg
