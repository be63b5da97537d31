"""Request and answer shapes of the partner registry (staff), the partner API and the citizen's attestations."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.partners.models import CREDENTIAL_FORMATS, PARTNER_STATUSES, RECEIPT_STATUSES, REPORT_STATUSES
from app.schema_base import BodySchema, CityDateTime, PatchSchema

_CITY_CODE = validate.Regexp(r"^\d{6}$", error="应为 6 位行政区划代码，如杭州 330100。")
_URL = validate.URL(require_tld=False, schemes={"http", "https"}, error="应为 http(s) 地址。")
_TOKEN_ID = validate.Regexp(r"^[A-Za-z0-9_-]{8,64}$")
_SCORE = validate.Range(min=0, max=1_000_000)  # any city's native scale, inside a 32-bit column


# -- registry (staff) ---------------------------------------------------------------------------------------

class CutoffSchema(BodySchema):
    level = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    min = fields.Integer(required=True, validate=_SCORE, metadata={"description": "该等级的起始分（含）"})
    name = fields.String(load_default="", validate=validate.Length(max=16))


class CutoffViewSchema(CutoffSchema):
    max = fields.Integer(metadata={"description": "该等级的最高分（含）"})


class _PartnerFields(BodySchema):
    city_name = fields.String(validate=validate.Length(min=1, max=32))
    score_name = fields.String(validate=validate.Length(min=1, max=32))
    scale_min = fields.Integer(allow_none=True, validate=_SCORE, metadata={"description": "本地信用分的最低分"})
    scale_max = fields.Integer(allow_none=True, validate=_SCORE, metadata={"description": "本地信用分的最高分"})
    cutoffs = fields.List(fields.Nested(CutoffSchema), allow_none=True,
                          metadata={"description": "本地分值到 L1–L5 的分档（每级的起始分）"})
    scale_confirmed = fields.Boolean(metadata={"description": "分档是否已与对方城市确认"})
    scale_note = fields.String(validate=validate.Length(max=200))
    jwks = fields.Dict(allow_none=True, metadata={"description": "对方的公钥集（JWK Set，Ed25519）"})
    jwks_url = fields.String(allow_none=True, validate=[validate.Length(max=500), _URL],
                             metadata={"description": "对方公钥集地址，如 https://…/.well-known/jwks.json"})
    api_base_url = fields.String(allow_none=True, validate=[validate.Length(max=500), _URL],
                                 metadata={"description": "对方互认接口根地址，如 https://…/partner/v1"})
    credential_format = fields.String(validate=validate.OneOf(CREDENTIAL_FORMATS), metadata={
        "description": "出具给该城市的互认证明格式：sd-jwt-vc（SD-JWT VC，带状态列表）或 jws（旧格式，"
                       "PARTNER_LEGACY_JWS_UNTIL 之前可用）"})


class PartnerCreateSchema(_PartnerFields):
    city_code = fields.String(required=True, validate=_CITY_CODE)
    city_name = fields.String(required=True, validate=validate.Length(min=1, max=32))
    score_name = fields.String(required=True, validate=validate.Length(min=1, max=32))
    status = fields.String(load_default="suspended", validate=validate.OneOf(PARTNER_STATUSES),
                           metadata={"description": "新登记的城市默认暂停，确认分档和公钥后再启用"})


class PartnerUpdateSchema(PatchSchema, _PartnerFields):
    pass


class PartnerKeysSchema(BodySchema):
    jwks = fields.Dict(allow_none=True)
    jwks_url = fields.String(allow_none=True, validate=[validate.Length(max=500), _URL])
    api_base_url = fields.String(allow_none=True, validate=[validate.Length(max=500), _URL])
    refresh = fields.Boolean(load_default=True, metadata={"description": "有 jwks_url 时立即拉取一次公钥集"})

    @validates_schema
    def _at_least_one(self, data, **kwargs):
        if not {"jwks", "jwks_url", "api_base_url"} & set(data):
            raise ValidationError("请至少提供 jwks、jwks_url 或 api_base_url 之一。", "jwks")


class PartnerSchema(Schema):
    city_code = fields.String()
    city_name = fields.String()
    score_name = fields.String()
    status = fields.String(metadata={"description": "active 互认中；suspended 暂停"})
    credential_format = fields.String(metadata={"description": "sd-jwt-vc 或 jws（旧格式）"})
    scale = fields.Method("_scale", metadata={"description": "本地信用分的分值范围 {min, max}；未公开时为 null"})
    cutoffs = fields.Method("_cutoffs")
    scale_confirmed = fields.Boolean()
    scale_note = fields.String()
    jwks_url = fields.String(allow_none=True)
    api_base_url = fields.String(allow_none=True)
    key_ids = fields.List(fields.String(), metadata={"description": "已知的对方公钥 kid"})
    jwks_fetched_at = CityDateTime(allow_none=True)
    revocations_cursor_set = fields.Function(lambda p: p.revocations_cursor is not None)
    receipts_pending = fields.Integer(metadata={"description": "尚未送达对方的核销凭证数"})
    attestations_outstanding = fields.Integer(metadata={"description": "本市居民持有的、出具给该城市的有效证明数"})
    created_at = CityDateTime()
    updated_at = CityDateTime()

    def _scale(self, partner):
        if partner.scale_min is None or partner.scale_max is None:
            return None
        return {"min": partner.scale_min, "max": partner.scale_max}

    def _cutoffs(self, partner):
        from app.partners.service import scale_of

        scale = scale_of(partner)
        return scale.as_list() if scale else None


class PartnerListQuerySchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(PARTNER_STATUSES))


# -- reconciliation (staff) ---------------------------------------------------------------------------------

class ReconcileRequestSchema(BodySchema):
    partner = fields.String(load_default=None, validate=_CITY_CODE, metadata={"description": "只对账这个城市"})
    date = fields.Date(load_default=None, metadata={"description": "对账日期（北京时间），默认昨天"})


class ReportQuerySchema(Schema):
    partner = fields.String(load_default=None, validate=_CITY_CODE)
    date = fields.Date(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(REPORT_STATUSES))


class ReportRowSchema(Schema):
    scene = fields.String()
    scene_name = fields.String()
    theirs = fields.Integer(metadata={"description": "对方统计的本市居民在当地的核销次数"})
    ours = fields.Integer(metadata={"description": "本市收到的核销凭证数"})
    status = fields.String(metadata={"description": "matched 一致；mismatched 不一致"})


class ReportErrorSchema(Schema):
    step = fields.String(metadata={"description": "jwks、revocations、receipts、settlements"})
    code = fields.String()
    message = fields.String()
    status = fields.Integer(allow_none=True)


class ReportSchema(Schema):
    report_id = fields.String(attribute="ref")
    partner = fields.Function(lambda r: r.partner.city_code)
    partner_name = fields.Function(lambda r: r.partner.city_name)
    date = fields.Date(attribute="city_day")
    status = fields.String(metadata={"description": "matched 一致；mismatched 有差异；retry 对方不可用，待重试"})
    rows = fields.List(fields.Nested(ReportRowSchema))
    errors = fields.List(fields.Nested(ReportErrorSchema))
    theirs_total = fields.Integer(allow_none=True)
    ours_total = fields.Integer(allow_none=True)
    revocations_pulled = fields.Integer()
    receipts_sent = fields.Integer()
    runs = fields.Integer(metadata={"description": "本日已对账次数（重跑会替换报告）"})
    started_at = CityDateTime()
    finished_at = CityDateTime()


# -- the partner API ----------------------------------------------------------------------------------------

class RevocationQuerySchema(Schema):
    since = fields.String(load_default=None, validate=validate.Length(max=200),
                          metadata={"description": "上次应答中的 cursor；首次拉取不带、留空或为 0"})
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=1000))


class RevocationItemSchema(Schema):
    jti = fields.String()
    sub = fields.String(metadata={"description": "该证明中的成对化名"})
    revoked_at = CityDateTime()
    reason = fields.String()
    exp = fields.Integer(metadata={"description": "证明原定的到期时间（Unix 秒）"})


class RevocationFeedSchema(Schema):
    items = fields.List(fields.Nested(RevocationItemSchema))
    cursor = fields.String(metadata={"description": "下次拉取时作为 since 传回"})
    has_more = fields.Boolean()


class SettlementQuerySchema(Schema):
    date = fields.Date(required=True, metadata={"description": "日期（北京时间）"})


class SettlementSceneSchema(Schema):
    scene = fields.String()
    scene_name = fields.String()
    count = fields.Integer()


class SettlementSchema(Schema):
    date = fields.Date()
    city_code = fields.String(metadata={"description": "本市（核销发生地）"})
    partner = fields.String(metadata={"description": "调用方城市（持证人所在城市）"})
    scenes = fields.List(fields.Nested(SettlementSceneSchema))
    total = fields.Integer()


class ReceiptInSchema(BodySchema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=64), metadata={"description": "对方核销编号"})
    kind = fields.String(required=True, validate=validate.OneOf(["attestation", "credit_code"]))
    jti = fields.String(required=True, validate=_TOKEN_ID)
    sub = fields.String(required=True, validate=validate.Length(min=1, max=64))
    scene = fields.String(required=True, validate=validate.Length(min=1, max=32))
    scene_name = fields.String(load_default="", validate=validate.Length(max=32))
    merchant_name = fields.String(load_default="", validate=validate.Length(max=100))
    offer_title = fields.String(load_default="", validate=validate.Length(max=100))
    day = fields.Date(required=True)
    redeemed_at = fields.AwareDateTime(required=True)
    status = fields.String(required=True, validate=validate.OneOf(RECEIPT_STATUSES))


class ReceiptsInSchema(BodySchema):
    receipts = fields.List(fields.Nested(ReceiptInSchema), required=True, validate=validate.Length(max=500))


class ReceiptRejectionSchema(Schema):
    id = fields.String()
    code = fields.String(metadata={"description": "unknown_attestation、subject_mismatch、unknown_subject"})


class ReceiptsAnswerSchema(Schema):
    accepted = fields.Integer()
    rejected = fields.List(fields.Nested(ReceiptRejectionSchema))


class PartnerInfoSchema(Schema):
    city_code = fields.String()
    city_name = fields.String()
    score_name = fields.String()
    scale = fields.Dict()
    cutoffs = fields.List(fields.Nested(CutoffViewSchema))
    restricted_name = fields.String()
    jwks_url = fields.String()
    api_base_url = fields.String()
    protocol = fields.String()
    credential_formats = fields.List(fields.String(), metadata={"description": "本市接受的互认证明格式"})
    legacy_jws_until = fields.String(metadata={"description": "旧 JWS 格式接受到这一天（含）"})


# -- the citizen (mini-program) -------------------------------------------------------------------------------

class AttestationRequestSchema(BodySchema):
    partner = fields.String(required=True, validate=_CITY_CODE, metadata={"description": "合作城市的行政区划代码"})
    disclose = fields.List(fields.String(validate=validate.OneOf(("score", "name"), error="只能选择 score 或 name。")),
                           load_default=list, validate=validate.Length(max=2), metadata={
                               "description": "SD-JWT VC 格式时，除信用等级外还向该城市出示哪些信息：score 分值"
                                              "（需分值共享授权）、name 姓名；不填则只出示信用等级"})


class AttestationPartnerSchema(Schema):
    city_code = fields.String()
    city_name = fields.String()
    score_name = fields.String()


class AttestationIssuedSchema(Schema):
    attestation = fields.String(metadata={"description": "互认证明：SD-JWT VC（Ed25519）或 JWS 紧凑格式（EdDSA）"})
    credential_format = fields.String(metadata={"description": "sd-jwt-vc 或 jws"})
    jti = fields.String()
    partner = fields.Nested(AttestationPartnerSchema)
    level = fields.Integer()
    level_name = fields.String()
    score_included = fields.Boolean(metadata={"description": "是否包含分值（需分值共享授权）"})
    name_included = fields.Boolean(metadata={"description": "是否出示姓名（仅 SD-JWT VC，本人选择）"})
    issued_at = CityDateTime()
    expires_at = CityDateTime()
    qr_png = fields.String(metadata={"description": "二维码 PNG 图片（base64）"})


class AttestationViewSchema(Schema):
    jti = fields.String()
    partner = fields.Nested(AttestationPartnerSchema)
    credential_format = fields.String()
    level = fields.Integer()
    score_included = fields.Boolean()
    name_included = fields.Boolean()
    issued_at = CityDateTime()
    expires_at = CityDateTime()
    state = fields.String(metadata={"description": "valid 有效；expired 已过期；revoked 已撤销"})
    revoked_at = CityDateTime(allow_none=True)
    revoke_reason = fields.String(allow_none=True)
