"""Citizen endpoints of commitments, what-if and voluntary reports (/mp/v1/me/...)."""

from flask import g
from flask_smorest import Blueprint

from app.rights import commitments, voluntary, whatif
from app.rights.commitment_schemas import (
    CommitmentListQuerySchema,
    CommitmentListSchema,
    CommitmentSchema,
    CommitmentTypeSchema,
    MakeCommitmentSchema,
    VoluntaryReportListSchema,
    VoluntaryReportRequestSchema,
    VoluntaryReportSchema,
    VoluntaryTypesSchema,
    WhatIfRequestSchema,
    WhatIfSchema,
)
from miniprogram_api.auth import citizen_required

blp = Blueprint("mp_commitments", __name__, url_prefix="/mp/v1/me",
                description="微信小程序：信用承诺、分数测算、自愿注册")

CITIZEN_AUTH = [{"citizenToken": []}]


@blp.route("/commitment-types")
@citizen_required()
@blp.response(200, CommitmentTypeSchema(many=True))
@blp.doc(summary="我可以作出的信用承诺：承诺书全文及版本、期限、履约加分与违诺扣分", security=CITIZEN_AUTH)
def commitment_types():
    return commitments.catalog_view(g.citizen.id, self_service_only=True)


@blp.route("/commitments")
@citizen_required()
@blp.arguments(CommitmentListQuerySchema, location="query")
@blp.response(200, CommitmentListSchema)
@blp.doc(summary="我的信用承诺：状态与剩余天数", security=CITIZEN_AUTH)
def my_commitments(query):
    return {"items": commitments.list_for(g.citizen.id, query["status"])}


@blp.route("/commitments", methods=["POST"])
@citizen_required()
@blp.arguments(MakeCommitmentSchema)
@blp.response(201, CommitmentSchema)
@blp.doc(summary="作出信用承诺（须提交所阅读的承诺书版本）", security=CITIZEN_AUTH)
def make_commitment(body):
    commitment = commitments.make(g.citizen.id, body["type"], body["text_version"], body["accepted"])
    return commitments.view(commitment)


@blp.route("/commitments/<ref:ref>")
@citizen_required()
@blp.response(200, CommitmentSchema)
@blp.doc(summary="一份信用承诺的详情", security=CITIZEN_AUTH)
def my_commitment(ref):
    return commitments.view(commitments.get_for_citizen(g.citizen.id, ref))


@blp.route("/what-if", methods=["POST"])
@citizen_required()
@blp.arguments(WhatIfRequestSchema)
@blp.response(200, WhatIfSchema)
@blp.doc(summary="分数测算：作出并履行承诺、修复记录、记录到期后的分数与等级（不保存任何内容）",
         security=CITIZEN_AUTH)
def what_if(body):
    return whatif.compute(g.citizen, body["changes"])


@blp.route("/voluntary-reports/types")
@citizen_required()
@blp.response(200, VoluntaryTypesSchema)
@blp.doc(summary="可自愿注册的信息类型与信息真实性承诺书", security=CITIZEN_AUTH)
def voluntary_types():
    return voluntary.types_view()


@blp.route("/voluntary-reports")
@citizen_required()
@blp.response(200, VoluntaryReportListSchema)
@blp.doc(summary="我的自愿注册", security=CITIZEN_AUTH)
def my_voluntary_reports():
    return {"items": voluntary.list_for(g.citizen.id)}


@blp.route("/voluntary-reports", methods=["POST"])
@citizen_required()
@blp.arguments(VoluntaryReportRequestSchema)
@blp.response(201, VoluntaryReportSchema)
@blp.doc(summary="自愿注册一条守信信息（附证明信息并签署真实性承诺），信用中心 3 个工作日内核实",
         security=CITIZEN_AUTH)
def submit_voluntary_report(body):
    return voluntary.view(voluntary.submit(g.citizen, body))
