"""Staff management of scenes, merchants and offers, and the redemption ledger (/api/v1/...).

Roles: any staff member manages scenes, branches and offers and reads the ledger; onboarding a merchant
(creating it, changing its status or scenes) and issuing or revoking terminal keys are for admins, because
they let a third party read citizens' levels.
"""

from flask_smorest import Blueprint

from app.audit import service as audit
from app.auth.guards import staff_required
from app.citizens import service as citizens
from app.extensions import db
from app.timeutil import city_today
from benefits import catalog, ledger
from benefits.cli import register_commands
from benefits.schemas import (
    AttemptPageSchema,
    AttemptQuerySchema,
    BranchCreateSchema,
    BranchSchema,
    BranchUpdateSchema,
    CitizenRedemptionQuerySchema,
    MerchantCreateSchema,
    MerchantListQuerySchema,
    MerchantPageSchema,
    MerchantSchema,
    MerchantUpdateSchema,
    OfferCreateSchema,
    OfferListQuerySchema,
    OfferPageSchema,
    OfferSchema,
    OfferUpdateSchema,
    RedemptionPageSchema,
    SceneCreateSchema,
    SceneListQuerySchema,
    SceneSchema,
    SceneUpdateSchema,
    StaffRedemptionQuerySchema,
    StaffTotalsQuerySchema,
    StaffTotalsSchema,
    TerminalCreateSchema,
    TerminalIssuedSchema,
    TerminalSchema,
)

blp = Blueprint("benefits_admin", __name__, url_prefix="/api/v1", description="信用中心：信易+场景、商户与权益",
                cli_group="benefits")
register_commands(blp.cli)

STAFF_AUTH = [{"staffToken": []}]


def _offer_view(offer):
    offer.state = catalog.offer_state(offer, city_today())
    return offer


# -- scenes ---------------------------------------------------------------------------------------------

@blp.route("/scenes")
@staff_required()
@blp.arguments(SceneListQuerySchema, location="query")
@blp.response(200, SceneSchema(many=True))
@blp.doc(summary="信易+场景列表", security=STAFF_AUTH)
def list_scenes(query):
    return catalog.list_scenes(query["include_inactive"])


@blp.route("/scenes", methods=["POST"])
@staff_required()
@blp.arguments(SceneCreateSchema)
@blp.response(201, SceneSchema)
@blp.doc(summary="新增场景", security=STAFF_AUTH)
def create_scene(body):
    scene = catalog.create_scene(**body)
    db.session.commit()
    return scene


@blp.route("/scenes/<code>", methods=["PATCH"])
@staff_required()
@blp.arguments(SceneUpdateSchema)
@blp.response(200, SceneSchema)
@blp.doc(summary="修改或停用场景", security=STAFF_AUTH)
def update_scene(body, code):
    scene = catalog.update_scene(code, body)
    db.session.commit()
    return scene


# -- merchants ------------------------------------------------------------------------------------------

@blp.route("/merchants")
@staff_required()
@blp.arguments(MerchantListQuerySchema, location="query")
@blp.response(200, MerchantPageSchema)
@blp.doc(summary="信用惠民联盟商户列表", security=STAFF_AUTH)
def list_merchants(query):
    return catalog.list_merchants(query["page"], query["per_page"], query["scene"], query["status"],
                                  query["q"]).as_dict()


@blp.route("/merchants", methods=["POST"])
@staff_required("admin")
@blp.arguments(MerchantCreateSchema)
@blp.response(201, MerchantSchema)
@blp.doc(summary="商户加入信用惠民联盟（管理员）", security=STAFF_AUTH)
def create_merchant(body):
    merchant = catalog.create_merchant(body["name"], body["uscc"], body["scenes"], body["status"])
    db.session.commit()
    return merchant


@blp.route("/merchants/<merchant_id>")
@staff_required()
@blp.response(200, MerchantSchema)
@blp.doc(summary="商户详情", security=STAFF_AUTH)
def get_merchant(merchant_id):
    return catalog.get_merchant(merchant_id)


@blp.route("/merchants/<merchant_id>", methods=["PATCH"])
@staff_required("admin")
@blp.arguments(MerchantUpdateSchema)
@blp.response(200, MerchantSchema)
@blp.doc(summary="修改商户、暂停或恢复（管理员）", security=STAFF_AUTH)
def update_merchant(body, merchant_id):
    merchant = catalog.update_merchant(merchant_id, body)
    db.session.commit()
    return merchant


@blp.route("/merchants/<merchant_id>/branches", methods=["POST"])
@staff_required()
@blp.arguments(BranchCreateSchema)
@blp.response(201, BranchSchema)
@blp.doc(summary="新增门店", security=STAFF_AUTH)
def add_branch(body, merchant_id):
    branch = catalog.add_branch(catalog.get_merchant(merchant_id), body["name"], body["address"], body["lat"],
                                body["lng"])
    db.session.commit()
    return branch


@blp.route("/merchants/<merchant_id>/branches/<branch_id>", methods=["PATCH"])
@staff_required()
@blp.arguments(BranchUpdateSchema)
@blp.response(200, BranchSchema)
@blp.doc(summary="修改或停用门店", security=STAFF_AUTH)
def update_branch(body, merchant_id, branch_id):
    branch = catalog.update_branch(catalog.get_merchant(merchant_id), branch_id, body)
    db.session.commit()
    return branch


