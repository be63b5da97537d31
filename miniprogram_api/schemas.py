"""Request and answer shapes of the mini-program API (marshmallow 4)."""

from marshmallow import Schema, fields, validate

from app.citizens.models import CONSENT_KINDS
from app.openapi import MAY_BE_ABSENT
from app.records.models import RECORD_STATUSES
from app.schema_base import BodySchema, CityDateTime
from score_model import DIMENSIONS


class MpLoginSchema(BodySchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=128),
                         metadata={"description": "wx.login() 返回的临时登录凭证 code"})


class MpRefreshSchema(BodySchema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=128))


class MpLogoutSchema(BodySchema):
    refresh_token = fields.String(load_default=None, validate=validate.Length(max=128))


class MpSessionSchema(Schema):
    access_token = fields.String(metadata={"description": "放在 Authorization: Bearer 中"})
    refresh_token = fields.String(metadata={"description": "换取新令牌用，一次有效"})
    token_type = fields.String()
    expires_in = fields.Integer(metadata={"description": "access_token 的有效秒数"})
    bound = fields.Boolean(metadata={"description": "该微信账号是否已绑定本人身份"})


class MpBindingRequestSchema(BodySchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=32),
                         metadata={"description": "与身份证一致的姓名"})
    id_number = fields.String(required=True, validate=validate.Length(min=1, max=32),
                              metadata={"description": "居民身份证号码（只在请求体中传递）"})
    phone = fields.String(required=True, validate=validate.Length(min=1, max=20),
                          metadata={"description": "本人手机号码（中国大陆11位）"})
    scoring_consent = fields.Boolean(load_default=True,
                                     metadata={"description": "同意《信用评分授权书》：绑定的同时授权计算信用分"})


class MpBindingSchema(Schema):
    bound = fields.Boolean()
    bound_at = CityDateTime(allow_none=True)
    masked_name = fields.String(allow_none=True)


class MpProfileSchema(Schema):
    masked_name = fields.String(metadata={"description": "张*"})
    masked_id_number = fields.String(metadata={"description": "3306**********1234"})
    masked_phone = fields.String(allow_none=True, metadata={"description": "138****8000"})
    bound_at = CityDateTime(allow_none=True)
    score_name = fields.String()


class MpDimensionSchema(Schema):
    key = fields.String(metadata={"description": "public / law / commitment / honour"})
    name = fields.String()
    points = fields.Integer(metadata={"description": "当前得分（分数历史中的维度说明不带此项）", MAY_BE_ABSENT: True})
    cap = fields.Integer()


class MpScoreSchema(Schema):
    score_name = fields.String()
    total = fields.Integer()
    max_total = fields.Integer()
    level = fields.Integer(metadata={"description": "0–5；0 为受限"})
    level_name = fields.String()
    restricted = fields.Boolean()
    dimensions = fields.List(fields.Nested(MpDimensionSchema))
    rules_version = fields.String()
    computed_at = CityDateTime()
    as_of = fields.Date()


class MpHistoryPointSchema(Schema):
    date = fields.Date()
    total = fields.Integer()
    public = fields.Integer()
    law = fields.Integer()
    commitment = fields.Integer()
    honour = fields.Integer()
    level = fields.Integer()
    level_name = fields.String()


class MpHistorySchema(Schema):
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    dimensions = fields.List(fields.Nested(MpDimensionSchema))
    points = fields.List(fields.Nested(MpHistoryPointSchema),
                         metadata={"description": "按日期排列；每个变化日取当天最后的分值，首尾补齐窗口起点与今天"})


class MpPageQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class MpRecordsQuerySchema(MpPageQuerySchema):
    dimension = fields.String(load_default=None, validate=validate.OneOf(DIMENSIONS))
    status = fields.String(load_default=None, validate=validate.OneOf(RECORD_STATUSES))


class MpOpenCaseSchema(Schema):
    ref = fields.String(metadata={"description": "案件编号（/me/cases/{ref}）"})
    kind = fields.String(metadata={"description": "objection 信用异议 / repair 信用修复"})
    kind_name = fields.String()
    state = fields.String()
    state_name = fields.String()
    deadline = fields.Date(metadata={"description": "办理期限"})


