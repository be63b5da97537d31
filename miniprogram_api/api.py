"""The citizen API that the WeChat mini-program calls (/mp/v1/...): parse, call the service, shape the answer."""

import json

from flask import Response, g, request
from flask_smorest import Blueprint

from app.replica import replica_read
from miniprogram_api import service
from miniprogram_api.auth import bound_citizen_id_required, citizen_required
from miniprogram_api.schemas import (
    MpAuditPageSchema,
    MpBindingRequestSchema,
    MpBindingSchema,
    MpClientSettingsSchema,
    MpConsentsSchema,
    MpHintsSchema,
    MpHistorySchema,
    MpLoginSchema,
    MpLogoutSchema,
    MpPageQuerySchema,
    MpProfileSchema,
    MpRecordItemSchema,
    MpRecordsPageSchema,
    MpRecordsQuerySchema,
    MpRefreshSchema,
    MpScoreSchema,
    MpSessionSchema,
)

blp = Blueprint("miniprogram", __name__, url_prefix="/mp/v1", description="微信小程序：居民本人")

CITIZEN_AUTH = [{"citizenToken": []}]


@blp.record_once
def _document_citizen_token(state) -> None:
    api = state.app.extensions["flask-smorest"]["blp_name_to_api"][blp.name]
    api.spec.components.security_scheme("citizenToken", {
        "type": "http", "scheme": "bearer", "description": "POST /mp/v1/session 取得的 access_token"})


@blp.route("/client-settings")
@blp.response(200, MpClientSettingsSchema)
@blp.doc(summary="小程序的配置：订阅消息模板、授权书文本及版本、证明材料限制、信用码有效期（无需登录）")
def client_settings():
    return service.client_settings()


@blp.route("/session", methods=["POST"])
@blp.arguments(MpLoginSchema)
@blp.response(200, MpSessionSchema)
@blp.doc(summary="微信登录：用 wx.login() 的 code 换取令牌")
def login(body):
    return service.login(body["code"])


@blp.route("/session/refresh", methods=["POST"])
@blp.arguments(MpRefreshSchema)
@blp.response(200, MpSessionSchema)
@blp.doc(summary="用 refresh_token 换一对新令牌（旧的随即作废）")
def refresh(body):
    return service.refresh(body["refresh_token"])


@blp.route("/session", methods=["DELETE"])
@citizen_required(bound=False)
@blp.arguments(MpLogoutSchema)
@blp.response(204)
@blp.doc(summary="退出登录：作废 refresh_token", security=CITIZEN_AUTH)
def logout(body):
    service.logout(body["refresh_token"])


@blp.route("/binding", methods=["GET"])
@citizen_required(bound=False)
@blp.response(200, MpBindingSchema)
@blp.doc(summary="当前微信账号的绑定状态", security=CITIZEN_AUTH)
def binding():
    return service.binding_status(g.wechat_account, g.citizen)


@blp.route("/binding", methods=["POST"])
@citizen_required(bound=False)
@blp.arguments(MpBindingRequestSchema)
@blp.response(201, MpProfileSchema)
@blp.doc(summary="绑定本人身份（姓名、身份证号码须与信用档案一致），并授权信用评分", security=CITIZEN_AUTH)
def bind(body):
    citizen = service.bind(g.wechat_account, body["name"], body["id_number"], body["phone"],
                           body["scoring_consent"])
    return service.profile(g.wechat_account, citizen)


@blp.route("/binding", methods=["DELETE"])
@citizen_required()
@blp.response(204)
@blp.doc(summary="解除绑定：该微信账号的全部令牌随即失效", security=CITIZEN_AUTH)
def unbind():
    service.unbind(g.wechat_account)


@blp.route("/me")
@citizen_required()
@blp.response(200, MpProfileSchema)
@blp.doc(summary="我的资料（脱敏）", security=CITIZEN_AUTH)
def me():
    return service.profile(g.wechat_account, g.citizen)


@blp.route("/me/score")
@bound_citizen_id_required
@blp.response(200, MpScoreSchema)
@blp.doc(summary="我的信用分：总分、等级、四个维度及上限", security=CITIZEN_AUTH)
@replica_read
def score():
    body = service.my_score(g.citizen_id, lambda view: json.dumps(MpScoreSchema().dump(view), ensure_ascii=False))
    return Response(body, mimetype="application/json")


@blp.route("/me/score/history")
@citizen_required()
@blp.response(200, MpHistorySchema)
@blp.doc(summary="近12个月的信用分变化（图表数据）", security=CITIZEN_AUTH)
@replica_read
def history():
    return service.history_view(g.citizen)


@blp.route("/me/records")
@citizen_required()
@blp.arguments(MpRecordsQuerySchema, location="query")
@blp.response(200, MpRecordsPageSchema)
@blp.doc(summary="我的信用记录：每条的计分贡献与计分截止日期，可按维度、状态筛选", security=CITIZEN_AUTH)
@replica_read
def records(query):
    return service.records_page(g.citizen, query["page"], query["per_page"], query["dimension"], query["status"])


@blp.route("/me/records/<ref:ref>")
@citizen_required()
@blp.response(200, MpRecordItemSchema)
@blp.doc(summary="一条信用记录：计分贡献、计分截止日期、状态", security=CITIZEN_AUTH)
@replica_read
def record(ref):
    return service.record_view(g.citizen, ref)


@blp.route("/me/hints")
@citizen_required()
@blp.response(200, MpHintsSchema)
@blp.doc(summary="如何提升信用分", security=CITIZEN_AUTH)
@replica_read
def hints():
    return service.hints_view(g.citizen)


@blp.route("/me/consents")
@citizen_required()
@blp.response(200, MpConsentsSchema)
@blp.doc(summary="我的授权", security=CITIZEN_AUTH)
def consents():
    return service.consents_view(g.citizen)


@blp.route("/me/consents/<kind>", methods=["PUT", "DELETE"])
@citizen_required()
@blp.response(200, MpConsentsSchema)
@blp.doc(summary="开启（PUT）或撤回（DELETE）一项授权；撤回信用评分授权后不再计算和显示信用分",
         security=CITIZEN_AUTH)
def consent(kind):
    return service.set_consent(g.citizen, kind, grant=request.method == "PUT")


@blp.route("/me/audit")
@citizen_required()
@blp.arguments(MpPageQuerySchema, location="query")
@blp.response(200, MpAuditPageSchema)
@blp.doc(summary="谁查看或变更了我的信用信息（全过程留痕）", security=CITIZEN_AUTH)
def audit_trail(query):
    return service.audit_page(g.citizen, query["page"], query["per_page"])
