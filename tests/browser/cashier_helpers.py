"""Helpers of the cashier's browser tests: a shop with a terminal key, citizens' credit codes, and a fake camera
stream (YUV4MPEG2, the format Chromium's ``--use-file-for-fake-video-capture`` reads) showing a code's QR image."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image

from app.extensions import db
from benefits.catalog import ensure_default_scenes
from tests.benefits.helpers import Shop, make_citizen, mp_headers

FAKE_CAMERA_ARGS = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")


def open_shop(app, client) -> Shop:
    """A merchant (大禹陵) with one branch, a terminal key and an L3 offer without a daily limit."""
    with app.app_context():
        ensure_default_scenes()  # every test wipes the tables; the scenes come back here
        return Shop(client, limit_per_day=None)


def citizen_headers(app, name: str, level: int = 3) -> dict:
    with app.app_context():
        return mp_headers(make_citizen(name, level=level))


def credit_code(client, headers: dict) -> dict:
    """What the mini-program shows: ``code`` and ``qr_png`` (base64)."""
    response = client.post("/mp/v1/me/credit-code", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def write_y4m(path: Path, png: bytes, width: int = 640, height: int = 480, frames: int = 10) -> Path:
    """A few identical 4:2:0 frames: the QR image centred on white, as a phone held up to the camera."""
    symbol = Image.open(io.BytesIO(png)).convert("L")
    # Scaled by a whole number only (a QR of 342 px stretched to 440 had modules 7 or 8 pixels wide, unevenly).
    scale = max(1, (min(width, height) - 40) // symbol.width)
    side = symbol.width * scale
    symbol = symbol.resize((side, side), Image.Resampling.NEAREST)
    frame = Image.new("L", (width, height), 235)
    frame.paste(symbol.point(lambda v: 16 + v * 219 // 255), ((width - side) // 2, (height - side) // 2))
    luma = frame.tobytes()
    chroma = bytes([128]) * ((width // 2) * (height // 2))
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for _ in range(frames):
            out.write(b"FRAME\n" + luma + chroma + chroma)
    return path


def fake_camera_showing(tmp_path: Path, qr_png_base64: str) -> tuple[str, ...]:
    """Chromium's arguments for a camera that films this QR image."""
    video = write_y4m(tmp_path / "camera.y4m", base64.b64decode(qr_png_base64))
    return (*FAKE_CAMERA_ARGS, f"--use-file-for-fake-video-capture={video}")


def redeemed_count(app, offer_ref: str) -> int:
    from benefits.catalog import get_offer

    with app.app_context():
        count = get_offer(offer_ref).redeemed_count
        db.session.remove()
        return count


def watch_for_script_trouble(page) -> list[str]:
    """Collects uncaught script errors and Content-Security-Policy refusals (a blocked own file, say); a test
    asserts the list stays empty. (A 401 answer the page handles is logged by Chromium too, and not collected.)"""
    trouble: list[str] = []
    page.on("pageerror", lambda error: trouble.append(f"pageerror: {error}"))
    page.on("console", lambda message: trouble.append(f"console: {message.text}")
            if "Content Security Policy" in message.text or "Refused to" in message.text else None)
    return trouble
