"""The citizen's side of 社区版 / 乡村版信用积分 (/mp/v1/me/points…): my points, ledger and household, declare with
photos, the 积分超市 and its redeem code, the scheme's 公示 list and objections, the 红榜 choice."""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

from app.community import counter, ledger, service, stats
from app.community.models import CatalogItem, RuleItem, Scheme
from app.community.schemas import (
    CatalogItemSchema,
    DeclarationFormSchema,
    EntryPageSchema,
    EntrySchema,
    HonourBoardChoiceSchema,
    HonourBoardSchema,
    HouseholdSchema,
    MyPointsSchema,
    ObjectionInSchema,
    ObjectionSchema,
    PageQuerySchema,
    RedeemCodeInSchema,
    RedeemCodeSchema,
    RuleItemSchema,
)
from app.extensions import db
from miniprogram_api.auth import citizen_required


class _MultipartParser(FlaskParser):
    """One multipart/form-data body (text fields and files) read by a single schema."""

    __location_map__ = dict(multipart="load_multipart", **FlaskParser.__location_map__)

    def load_multipart(self, req, schema):
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


class _MultipartBlueprint(Blueprint):
    ARGUMENTS_PARSER = _MultipartParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "multipart": "multipart/form-data"}


blp = _MultipartBlueprint("mp_points", __name__, url_prefix="/mp/v1/me/points",
                          description="微信小程序：村（社区）信用积分")
CITIZEN_AUTH = [{"citizenToken": []}]


def _member():
    return service.member_of_citizen(g.citizen.id)


@blp.route("")
@citizen_required()
@blp.response(200, MyPointsSchema)
@blp.doc(summary="我的积分：所在村（社区）、余额、本户", security=CITIZEN_AUTH)
def my_points():
    return _points_view(_member())


def _points_view(member) -> dict:
    return {"scheme": service.scheme_view(db.session.get(Scheme, member.scheme_id)), "member": member.ref,
            "balance": member.balance, "show_on_honour_board": member.show_on_honour_board,
            "household": service.household_view(member)}


@blp.route("/household")
@citizen_required()
@blp.response(200, HouseholdSchema)
@blp.doc(summary="我的户：成员与各自积分（其他成员姓名遮蔽）", security=CITIZEN_AUTH)
def my_household():
    return service.household_view(_member())


@blp.route("/ledger")
@citizen_required()
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, EntryPageSchema)
@blp.doc(summary="我的积分明细（申报、公示、入账、扣分、兑换）", security=CITIZEN_AUTH)
def my_ledger(query):
    items, total = ledger.ledger_of(_member(), query["page"])
    return {"items": items, "total": total}


@blp.route("/items")
@citizen_required()
@blp.response(200, RuleItemSchema(many=True))
@blp.doc(summary="现行积分细则的项目", security=CITIZEN_AUTH)
def rule_items():
    rulebook = service.current_rulebook(_member().scheme_id)
    return rulebook.items if rulebook else []


@blp.route("/declarations", methods=["POST"])
@citizen_required()
@blp.arguments(DeclarationFormSchema, location="multipart")
@blp.response(201, EntrySchema)
@blp.doc(summary="申报积分（multipart/form-data，可附照片）；审核通过后公示，公示期满入账", security=CITIZEN_AUTH)
def declare(form):
    entry = ledger.declare(g.citizen.id, form["item"], form["quantity"], form["occurred_on"], form["note"],
                           form["photos"], form["idempotency_key"])
    return ledger.describe(entry, db.session.get(RuleItem, entry.item_id))


@blp.route("/catalog")
@citizen_required()
@blp.response(200, CatalogItemSchema(many=True))
@blp.doc(summary="积分超市：可兑换的商品与服务", security=CITIZEN_AUTH)
def catalog():
    return counter.catalog(_member().scheme_id)


@blp.route("/redeem-codes", methods=["POST"])
@citizen_required()
@blp.arguments(RedeemCodeInSchema)
@blp.response(201, RedeemCodeSchema)
@blp.doc(summary="生成兑换码，到积分超市柜台出示；柜台扫码时扣减积分，一码只能用一次", security=CITIZEN_AUTH)
def redeem_code(body):
    redemption = counter.issue_code(g.citizen.id, body["item"])
    item = db.session.get(CatalogItem, redemption.catalog_item_id)
    return {"code": redemption.code, "item": item.name, "price": redemption.price,
            "expires_at": redemption.expires_at}


@blp.route("/publicity")
@citizen_required()
@blp.response(200, EntrySchema(many=True))
@blp.doc(summary="本村（社区）积分公示（姓名遮蔽）", security=CITIZEN_AUTH)
def publicity():
    return ledger.publicity_list(_member().scheme_id)


@blp.route("/publicity/<ref:ref>/objection", methods=["POST"])
@citizen_required()
@blp.arguments(ObjectionInSchema)
@blp.response(201, ObjectionSchema)
@blp.doc(summary="公示期内对一条积分提出异议", security=CITIZEN_AUTH)
def object_to(body, ref):
    objection = ledger.object_to(g.citizen.id, ref, body["reason"])
    return {"ref": objection.ref, "entry": ref, "state": objection.state}


@blp.route("/honour-board")
@citizen_required()
@blp.response(200, HonourBoardSchema)
@blp.doc(summary="本村（社区）红榜", security=CITIZEN_AUTH)
def honour_board():
    return stats.honour_board(db.session.get(Scheme, _member().scheme_id))


@blp.route("/honour-board", methods=["PUT"])
@citizen_required()
@blp.arguments(HonourBoardChoiceSchema)
@blp.response(200, MyPointsSchema)
@blp.doc(summary="是否同意上红榜（户主可同时设置本户）", security=CITIZEN_AUTH)
def honour_board_choice(body):
    member = _member()
    service.set_honour_board(member, body["show"], body["household"])
    return _points_view(member)
