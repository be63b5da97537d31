"""The citizen's side of citizen rights (/mp/v1/me/...): objections, repairs, their cases, evidence, messages."""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

from app.rights import cases, evidence, messages, objections, repairs, uploads
from app.rights.api import evidence_response
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
    SubscribeSchema,
    SubscriptionsSchema,
    UnreadSchema,
)
from app.timeutil import to_city
from miniprogram_api.auth import citizen_required


class MultipartParser(FlaskParser):
    """Adds the ``multipart`` location: the text fields and the files of one multipart/form-data body, read by a
    single schema (webargs' ``form`` and ``files`` locations each see half of it, and two body arguments cannot
    be documented as the one OpenAPI 3 ``requestBody`` the request is)."""

    __location_map__ = dict(multipart="load_multipart", filing="load_filing", **FlaskParser.__location_map__)

    def load_multipart(self, req, schema):
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)

    def load_filing(self, req, schema):
        """A filing comes as multipart/form-data (files in it) or as JSON citing uploaded images by id."""
        if req.mimetype == "application/json" or req.mimetype.endswith("+json"):
            return self.load_json(req, schema)
        return self.load_multipart(req, schema)


class MultipartBlueprint(Blueprint):
    ARGUMENTS_PARSER = MultipartParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "multipart": "multipart/form-data", "filing": "multipart/form-data"}


def json_alternative(schema) -> dict:
    """The ``application/json`` half of a filing's request body, merged into the one OpenAPI requestBody whose
    ``multipart/form-data`` half ``@blp.arguments(..., location="filing")`` documents."""
    return {"requestBody": {"content": {"application/json": {"schema": schema}}}}


blp = MultipartBlueprint("mp_rights", __name__, url_prefix="/mp/v1/me",
                         description="微信小程序：信用异议、信用修复、消息中心")

CITIZEN_AUTH = [{"citizenToken": []}]


def _case(case) -> dict:
    return cases.describe(case, detail=True, audience="citizen")


