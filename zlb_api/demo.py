"""The demo's 浙里办 pieces: the stand-in province SSO (started by `flask demo serve`, like the WeChat one), the
`zlb` entry of instance/demo-credentials.json, and two routes the H5's stand-in container page calls, registered
only in the demo and the tests (never in production):

    GET  /zlb/demo/citizens          a few demo citizens: masked name, level, a handle (never an ID number)
    POST /zlb/demo/ticket {handle}   a ticketId issued by the stand-in SSO for that citizen, as ssoTicket() gives
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from flask import Blueprint, Flask, current_app, jsonify, request
from sqlalchemy import select

from app.citizens.models import Citizen
from app.citizens.service import ID_PURPOSE, PHONE_PURPOSE
from app.errors import ApiError
from app.extensions import db
from app.scoring import service as scoring
from app.scoring.models import Score
from app.security.pii import mask_name, vault
from zlb_api.standin import StandInZlbSso

log = logging.getLogger(__name__)

CREDENTIALS_FILE = "demo-credentials.json"
EXTENSION = "zlb_sso_standin"
ID_TYPE_RESIDENT_CARD = "111"  # 居民身份证 in the national certificate-type codes (GA/T 517)

blp = Blueprint("zlb_demo", __name__, url_prefix="/zlb/demo")


def enabled(app: Flask) -> bool:
    return bool(app.config.get("TESTING") or app.config.get("ZLB_STANDIN"))


def register(app: Flask) -> None:
    """Add the demo routes (the factory calls this in tests; `flask demo serve` before serving)."""
    if enabled(app) and "zlb_demo" not in app.blueprints:
        app.register_blueprint(blp)


def standin_person(citizen: Citizen) -> dict:
    """What the province would say about this citizen: {userId, userName, idType, idNo, phone}."""
    phone = vault().decrypt(citizen.phone_cipher, PHONE_PURPOSE) if citizen.phone_cipher else ""
    return {"userId": "demo-" + hashlib.sha256(citizen.ref.encode()).hexdigest()[:20], "userName": citizen.name,
            "idType": ID_TYPE_RESIDENT_CARD, "idNo": vault().decrypt(citizen.id_cipher, ID_PURPOSE), "phone": phone}


def _standin() -> StandInZlbSso:
    server = current_app.extensions.get(EXTENSION)
    if server is None:
        raise ApiError(503, "zlb_standin_missing",
                       "演示用的浙里办统一身份认证替身未启动（请用 flask demo serve 启动演示）。")
    return server


@blp.route("/citizens")
def demo_citizens():
    """One citizen per level, best first (the demo's showcase), or the first few when nobody is scored yet."""
    score_rules = scoring.rules()
    picked: list[tuple[Citizen, Score | None]] = []
    for level in range(5, -1, -1):
        row = db.session.execute(select(Citizen, Score).join(Score, Score.citizen_id == Citizen.id)
                                 .where(Score.level == level).order_by(Citizen.id).limit(1)).first()
        if row:
            picked.append((row[0], row[1]))
    if not picked:
        picked = [(c, None) for c in db.session.scalars(select(Citizen).order_by(Citizen.id).limit(6))]
    return jsonify({"citizens": [{
        "handle": citizen.ref, "masked_name": mask_name(citizen.name),
        "level": score.level if score else None,
        "level_name": score_rules.level_name(score.level) if score else None,
        "note": f"{score.total} 分" if score else "尚未评分",
    } for citizen, score in picked]})


@blp.route("/ticket", methods=["POST"])
def demo_ticket():
    body = request.get_json(silent=True) or {}
    handle = body.get("handle")
    citizen = db.session.scalar(select(Citizen).where(Citizen.ref == handle)) if isinstance(handle, str) else None
    if citizen is None:
        raise ApiError(404, "demo_citizen_not_found", "没有这位演示居民。", {"handle": ["不存在。"]})
    return jsonify({"ticketId": _standin().issue_ticket(standin_person(citizen))})


def start_standin(app: Flask) -> None:
    """Start the stand-in SSO and point the app at it (unless ZLB_SSO_BASE is set); add the demo routes."""
    app.config["ZLB_STANDIN"] = True
    register(app)
    if os.environ.get("ZLB_SSO_BASE"):
        log.info("ZLB_SSO_BASE is set: the demo uses it and starts no stand-in 浙里办 SSO")
        return
    config = app.config
    server = StandInZlbSso({config["ZLB_ACCESS_KEY"]: config["ZLB_SECRET_KEY"]}, config["ZLB_APP_ID"]).start()
    app.extensions[EXTENSION] = server
    config["ZLB_SSO_BASE"] = server.url
    log.warning("stand-in 浙里办 SSO serving at %s (demo only)", server.url)
    _record(Path(app.instance_path) / CREDENTIALS_FILE, server.url, config.get("PUBLIC_BASE_URL"))


def _record(path: Path, url: str, public_base: str | None) -> None:
    if not path.exists():
        return
    payload = json.loads(path.read_text(encoding="utf-8"))
    base = public_base or payload.get("base_url", "http://127.0.0.1:5000")
    payload["zlb"] = {
        "note": "本地演示：浙里办统一身份认证（IRS）由本机替身服务器模拟，签名与接口形状同省网关。",
        "sso_standin": url,
        "h5": f"{base}/zlb/standin/（容器替身页：选择演示居民、切换长辈版，再打开应用）",
        "get_ticket": f"GET {base}/zlb/demo/citizens 取一位居民的 handle，再 POST {base}/zlb/demo/ticket "
                      "{\"handle\": \"…\"} 得到 ticketId",
        "login": f"POST {base}/zlb/v1/session {{\"ticketId\": \"…\"}}（ticketId 一次有效、5 分钟内）",
        "scripted_tickets": {"error": "省认证返回错误（502）", "slow": "省认证超时（503）",
                             "refused": "票据无效（401）"},
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, ensure_ascii=False, indent=2)
