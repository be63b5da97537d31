"""The merchant terminal API (/merchant/v1/...): verify and redeem a credit code, cancel, see own totals.

A terminal authenticates with its API key (``Authorization: Bearer mk_…``). The answer to a verification
says eligible or not, why, the level name and a masked name — never the ID number or the score.
"""

from __future__ import annotations

from functools import wraps

from flask import g, jsonify
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.audit.service import Actor
from app.auth.guards import bearer_token
from app.errors import ApiError
from app.extensions import db
from app.timeutil import city_today
from benefits import catalog, ledger, verification
from benefits.models import Branch, Offer
from benefits.schemas import (
    MerchantHomeSchema,
    MerchantTotalsQuerySchema,
    RedemptionPageSchema,
    RedemptionQuerySchema,
    RedemptionSchema,
    TerminalTodaySchema,
    TotalSchema,
    VerificationRequestSchema,
    VerificationResultSchema,
)

blp = Blueprint("merchant", __name__, url_prefix="/merchant/v1", description="商户终端：扫码核验")

TERMINAL_AUTH = [{"terminalKey": []}]


@blp.record_once
def _document_security_scheme(state) -> None:
    api = state.app.extensions["flask-smorest"]["blp_name_to_api"].get(blp.name)
    if api is not None and "terminalKey" not in api.spec.components.security_schemes:
        api.spec.components.security_scheme(
            "terminalKey", {"type": "http", "scheme": "bearer", "description": "商户终端接口密钥（mk_ 开头）"})


def terminal_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        key = bearer_token()
        terminal = verification.authenticate_terminal(key) if key else None
        if terminal == "suspended":
            raise ApiError(403, "merchant_suspended", "该商户已暂停参加信用惠民联盟，暂不能核验。")
        if terminal is None:
            raise ApiError(401, "unauthorized", "终端接口密钥无效或已停用。", headers={"WWW-Authenticate": "Bearer"})
        g.terminal = terminal
        g.actor = Actor("merchant", terminal.merchant_ref)
        return view(*args, **kwargs)

    return wrapper


_VERIFICATION_REQUEST = VerificationRequestSchema()


# Every scan at every counter of the city comes here, so the view is wired by hand: flask-smorest's argument and
# response wrappers build a schema and serialise through it on each call. The body is validated by the same
# schema through the same parser (same 422 answers), the answer is the same dict, and the OpenAPI description
# is the same, from the docs below.
@blp.route("/verifications", methods=["POST"])
@terminal_required
@blp.doc(summary="核验信用码并核销权益（一码一用）", security=TERMINAL_AUTH,
         requestBody={"required": True, "content": {"application/json": {"schema": VerificationRequestSchema}}})
@blp.alt_response(200, schema=VerificationResultSchema, description="OK", success=True)
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def verify():
    body = blp.ARGUMENTS_PARSER.parse(_VERIFICATION_REQUEST, location="json")
    return jsonify(verification.verify(g.terminal, body["code"], body["offer_id"], body["branch_id"]).as_dict())


@blp.route("/redemptions/<redemption_id>/cancel", methods=["POST"])
@terminal_required
@blp.response(200, RedemptionSchema)
@blp.doc(summary="撤销本商户 30 分钟内的核销（次数和名额退回）", security=TERMINAL_AUTH)
def cancel(redemption_id):
    redemption = verification.cancel(g.terminal, redemption_id)
    items = ledger.redemptions(1, 1, merchant_id=g.terminal.merchant_id, redemption_ref=redemption.ref).items
    return items[0]


@blp.route("/redemptions")
@terminal_required
@blp.arguments(RedemptionQuerySchema, location="query")
@blp.response(200, RedemptionPageSchema)
@blp.doc(summary="本商户的核销记录", security=TERMINAL_AUTH)
def redemptions(query):
    return ledger.redemptions(query["page"], query["per_page"], merchant_id=g.terminal.merchant_id,
                              offer_ref=query["offer_id"], date_from=query["date_from"],
                              date_to=query["date_to"]).as_dict()


@blp.route("/totals")
@terminal_required
@blp.arguments(MerchantTotalsQuerySchema, location="query")
@blp.response(200, TotalSchema(many=True))
@blp.doc(summary="本商户按权益和日期汇总的核销次数", security=TERMINAL_AUTH)
def totals(query):
    return ledger.totals(merchant_id=g.terminal.merchant_id, date_from=query["date_from"], date_to=query["date_to"])


@blp.route("/me")
@terminal_required
@blp.response(200, MerchantHomeSchema)
@blp.doc(summary="本终端、本商户的门店和权益（供扫码终端选择权益）", security=TERMINAL_AUTH)
def me():
    terminal = g.terminal
    today = city_today()
    branches = db.session.scalars(select(Branch).where(Branch.merchant_id == terminal.merchant_id,
                                                       Branch.active.is_(True)).order_by(Branch.id)).all()
    offers = db.session.scalars(select(Offer).where(Offer.merchant_id == terminal.merchant_id)
                                .options(selectinload(Offer.branches)).order_by(Offer.id)).all()
    for offer in offers:
        offer.state = catalog.offer_state(offer, today)
    branch_ref = next((b.ref for b in branches if b.id == terminal.branch_id), None)
    return {"merchant_id": terminal.merchant_ref, "merchant_name": terminal.merchant_name,
            "terminal_id": terminal.ref, "terminal_name": terminal.name, "terminal_branch_id": branch_ref,
            "branches": branches, "offers": [o for o in offers if o.state != "ended"]}


@blp.route("/me/redemptions")
@terminal_required
@blp.response(200, TerminalTodaySchema)
@blp.doc(summary="本终端今天的核销记录（含可撤销截止时间）", security=TERMINAL_AUTH)
def terminal_today():
    return ledger.terminal_today(g.terminal.id)
