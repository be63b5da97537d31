"""Staff management of partner cities (/api/v1/partners): the registry, their keys, and reconciliation reports.

Any staff member reads; changing the registry (a partner's cut-offs decide which of its citizens get our
benefits), its keys or its status, and running a reconciliation, are for admins.
"""

from flask_smorest import Blueprint

from app.auth.guards import staff_required
from app.extensions import db
from app.partners import attestations, settlement
from app.partners import service as registry
from app.partners.cli import register_commands
from app.partners.schemas import (
    PartnerCreateSchema,
    PartnerKeysSchema,
    PartnerListQuerySchema,
    PartnerSchema,
    PartnerUpdateSchema,
    ReconcileRequestSchema,
    ReportQuerySchema,
    ReportSchema,
)

blp = Blueprint("partners_admin", __name__, url_prefix="/api/v1/partners",
                description="信用中心：合作城市（信用分互认）与对账", cli_group="partners")
register_commands(blp.cli)

STAFF_AUTH = [{"staffToken": []}]


def _view(partner):
    partner.key_ids = registry.key_ids(partner)
    partner.receipts_pending = settlement.pending_receipts(partner.id)
    partner.attestations_outstanding = attestations.outstanding_count(partner.id)
    return partner


@blp.route("")
@staff_required()
@blp.arguments(PartnerListQuerySchema, location="query")
@blp.response(200, PartnerSchema(many=True))
@blp.doc(summary="合作城市列表", security=STAFF_AUTH)
def list_partners(query):
    return [_view(partner) for partner in registry.list_partners(query["status"])]


@blp.route("", methods=["POST"])
@staff_required("admin")
@blp.arguments(PartnerCreateSchema)
@blp.response(201, PartnerSchema)
@blp.doc(summary="登记合作城市（管理员）", security=STAFF_AUTH)
def create_partner(body):
    partner = registry.create_partner(body)
    db.session.commit()
    return _view(partner)


@blp.route("/reconciliations")
@staff_required()
@blp.arguments(ReportQuerySchema, location="query")
@blp.response(200, ReportSchema(many=True))
@blp.doc(summary="对账报告（每个城市每天一份，重跑替换）", security=STAFF_AUTH)
def list_reports(query):
    return settlement.reports(query["partner"], query["date"], query["status"])


@blp.route("/reconciliations", methods=["POST"])
@staff_required("admin")
@blp.arguments(ReconcileRequestSchema)
@blp.response(200, ReportSchema(many=True))
@blp.doc(summary="立即对账（刷新公钥、拉取撤销名单、补发核销凭证、核对结算计数；管理员）", security=STAFF_AUTH)
def reconcile(body):
    return settlement.reconcile(body["partner"], body["date"])


@blp.route("/<city_code:city_code>")
@staff_required()
@blp.response(200, PartnerSchema)
@blp.doc(summary="合作城市详情", security=STAFF_AUTH)
def get_partner(city_code):
    return _view(registry.get_partner(city_code))


@blp.route("/<city_code:city_code>", methods=["PATCH"])
@staff_required("admin")
@blp.arguments(PartnerUpdateSchema)
@blp.response(200, PartnerSchema)
@blp.doc(summary="修改合作城市（名称、分值范围与分档、公钥、接口地址；管理员）", security=STAFF_AUTH)
def update_partner(body, city_code):
    partner = registry.update_partner(city_code, body)
    db.session.commit()
    return _view(partner)


@blp.route("/<city_code:city_code>/suspend", methods=["POST"])
@staff_required("admin")
@blp.response(200, PartnerSchema)
@blp.doc(summary="暂停互认（对方市民的凭证和对方的接口调用立即被拒绝；管理员）", security=STAFF_AUTH)
def suspend(city_code):
    partner = registry.set_status(city_code, "suspended")
    db.session.commit()
    return _view(partner)


@blp.route("/<city_code:city_code>/activate", methods=["POST"])
@staff_required("admin")
@blp.response(200, PartnerSchema)
@blp.doc(summary="启用互认（管理员）", security=STAFF_AUTH)
def activate(city_code):
    partner = registry.set_status(city_code, "active")
    db.session.commit()
    return _view(partner)


@blp.route("/<city_code:city_code>/keys", methods=["PUT"])
@staff_required("admin")
@blp.arguments(PartnerKeysSchema)
@blp.response(200, PartnerSchema)
@blp.doc(summary="设置对方公钥集（内联或地址）和接口地址，并立即拉取公钥（管理员）", security=STAFF_AUTH)
def set_keys(body, city_code):
    partner = registry.configure_keys(city_code, body)
    return _view(partner)
