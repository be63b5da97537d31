"""The API partner cities call (/partner/v1/...): our keys and ladder (public), and — with a short-lived JWT the
partner signs with its own key — the revocation feed, settlement counts and receipts."""

from __future__ import annotations

from functools import wraps

from flask import Response, current_app, g, jsonify, request
from flask_smorest import Blueprint

from app.audit.service import Actor
from app.auth.guards import bearer_token
from app.errors import ApiError
from app.partners import attestations, settlement, status_list
from app.partners.auth import authenticate
from app.partners.schemas import (
    PartnerInfoSchema,
    ReceiptsAnswerSchema,
    ReceiptsInSchema,
    RevocationFeedSchema,
    RevocationQuerySchema,
    SettlementQuerySchema,
    SettlementSchema,
)
from app.scoring import service as scoring
from app.security.jwks_schema import JwksSchema
from app.security.signing import keyring
from score_model.partners import scale_of_rules

blp = Blueprint("partner_api", __name__, url_prefix="/partner/v1", description="合作城市接口（信用分互认）")

PARTNER_AUTH = [{"partnerToken": []}]
PROTOCOL = "xyf-partner/1"


@blp.record_once
def _document_security_scheme(state) -> None:
    api = state.app.extensions["flask-smorest"]["blp_name_to_api"].get(blp.name)
    if api is not None and "partnerToken" not in api.spec.components.security_schemes:
        api.spec.components.security_scheme("partnerToken", {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
            "description": "合作城市用自己的 Ed25519 私钥签发的 JWT（EdDSA）：iss 为其城市代码，aud 为本市代码，"
                           "iat/exp（不超过 5 分钟），jti（一次性）"})


def partner_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        partner = authenticate(bearer_token())
        g.partner = partner
        g.actor = Actor("partner", partner.city_code)
        return view(*args, **kwargs)

    return wrapper


@blp.route("/jwks.json")
@blp.response(200, JwksSchema)
@blp.doc(summary="本市的验签公钥（与 /.well-known/jwks.json 相同）")
def jwks():
    response = jsonify(keyring().jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@blp.route("/status-lists/<int:list_id>")
@blp.doc(summary="本市的令牌状态列表（Token Status List，statuslist+jwt）：SD-JWT VC 互认证明的 status 指向这里",
         responses={"200": {"description": "application/statuslist+jwt"}})
def status_list_token(list_id):
    token = status_list.token_for(list_id) if list_id < 2**31 else None
    if token is None:
        raise ApiError(404, "status_list_unknown", "没有这个状态列表。")
    response = Response(token, mimetype="application/statuslist+jwt")
    response.headers["Cache-Control"] = f"public, max-age={current_app.config['STATUS_LIST_TTL_SECONDS']}"
    return response


@blp.route("/info")
@blp.response(200, PartnerInfoSchema)
@blp.doc(summary="本市信息：城市代码、信用分名称、分值范围与 L1–L5 分档、公钥与接口地址（登记为合作城市时用）")
def info():
    config = current_app.config
    rules = scoring.rules()
    scale = scale_of_rules(rules)
    root = (config["PUBLIC_BASE_URL"] or request.url_root).rstrip("/")
    return {"city_code": config["CITY_CODE"], "city_name": config["CITY_NAME"], "score_name": config["SCORE_NAME"],
            "scale": {"min": scale.minimum, "max": scale.maximum}, "cutoffs": scale.as_list(),
            "restricted_name": rules.restricted_name, "jwks_url": f"{root}/.well-known/jwks.json",
            "api_base_url": f"{root}/partner/v1", "protocol": PROTOCOL,
            "credential_formats": ["sd-jwt-vc", "jws"] if attestations.legacy_jws_allowed() else ["sd-jwt-vc"],
            "legacy_jws_until": config["PARTNER_LEGACY_JWS_UNTIL"]}


@blp.route("/revocations")
@partner_required
@blp.arguments(RevocationQuerySchema, location="query")
@blp.response(200, RevocationFeedSchema)
@blp.doc(summary="本市撤销的、出具给调用方的互认证明（自 cursor 之后，按撤销先后）", security=PARTNER_AUTH)
def revocations(query):
    return attestations.revocation_feed(g.partner, query["since"], query["limit"])


@blp.route("/settlements")
@partner_required
@blp.arguments(SettlementQuerySchema, location="query")
@blp.response(200, SettlementSchema)
@blp.doc(summary="调用方城市的市民在本市某日的核销次数（按场景，不含已撤销）", security=PARTNER_AUTH)
def settlements(query):
    return settlement.settlement_counts(g.partner, query["date"])


@blp.route("/receipts", methods=["POST"])
@partner_required
@blp.arguments(ReceiptsInSchema)
@blp.response(200, ReceiptsAnswerSchema)
@blp.doc(summary="调用方回传本市居民在当地的核销凭证（按对方核销编号幂等）", security=PARTNER_AUTH)
def receipts(body):
    return settlement.accept_receipts(g.partner, body["receipts"])