@blp.route("/merchants/<merchant_id>/terminals")
@staff_required()
@blp.response(200, TerminalSchema(many=True))
@blp.doc(summary="商户的扫码终端", security=STAFF_AUTH)
def list_terminals(merchant_id):
    return catalog.terminals_of(catalog.get_merchant(merchant_id))


@blp.route("/merchants/<merchant_id>/terminals", methods=["POST"])
@staff_required("admin")
@blp.arguments(TerminalCreateSchema)
@blp.response(201, TerminalIssuedSchema)
@blp.doc(summary="开通扫码终端并签发接口密钥（只显示一次；管理员）", security=STAFF_AUTH)
def issue_terminal(body, merchant_id):
    terminal, key = catalog.issue_terminal(catalog.get_merchant(merchant_id), body["name"], body["branch_id"])
    db.session.commit()
    terminal.key = key
    return terminal


@blp.route("/merchants/<merchant_id>/terminals/<terminal_id>", methods=["DELETE"])
@staff_required("admin")
@blp.response(200, TerminalSchema)
@blp.doc(summary="停用终端（其密钥立即失效；管理员）", security=STAFF_AUTH)
def revoke_terminal(merchant_id, terminal_id):
    terminal = catalog.revoke_terminal(catalog.get_merchant(merchant_id), terminal_id)
    db.session.commit()
    return terminal


# -- offers ---------------------------------------------------------------------------------------------

@blp.route("/offers")
@staff_required()
@blp.arguments(OfferListQuerySchema, location="query")
@blp.response(200, OfferPageSchema)
@blp.doc(summary="权益列表", security=STAFF_AUTH)
def list_offers(query):
    page = catalog.list_offers(query["page"], query["per_page"], query["merchant_id"], query["scene"],
                               query["status"])
    return page.as_dict([_offer_view(offer) for offer in page.items])


@blp.route("/offers", methods=["POST"])
@staff_required()
@blp.arguments(OfferCreateSchema)
@blp.response(201, OfferSchema)
@blp.doc(summary="新增权益", security=STAFF_AUTH)
def create_offer(body):
    offer = catalog.create_offer(body)
    db.session.commit()
    return _offer_view(offer)


@blp.route("/offers/<offer_id>")
@staff_required()
@blp.response(200, OfferSchema)
@blp.doc(summary="权益详情", security=STAFF_AUTH)
def get_offer(offer_id):
    return _offer_view(catalog.get_offer(offer_id))


@blp.route("/offers/<offer_id>", methods=["PATCH"])
@staff_required()
@blp.arguments(OfferUpdateSchema)
@blp.response(200, OfferSchema)
@blp.doc(summary="修改、暂停或恢复权益", security=STAFF_AUTH)
def update_offer(body, offer_id):
    offer = catalog.update_offer(offer_id, body)
    db.session.commit()
    return _offer_view(offer)


# -- ledger ---------------------------------------------------------------------------------------------

@blp.route("/redemptions")
@staff_required()
@blp.arguments(StaffRedemptionQuerySchema, location="query")
@blp.response(200, RedemptionPageSchema)
@blp.doc(summary="全部核销记录（不含居民身份）", security=STAFF_AUTH)
def list_redemptions(query):
    return ledger.redemptions(query["page"], query["per_page"], merchant_ref=query["merchant_id"],
                              offer_ref=query["offer_id"], date_from=query["date_from"],
                              date_to=query["date_to"]).as_dict()


@blp.route("/redemptions/totals")
@staff_required()
@blp.arguments(StaffTotalsQuerySchema, location="query")
@blp.response(200, StaffTotalsSchema)
@blp.doc(summary="按权益和日期汇总的核销次数，以及核验请求按结果统计", security=STAFF_AUTH)
def totals(query):
    period = {"date_from": query["date_from"], "date_to": query["date_to"]}
    return {"redemptions": ledger.totals(merchant_ref=query["merchant_id"], **period),
            "attempts": ledger.attempts_summary(merchant_ref=query["merchant_id"], **period)}


@blp.route("/verification-attempts")
@staff_required()
@blp.arguments(AttemptQuerySchema, location="query")
@blp.response(200, AttemptPageSchema)
@blp.doc(summary="核验请求台账（每一次扫码及其结果）", security=STAFF_AUTH)
def list_attempts(query):
    return ledger.attempts(query["page"], query["per_page"], merchant_ref=query["merchant_id"], reason=query["reason"],
                           date_from=query["date_from"], date_to=query["date_to"]).as_dict()


@blp.route("/citizens/<ref>/redemptions")
@staff_required()
@blp.arguments(CitizenRedemptionQuerySchema, location="query")
@blp.response(200, RedemptionPageSchema)
@blp.doc(summary="某位居民的核销记录（记入留痕）", security=STAFF_AUTH)
def citizen_redemptions(query, ref):
    citizen = citizens.get_by_ref(ref)
    audit.log(citizen.id, "benefits.redemptions.read", query["reason"])
    db.session.commit()
    return ledger.redemptions(query["page"], query["per_page"], citizen_id=citizen.id).as_dict()
