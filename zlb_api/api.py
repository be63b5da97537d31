"""/zlb/v1: the citizen API the 浙里办 H5 calls through the province's gateway (mgop). The gateway forwards no path
parameters and no cookies, so every id travels in the query (reads) or the JSON body (writes), and the token from
POST /zlb/v1/session travels in ``Authorization: Bearer``. Each view parses, calls the same service function as its
/mp/v1 twin, and shapes the answer the same way: the same rules, refusals and Chinese messages in both channels."""

from __future__ import annotations

import json

from flask import Response, g

from app.partners import attestations
from app.partners.schemas import AttestationIssuedSchema, AttestationRequestSchema, AttestationViewSchema
from app.replica import replica_read
from app.rights import cases, commitments, evidence, messages, objections, repairs, uploads, voluntary, whatif
from app.rights.api import evidence_response
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
from app.rights.schemas import (
    CasePageSchema,
    CaseSchema,
    EvidenceUploadFormSchema,
    EvidenceUploadSchema,
    MarkReadResultSchema,
    MarkReadSchema,
    MessagePageSchema,
    MessageQuerySchema,
    MessageSchema,
    MyCaseQuerySchema,
    ObjectionFormSchema,
    ObjectionJsonSchema,
    RepairFormSchema,
    RepairJsonSchema,
    RepairPreviewQuerySchema,
    RepairPreviewSchema,
    UnreadSchema,
)
from benefits import credit_code, ledger
from benefits.schemas import (
    CitizenOffersSchema,
    CreditCodeSchema,
    OffersQuerySchema,
    PageQuerySchema,
    RedemptionPageSchema,
)
from miniprogram_api import service as mp
from miniprogram_api.auth import citizen_required
from miniprogram_api.partners_api import issue_with_qr
from miniprogram_api.rights_api import MultipartBlueprint, cases_page, json_alternative, message_view, messages_page
from miniprogram_api.schemas import (
    MpAuditPageSchema,
    MpClientSettingsSchema,
    MpConsentsSchema,
    MpHintsSchema,
    MpHistorySchema,
    MpPageQuerySchema,
    MpProfileSchema,
    MpRecordItemSchema,
    MpRecordsPageSchema,
    MpRecordsQuerySchema,
    MpScoreSchema,
)
from zlb_api import service
from zlb_api.schemas import (
    ZlbConsentChangeSchema,
    ZlbJtiSchema,
    ZlbLoginSchema,
    ZlbRefBodySchema,
    ZlbRefQuerySchema,
    ZlbSessionSchema,
)

blp = MultipartBlueprint("zlb", __name__, url_prefix="/zlb/v1",
                         description="浙里办：居民本人（经浙里办网关调用：无路径参数，编号在查询串或请求体中）")

ZLB_AUTH = [{"zlbToken": []}]
CHANNEL = "zlb"


def signed_in(bound: bool = True):
    return citizen_required(bound=bound, channel=CHANNEL)


@blp.record_once
def _document_zlb_token(state) -> None:
    api = state.app.extensions["flask-smorest"]["blp_name_to_api"][blp.name]
    api.spec.components.security_scheme("zlbToken", {
        "type": "http", "scheme": "bearer", "description": "POST /zlb/v1/session 取得的 access_token"})


# -- sign-on, settings, the account --------------------------------------------------------------------------

@blp.route("/session", methods=["POST"])
@blp.arguments(ZlbLoginSchema)
@blp.response(200, ZlbSessionSchema)
@blp.doc(summary="浙里办单点登录：用 ZWJSBridge.ssoTicket() 的 ticketId 经省统一身份认证换取令牌；"
                 "首次登录按实名身份证号码关联信用档案")
def login(body):
    return service.login(body["ticketId"])


@blp.route("/client-settings")
@blp.response(200, MpClientSettingsSchema)
@blp.doc(summary="应用配置：授权书文本及版本、证明材料限制、信用码有效期（无需登录）")
def client_settings():
    return mp.client_settings()


@blp.route("/binding", methods=["DELETE"])
@signed_in()
@blp.response(204)
@blp.doc(summary="解除浙里办账号与信用档案的关联：全部令牌随即失效（再次登录会重新关联）", security=ZLB_AUTH)
def unbind():
    mp.unbind(g.wechat_account)


@blp.route("/me")
@signed_in()
@blp.response(200, MpProfileSchema)
@blp.doc(summary="我的资料（脱敏）", security=ZLB_AUTH)
def me():
    return mp.profile(g.wechat_account, g.citizen)