class MpRecordItemSchema(Schema):
    ref = fields.String()
    type_code = fields.String()
    name = fields.String()
    dimension = fields.String(allow_none=True)
    dimension_name = fields.String(allow_none=True)
    status = fields.String()
    status_name = fields.String()
    occurred_at = fields.Date()
    summary = fields.String(allow_none=True)
    department = fields.String()
    scored = fields.Boolean(metadata={"description": "false：未授权信用评分，不计算贡献"})
    points = fields.Integer(allow_none=True, metadata={"description": "这条记录实际计入的分值（带符号）"})
    counted = fields.Boolean(allow_none=True)
    counts_until = fields.Date(allow_none=True, metadata={"description": "从这一天起不再计分"})
    not_counted_reason = fields.String(allow_none=True)
    not_counted_text = fields.String(allow_none=True)
    open_case = fields.Nested(MpOpenCaseSchema, allow_none=True,
                              metadata={"description": "这条记录上正在办理的异议或修复（没有时为 null）"})


class MpPageSchema(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


class MpRecordsPageSchema(MpPageSchema):
    items = fields.List(fields.Nested(MpRecordItemSchema))


class MpHintActionSchema(Schema):
    method = fields.String()
    path = fields.String(metadata={"description": "去办理的接口"})
    query = fields.Dict()
    body = fields.Dict()


class MpHintSchema(Schema):
    kind = fields.String()
    message = fields.String()
    ref = fields.String(allow_none=True)
    date = fields.Date(allow_none=True)
    type = fields.String(allow_none=True, metadata={"description": "make_commitment：承诺类型"})
    points = fields.Integer(allow_none=True, metadata={"description": "按分数测算，这一步对总分的影响"})
    effective_on = fields.Date(allow_none=True, metadata={"description": "何时生效"})
    action = fields.Nested(MpHintActionSchema, allow_none=True)


class MpHintsSchema(Schema):
    hints = fields.List(fields.Nested(MpHintSchema))


class MpConsentSchema(Schema):
    kind = fields.String(validate=validate.OneOf(CONSENT_KINDS))
    name = fields.String()
    granted = fields.Boolean()
    granted_at = CityDateTime(allow_none=True)
    withdrawn_at = CityDateTime(allow_none=True)


class MpConsentsSchema(Schema):
    consents = fields.List(fields.Nested(MpConsentSchema))


class MpAuditItemSchema(Schema):
    occurred_at = CityDateTime()
    who = fields.String()
    who_type = fields.String()
    action = fields.String()
    action_name = fields.String()
    reason = fields.String()


class MpAuditPageSchema(MpPageSchema):
    items = fields.List(fields.Nested(MpAuditItemSchema))


class MpTemplateSchema(Schema):
    kind = fields.String(metadata={"description": "用途：record_notice 信用信息告知 / case_result 办理结果 / "
                                                  "reminder 到期提醒（POST /me/message-subscriptions 的 templates "
                                                  "填这里的 kind）"})
    name = fields.String()
    template_id = fields.String(metadata={"description": "wx.requestSubscribeMessage 的 tmplIds"})


class MpConsentTextSchema(Schema):
    kind = fields.String(validate=validate.OneOf(CONSENT_KINDS))
    name = fields.String()
    version = fields.String(metadata={"description": "授权书文本版本"})
    text = fields.String(metadata={"description": "授权书全文"})


class MpEvidenceLimitsSchema(Schema):
    max_files = fields.Integer(metadata={"description": "一份申请最多几张图片"})
    max_bytes = fields.Integer(metadata={"description": "单张图片最大字节数"})
    content_types = fields.List(fields.String(), metadata={"description": "接受的图片类型（按文件内容判断）"})
    types = fields.List(fields.String(), metadata={"description": "同 content_types"})
    upload_ttl_seconds = fields.Integer(metadata={"description": "逐张上传的图片多久内须被引用，过期删除"})


class MpClientSettingsSchema(Schema):
    subscription_templates = fields.List(fields.Nested(MpTemplateSchema))
    consents = fields.List(fields.Nested(MpConsentTextSchema))
    evidence = fields.Nested(MpEvidenceLimitsSchema)
    credit_code_ttl_seconds = fields.Integer(metadata={"description": "信用码有效秒数"})
    score_name = fields.String()
