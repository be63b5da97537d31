from flask import request
from flask_smorest import Blueprint

from app.audit import service as audit
from app.auth.guards import staff_required
from app.citizens import counter, service
from app.citizens.schemas import (
    CitizenSummarySchema,
    LookupRequestSchema,
    ReasonQuerySchema,
    RegisterCitizenSchema,
    ScoreFileSchema,
)
from app.errors import ApiError
from app.extensions import db
from app.scoring import service as scoring

blp = Blueprint("citizens", __name__, url_prefix="/api/v1/citizens", description="信用中心：居民信用档案")

STAFF_AUTH = [{"staffToken": []}]


@blp.route("", methods=["POST"])
@staff_required()
@blp.arguments(RegisterCitizenSchema)
@blp.response(201, CitizenSummarySchema)
@blp.doc(summary="登记居民（窗口办理）", security=STAFF_AUTH)
def register(body):
    citizen = counter.register(body["name"], body["id_number"], body["phone"], body["scoring_consent"])
    return service.summary(citizen)


@blp.route("/lookup", methods=["POST"])
@staff_required()
@blp.arguments(LookupRequestSchema)
@blp.response(200, CitizenSummarySchema)
@blp.doc(summary="按身份证号码查找居民（号码只在请求体中）", security=STAFF_AUTH)
def lookup(body):
    citizen = service.find_by_id_number(service.checked_id_number(body["id_number"]))
    if citizen is None:
        raise ApiError(404, "citizen_not_found", "未找到该居民的信用档案。")
    audit.log(citizen.id, "citizen.lookup", body["reason"])
    db.session.commit()
    return service.summary(citizen)


@blp.route("/<ref>/score")
@staff_required()
@blp.arguments(ReasonQuerySchema, location="query")
@blp.response(200, ScoreFileSchema)
@blp.doc(summary="居民的信用分：四个维度、逐条记录的贡献、改进建议与历史", security=STAFF_AUTH)
def score(query, ref):
    citizen = service.get_by_ref(ref)
    audit.log(citizen.id, "score.read", query["reason"])
    db.session.commit()
    return scoring.score_file(citizen)


@blp.route("/<ref>/consents/<kind>", methods=["PUT", "DELETE"])
@staff_required()
@blp.response(200, CitizenSummarySchema)
@blp.doc(summary="记录居民在窗口书面作出或撤回的授权", security=STAFF_AUTH)
def consent(ref, kind):
    citizen = service.get_by_ref(ref)
    counter.set_consent(citizen, kind, grant=request.method == "PUT")
    return service.summary(citizen)