# -- score, records, consents, trail --------------------------------------------------------------------------

@blp.route("/me/score")
@signed_in()
@blp.response(200, MpScoreSchema)
@blp.doc(summary="我的信用分：总分、等级、四个维度及上限", security=ZLB_AUTH)
@replica_read
def score():
    body = mp.my_score(g.citizen.id, lambda view: json.dumps(MpScoreSchema().dump(view), ensure_ascii=False))
    return Response(body, mimetype="application/json")


@blp.route("/me/score/history")
@signed_in()
@blp.response(200, MpHistorySchema)
@blp.doc(summary="近12个月的信用分变化（图表数据）", security=ZLB_AUTH)
@replica_read
def history():
    return mp.history_view(g.citizen)


@blp.route("/me/hints")
@signed_in()
@blp.response(200, MpHintsSchema)
@blp.doc(summary="如何提升信用分", security=ZLB_AUTH)
@replica_read
def hints():
    return mp.hints_view(g.citizen)


@blp.route("/me/records")
@signed_in()
@blp.arguments(MpRecordsQuerySchema, location="query")
@blp.response(200, MpRecordsPageSchema)
@blp.doc(summary="我的信用记录：可按维度、状态筛选", security=ZLB_AUTH)
@replica_read
def records(query):
    return mp.records_page(g.citizen, query["page"], query["per_page"], query["dimension"], query["status"])


@blp.route("/me/record")
@signed_in()
@blp.arguments(ZlbRefQuerySchema, location="query")
@blp.response(200, MpRecordItemSchema)
@blp.doc(summary="一条信用记录（ref 为记录编号）", security=ZLB_AUTH)
@replica_read
def record(query):
    return mp.record_view(g.citizen, query["ref"])


@blp.route("/me/consents")
@signed_in()
@blp.response(200, MpConsentsSchema)
@blp.doc(summary="我的授权", security=ZLB_AUTH)
def consents():
    return mp.consents_view(g.citizen)


@blp.route("/me/consents", methods=["PUT", "DELETE"])
@signed_in()
@blp.arguments(ZlbConsentChangeSchema)
@blp.response(200, MpConsentsSchema)
@blp.doc(summary="开启（PUT）或撤回（DELETE）一项授权（kind 在请求体中）；撤回信用评分授权后不再计算和显示信用分",
         security=ZLB_AUTH)
def consent(body):
    from flask import request

    return mp.set_consent(g.citizen, body["kind"], grant=request.method == "PUT", channel=CHANNEL)


@blp.route("/me/audit")
@signed_in()
@blp.arguments(MpPageQuerySchema, location="query")
@blp.response(200, MpAuditPageSchema)
@blp.doc(summary="谁查看或变更了我的信用信息（全过程留痕）", security=ZLB_AUTH)
def audit_trail(query):
    return mp.audit_page(g.citizen, query["page"], query["per_page"])


# -- objections, repairs, evidence, cases ---------------------------------------------------------------------

def _case(case) -> dict:
    return cases.describe(case, detail=True, audience="zlb")


@blp.route("/me/evidence", methods=["POST"])
@signed_in()
@blp.arguments(EvidenceUploadFormSchema, location="multipart")
@blp.response(201, EvidenceUploadSchema)
@blp.doc(summary="上传一张证明材料图片（multipart/form-data 的 file 字段，一次一张）：得到 evidence_id",
         security=ZLB_AUTH)
def upload_evidence(form):
    return uploads.describe(uploads.upload(g.citizen.id, form["file"]))


@blp.route("/me/evidence-file")
@signed_in()
@blp.arguments(ZlbRefQuerySchema, location="query")
@blp.response(200)
@blp.doc(summary="查看本人提交的证明材料图片（ref 为材料编号）", security=ZLB_AUTH)
def evidence_file(query):
    return evidence_response(*evidence.open_for(query["ref"], citizen_id=g.citizen.id))


@blp.route("/me/objections", methods=["POST"])
@signed_in()
@blp.arguments(ObjectionFormSchema, location="filing")
@blp.response(201, CaseSchema)
@blp.doc(summary="对本人的一条信用记录提出异议（JSON 以 evidence_ids 引用已上传的图片）；该记录随即暂停计分",
         security=ZLB_AUTH, **json_alternative(ObjectionJsonSchema))
def file_objection(form):
    case = objections.file(g.citizen.id, form["record"], form["reason_code"], form["reason_text"],
                           form.get("evidence", []), form["evidence_ids"])
    messages.deliver_soon()
    return _case(case)


