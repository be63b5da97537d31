"""The demo's 互认 pieces: the partner registry, a few offers open to partner cities' citizens, and the
`partners` entry of demo-credentials.json (what a newcomer needs to link two instances by hand)."""

from __future__ import annotations

from flask import current_app

from app.extensions import db
from app.partners import service as registry
from benefits import catalog

# Offers of the demo catalog that partner cities' citizens may use, from which level.
OPEN_TO_PARTNERS = {"大禹陵景区门票8折": 3, "咸亨酒店堂食9折": 3, "首小时停车免费": 2}


def seed(payload: dict) -> None:
    registry.seed_known_partners()
    opened = []
    for merchant in payload.get("merchants", []):
        for offer in merchant.get("offers", []):
            level = OPEN_TO_PARTNERS.get(offer["title"])
            if level is None:
                continue
            catalog.update_offer(offer["offer_id"], {"partner_allowed": True, "partner_min_level": level})
            offer["partner_min_level"] = level
            opened.append({"offer_id": offer["offer_id"], "title": offer["title"], "merchant": merchant["name"],
                           "partner_min_level": level, "branch_id": merchant["branches"][0]["branch_id"],
                           "terminal_key": merchant["terminals"][0]["key"]})
    db.session.commit()
    config = current_app.config
    base_url = payload.get("base_url", "http://127.0.0.1:5000")
    payload["partners"] = {
        "note": "城市信用分互认：同一套代码可以作为任一城市运行（CITY_CODE、CITY_NAME、SCORE_NAME、RULES_VERSION）。"
                "两个实例互相登记公钥地址和接口地址后即可互认，步骤见 README「Running two cities」。",
        "city": {"city_code": config["CITY_CODE"], "city_name": config["CITY_NAME"],
                 "score_name": config["SCORE_NAME"], "rules_version": config["RULES_VERSION"]},
        "jwks_url": f"{base_url}/.well-known/jwks.json",
        "api_base_url": f"{base_url}/partner/v1",
        "info": f"{base_url}/partner/v1/info",
        "registry": [{"city_code": p.city_code, "city_name": p.city_name, "score_name": p.score_name,
                      "status": p.status, "scale_confirmed": p.scale_confirmed, "note": p.scale_note,
                      "credential_format": p.credential_format}
                     for p in registry.list_partners()],
        "credentials": {
            "note": "互认证明格式按城市登记：PATCH /api/v1/partners/<城市代码> "
                    "{\"credential_format\": \"sd-jwt-vc\"} 后，本市居民出具给该城市的证明为 SD-JWT VC"
                    "（可选出示 score、name），其撤销状态见状态列表。",
            "status_lists": f"{base_url}/partner/v1/status-lists/1",
            "legacy_jws_until": config["PARTNER_LEGACY_JWS_UNTIL"],
            "key_rotation": "flask --app wsgi keys rotate（每日由调度任务 keys-rotate 执行）",
        },
        "offers_open_to_partner_citizens": opened,
    }
