"""信易+ for the citizen in the mini-program: offers, the credit code, their redemptions (/mp/v1/me/...)."""

from flask import g
from flask_smorest import Blueprint

from benefits import credit_code, ledger
from benefits.schemas import (
    CitizenOffersSchema,
    CreditCodeSchema,
    OffersQuerySchema,
    PageQuerySchema,
    RedemptionPageSchema,
)
from miniprogram_api.auth import citizen_required

blp = Blueprint("mp_benefits", __name__, url_prefix="/mp/v1/me", description="微信小程序：信易+权益与信用码")

CITIZEN_AUTH = [{"citizenToken": []}]


@blp.route("/offers")
@citizen_required()
@blp.arguments(OffersQuerySchema, location="query")
@blp.response(200, CitizenOffersSchema)
@blp.doc(summary="我能享受的信易+权益，以及暂不能享受的权益还差什么；"
                 "给出 lat/lng 时按最近门店由近到远排序并给出距离", security=CITIZEN_AUTH)
def offers(query):
    near = (query["lat"], query["lng"]) if query["lat"] is not None else None
    return ledger.offers_for(g.citizen, query["scene"], near)


@blp.route("/credit-code", methods=["POST"])
@citizen_required()
@blp.response(200, CreditCodeSchema)
@blp.doc(summary="生成信用码（扫码亮信，60 秒内有效，一码一用）", security=CITIZEN_AUTH)
def issue_credit_code():
    return credit_code.issue(g.citizen)


@blp.route("/redemptions")
@citizen_required()
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, RedemptionPageSchema)
@blp.doc(summary="我的权益使用记录", security=CITIZEN_AUTH)
def redemptions(query):
    return ledger.redemptions(query["page"], query["per_page"], citizen_id=g.citizen.id).as_dict()