@blp.route("/me/objections/withdraw", methods=["POST"])
@signed_in()
@blp.arguments(ZlbRefBodySchema)
@blp.response(200, CaseSchema)
@blp.doc(summary="撤回尚未处理完毕的异议（ref 为申请编号）；该记录恢复计分", security=ZLB_AUTH)
def withdraw_objection(body):
    return _case(objections.withdraw(g.citizen.id, body["ref"]))


@blp.route("/me/repairs/preview")
@signed_in()
@blp.arguments(RepairPreviewQuerySchema, location="query")
@blp.response(200, RepairPreviewSchema)
@blp.doc(summary="申请信用修复前：能否申请、何时起可申请、信用修复承诺书全文及版本", security=ZLB_AUTH)
def repair_preview(query):
    return repairs.preview(g.citizen.id, query["record"])


@blp.route("/me/repairs", methods=["POST"])
@signed_in()
@blp.arguments(RepairFormSchema, location="filing")
@blp.response(201, CaseSchema)
@blp.doc(summary="申请信用修复（JSON 以 evidence_ids 引用已上传的履行证明图片）并签署信用修复承诺书",
         security=ZLB_AUTH, **json_alternative(RepairJsonSchema))
def apply_repair(form):
    case = repairs.apply(g.citizen.id, form["record"], form["statement"], form["commitment_version"],
                         form["commitment_accepted"], form.get("evidence", []), form["evidence_ids"])
    messages.deliver_soon()
    return _case(case)


@blp.route("/me/cases")
@signed_in()
@blp.arguments(MyCaseQuerySchema, location="query")
@blp.response(200, CasePageSchema)
@blp.doc(summary="我的异议与修复申请（最新在前）", security=ZLB_AUTH)
def my_cases(query):
    return cases_page(g.citizen.id, query)


@blp.route("/me/case")
@signed_in()
@blp.arguments(ZlbRefQuerySchema, location="query")
@blp.response(200, CaseSchema)
@blp.doc(summary="申请详情（ref 为申请编号）：办理期限（工作日）、时间线、处理理由、证明材料", security=ZLB_AUTH)
def my_case(query):
    return _case(cases.citizen_case(g.citizen.id, query["ref"]))


# -- the message centre -----------------------------------------------------------------------------------------

@blp.route("/me/messages")
@signed_in()
@blp.arguments(MessageQuerySchema, location="query")
@blp.response(200, MessagePageSchema)
@blp.doc(summary="消息中心（最新在前）", security=ZLB_AUTH)
def message_list(query):
    return messages_page(g.citizen.id, query)


@blp.route("/me/messages/unread-count")
@signed_in()
@blp.response(200, UnreadSchema)
@blp.doc(summary="未读消息数", security=ZLB_AUTH)
def message_unread():
    return {"unread": messages.unread_count(g.citizen.id)}


@blp.route("/me/message")
@signed_in()
@blp.arguments(ZlbRefQuerySchema, location="query")
@blp.response(200, MessageSchema)
@blp.doc(summary="一条消息（ref 为消息编号）", security=ZLB_AUTH)
def message_one(query):
    return message_view(messages.get_message(g.citizen.id, query["ref"]))


@blp.route("/me/messages/read", methods=["POST"])
@signed_in()
@blp.arguments(MarkReadSchema)
@blp.response(200, MarkReadResultSchema)
@blp.doc(summary="标为已读（refs 为空则全部已读）", security=ZLB_AUTH)
def message_read(body):
    marked = messages.mark_read(g.citizen.id, body["refs"])
    return {"marked": marked, "unread": messages.unread_count(g.citizen.id)}


# -- commitments, what-if, voluntary reports -------------------------------------------------------------------

@blp.route("/me/commitment-types")
@signed_in()
@blp.response(200, CommitmentTypeSchema(many=True))
@blp.doc(summary="我可以作出的信用承诺：承诺书全文及版本、期限、履约加分与违诺扣分", security=ZLB_AUTH)
def commitment_types():
    return commitments.catalog_view(g.citizen.id, self_service_only=True)


@blp.route("/me/commitments")
@signed_in()
@blp.arguments(CommitmentListQuerySchema, location="query")
@blp.response(200, CommitmentListSchema)
@blp.doc(summary="我的信用承诺：状态与剩余天数", security=ZLB_AUTH)
def my_commitments(query):
    return {"items": commitments.list_for(g.citizen.id, query["status"])}