def cases_page(citizen_id: int, query: dict) -> dict:
    """The citizen's cases as a page (shared with /zlb/v1)."""
    rows, total = cases.citizen_cases(citizen_id, query["kind"], query["page"], query["per_page"])
    per_page = query["per_page"]
    return {"items": [cases.describe(c) for c in rows], "page": query["page"], "per_page": per_page,
            "total": total, "pages": (total + per_page - 1) // per_page}


@blp.route("/evidence", methods=["POST"])
@citizen_required()
@blp.arguments(EvidenceUploadFormSchema, location="multipart")
@blp.response(201, EvidenceUploadSchema)
@blp.doc(summary="上传一张证明材料图片（multipart/form-data 的 file 字段，wx.uploadFile 一次一张）：得到 evidence_id，"
                 "提交异议、修复、自愿注册时引用；未引用的图片一天后删除", security=CITIZEN_AUTH)
def upload_evidence(form):
    return uploads.describe(uploads.upload(g.citizen.id, form["file"]))


@blp.route("/objections", methods=["POST"])
@citizen_required()
@blp.arguments(ObjectionFormSchema, location="filing")
@blp.response(201, CaseSchema)
@blp.doc(summary="对本人的一条信用记录提出异议（multipart/form-data 附图片，"
                 "或 JSON 以 evidence_ids 引用已上传的图片）；该记录随即暂停计分",
         security=CITIZEN_AUTH, **json_alternative(ObjectionJsonSchema))
def file_objection(form):
    case = objections.file(g.citizen.id, form["record"], form["reason_code"], form["reason_text"],
                           form.get("evidence", []), form["evidence_ids"])
    messages.deliver_soon()
    return _case(case)


@blp.route("/objections/<ref:ref>/withdraw", methods=["POST"])
@citizen_required()
@blp.response(200, CaseSchema)
@blp.doc(summary="撤回尚未处理完毕的异议；该记录恢复计分", security=CITIZEN_AUTH)
def withdraw_objection(ref):
    return _case(objections.withdraw(g.citizen.id, ref))


@blp.route("/repairs/preview")
@citizen_required()
@blp.arguments(RepairPreviewQuerySchema, location="query")
@blp.response(200, RepairPreviewSchema)
@blp.doc(summary="申请信用修复前：能否申请、何时起可申请、需签署的信用修复承诺书全文及版本", security=CITIZEN_AUTH)
def repair_preview(query):
    return repairs.preview(g.citizen.id, query["record"])


@blp.route("/repairs", methods=["POST"])
@citizen_required()
@blp.arguments(RepairFormSchema, location="filing")
@blp.response(201, CaseSchema)
@blp.doc(summary="申请信用修复（multipart/form-data 附图片，或 JSON 以 evidence_ids 引用已上传的图片）："
                 "履行证明图片 + 签署信用修复承诺书", security=CITIZEN_AUTH, **json_alternative(RepairJsonSchema))
def apply_repair(form):
    case = repairs.apply(g.citizen.id, form["record"], form["statement"], form["commitment_version"],
                         form["commitment_accepted"], form.get("evidence", []), form["evidence_ids"])
    messages.deliver_soon()
    return _case(case)


@blp.route("/cases")
@citizen_required()
@blp.arguments(MyCaseQuerySchema, location="query")
@blp.response(200, CasePageSchema)
@blp.doc(summary="我的异议与修复申请（最新在前）", security=CITIZEN_AUTH)
def my_cases(query):
    return cases_page(g.citizen.id, query)


@blp.route("/cases/<ref:ref>")
@citizen_required()
@blp.response(200, CaseSchema)
@blp.doc(summary="申请详情：办理期限（工作日）、时间线、处理理由、证明材料", security=CITIZEN_AUTH)
def my_case(ref):
    return _case(cases.citizen_case(g.citizen.id, ref))


@blp.route("/evidence/<ref:ref>")
@citizen_required()
@blp.response(200)
@blp.doc(summary="查看本人提交的证明材料图片", security=CITIZEN_AUTH)
def my_evidence(ref):
    return evidence_response(*evidence.open_for(ref, citizen_id=g.citizen.id))


# -- the message centre ---------------------------------------------------------------------------------------

def message_view(message) -> dict:
    return {"ref": message.ref, "kind": message.kind, "title": message.title, "body": message.body,
            "link": message.link, "related_ref": message.related_ref, "created_at": to_city(message.created_at),
            "read": message.read_at is not None}


@blp.route("/messages")
@citizen_required()
@blp.arguments(MessageQuerySchema, location="query")
@blp.response(200, MessagePageSchema)
@blp.doc(summary="消息中心：信用信息告知书、异议与修复的受理和结果、到期提醒（最新在前）", security=CITIZEN_AUTH)
def message_list(query):
    return messages_page(g.citizen.id, query)


def messages_page(citizen_id: int, query: dict) -> dict:
    """The message centre as a page (shared with /zlb/v1)."""
    rows, total = messages.list_messages(citizen_id, query["page"], query["per_page"], query["unread_only"])
    return {"items": [message_view(m) for m in rows], "page": query["page"], "per_page": query["per_page"],
            "total": total, "unread": messages.unread_count(citizen_id)}


@blp.route("/messages/unread-count")
@citizen_required()
@blp.response(200, UnreadSchema)
@blp.doc(summary="未读消息数", security=CITIZEN_AUTH)
def message_unread():
    return {"unread": messages.unread_count(g.citizen.id)}


@blp.route("/messages/<ref:ref>")
@citizen_required()
@blp.response(200, MessageSchema)
@blp.doc(summary="一条消息", security=CITIZEN_AUTH)
def message_one(ref):
    return message_view(messages.get_message(g.citizen.id, ref))


@blp.route("/messages/read", methods=["POST"])
@citizen_required()
@blp.arguments(MarkReadSchema)
@blp.response(200, MarkReadResultSchema)
@blp.doc(summary="标为已读（refs 为空则全部已读）", security=CITIZEN_AUTH)
def message_read(body):
    marked = messages.mark_read(g.citizen.id, body["refs"])
    return {"marked": marked, "unread": messages.unread_count(g.citizen.id)}


@blp.route("/message-subscriptions")
@citizen_required()
@blp.response(200, SubscriptionsSchema)
@blp.doc(summary="已订阅的微信订阅消息", security=CITIZEN_AUTH)
def subscriptions():
    return {"templates": messages.subscriptions(g.citizen.id)}


@blp.route("/message-subscriptions", methods=["POST"])
@citizen_required()
@blp.arguments(SubscribeSchema)
@blp.response(200, SubscriptionsSchema)
@blp.doc(summary="记录用户在 wx.requestSubscribeMessage 中同意的订阅消息模板", security=CITIZEN_AUTH)
def subscribe(body):
    return {"templates": messages.subscribe(g.citizen.id, body["templates"])}