@blp.route("/me/commitments", methods=["POST"])
@signed_in()
@blp.arguments(MakeCommitmentSchema)
@blp.response(201, CommitmentSchema)
@blp.doc(summary="作出信用承诺（须提交所阅读的承诺书版本）", security=ZLB_AUTH)
def make_commitment(body):
    return commitments.view(commitments.make(g.citizen.id, body["type"], body["text_version"], body["accepted"]))


@blp.route("/me/commitment")
@signed_in()
@blp.arguments(ZlbRefQuerySchema, location="query")
@blp.response(200, CommitmentSchema)
@blp.doc(summary="一份信用承诺的详情（ref 为承诺编号）", security=ZLB_AUTH)
def my_commitment(query):
    return commitments.view(commitments.get_for_citizen(g.citizen.id, query["ref"]))


@blp.route("/me/what-if", methods=["POST"])
@signed_in()
@blp.arguments(WhatIfRequestSchema)
@blp.response(200, WhatIfSchema)
@blp.doc(summary="分数测算（不保存任何内容）", security=ZLB_AUTH)
def what_if(body):
    return whatif.compute(g.citizen, body["changes"])


@blp.route("/me/voluntary-reports/types")
@signed_in()
@blp.response(200, VoluntaryTypesSchema)
@blp.doc(summary="可自愿注册的信息类型与信息真实性承诺书", security=ZLB_AUTH)
def voluntary_types():
    return voluntary.types_view()


@blp.route("/me/voluntary-reports")
@signed_in()
@blp.response(200, VoluntaryReportListSchema)
@blp.doc(summary="我的自愿注册", security=ZLB_AUTH)
def my_voluntary_reports():
    return {"items": voluntary.list_for(g.citizen.id)}


@blp.route("/me/voluntary-reports", methods=["POST"])
@signed_in()
@blp.arguments(VoluntaryReportRequestSchema)
@blp.response(201, VoluntaryReportSchema)
@blp.doc(summary="自愿注册一条守信信息（evidence_ids 引用已上传的证明图片）", security=ZLB_AUTH)
def submit_voluntary_report(body):
    return voluntary.view(voluntary.submit(g.citizen, body))


# -- 信易+ and partner cities --------------------------------------------------------------------------------

@blp.route("/me/offers")
@signed_in()
@blp.arguments(OffersQuerySchema, location="query")
@blp.response(200, CitizenOffersSchema)
@blp.doc(summary="我能享受的信易+权益，以及暂不能享受的还差什么；"
                 "给出 lat/lng 时按最近门店由近到远排序", security=ZLB_AUTH)
@replica_read
def offers(query):
    near = (query["lat"], query["lng"]) if query["lat"] is not None else None
    return ledger.offers_for(g.citizen, query["scene"], near)


@blp.route("/me/credit-code", methods=["POST"])
@signed_in()
@blp.response(200, CreditCodeSchema)
@blp.doc(summary="生成信用码（扫码亮信，一码一用）", security=ZLB_AUTH)
def issue_credit_code():
    return credit_code.issue(g.citizen)


@blp.route("/me/redemptions")
@signed_in()
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, RedemptionPageSchema)
@blp.doc(summary="我的权益使用记录", security=ZLB_AUTH)
def redemptions(query):
    return ledger.redemptions(query["page"], query["per_page"], citizen_id=g.citizen.id).as_dict()


@blp.route("/me/attestations", methods=["POST"])
@signed_in()
@blp.arguments(AttestationRequestSchema)
@blp.response(201, AttestationIssuedSchema)
@blp.doc(summary="向合作城市出具本人信用等级的互认证明（需城市互认共享授权）", security=ZLB_AUTH)
def issue_attestation(body):
    return issue_with_qr(g.citizen, body["partner"], body.get("disclose", ()))


@blp.route("/me/attestations")
@signed_in()
@blp.response(200, AttestationViewSchema(many=True))
@blp.doc(summary="我出具过的互认证明及其状态", security=ZLB_AUTH)
def attestation_history():
    return attestations.attestations_of(g.citizen)


@blp.route("/me/attestations/revoke", methods=["POST"])
@signed_in()
@blp.arguments(ZlbJtiSchema)
@blp.response(200, AttestationViewSchema)
@blp.doc(summary="撤销本人出具的一份互认证明（jti 在请求体中）", security=ZLB_AUTH)
def revoke_attestation(body):
    return attestations.revoke_own(g.citizen, body["jti"])
