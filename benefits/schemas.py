"""Request and answer shapes of the staff, merchant and mini-program benefits APIs."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.openapi import MAY_BE_ABSENT
from app.schema_base import BodySchema, CityDateTime, PatchSchema
from benefits.geo import LAT_RANGE, LNG_RANGE
from benefits.models import MERCHANT_STATUSES, OFFER_STATUSES, SCENE_PROVIDERS
from benefits.verification import REASONS

_REF = validate.Length(min=1, max=64)
_LEVEL = validate.Range(min=1, max=5)
# Upper bounds keep every number inside the database's 32-bit integer columns, with room to spare.
_POSITIVE = validate.Range(min=1, max=100_000)
_PAGE = validate.Range(min=1, max=100_000)
_SORT_ORDER = validate.Range(min=0, max=100_000)



class PageQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=_PAGE, metadata={"description": "页码，从 1 开始"})
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200),
                              metadata={"description": "每页条数（最多 200）"})


class PeriodQuerySchema(Schema):
    date_from = fields.Date(load_default=None, data_key="from", metadata={"description": "起始日期（含），北京时间"})
    date_to = fields.Date(load_default=None, data_key="to", metadata={"description": "结束日期（含），北京时间"})

    @validates_schema
    def _from_not_after_to(self, data, **kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("起始日期不能晚于结束日期。", "to")


# -- scenes ---------------------------------------------------------------------------------------------

class SceneSchema(Schema):
    code = fields.String(metadata={"description": "场景代码，如 you（信易游）"})
    name = fields.String()
    description = fields.String()
    provider = fields.String(metadata={"description": "government：政府部门提供；alliance：信用惠民联盟商户提供"})
    sort_order = fields.Integer()
    active = fields.Boolean()


class SceneCreateSchema(BodySchema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{1,31}$", error="场景代码为 2–32 位"
                                                                                                "小写字母、数字或下划线，以字母开头。"))
    name = fields.String(required=True, validate=validate.Length(min=2, max=32))
    description = fields.String(load_default="", validate=validate.Length(max=200))
    provider = fields.String(load_default="alliance", validate=validate.OneOf(SCENE_PROVIDERS))
    sort_order = fields.Integer(load_default=None, validate=_SORT_ORDER,
                                metadata={"description": "排序，不填则排在最后"})


class SceneUpdateSchema(PatchSchema):
    name = fields.String(validate=validate.Length(min=2, max=32))
    description = fields.String(validate=validate.Length(max=200))
    provider = fields.String(validate=validate.OneOf(SCENE_PROVIDERS))
    sort_order = fields.Integer(validate=_SORT_ORDER)
    active = fields.Boolean()


class SceneListQuerySchema(Schema):
    include_inactive = fields.Boolean(load_default=False, metadata={"description": "同时列出已停用的场景"})


# -- merchants, branches, terminals -----------------------------------------------------------------------

def _lat(**kwargs):
    return fields.Float(allow_none=True, validate=validate.Range(*LAT_RANGE, error="纬度应在 {min}–{max} 之间。"),
                        metadata={"description": "纬度（GCJ-02，微信 wx.getLocation 与国内地图所用）"}, **kwargs)


def _lng(**kwargs):
    return fields.Float(allow_none=True, validate=validate.Range(*LNG_RANGE, error="经度应在 {min}–{max} 之间。"),
                        metadata={"description": "经度（GCJ-02）"}, **kwargs)


def _both_or_neither(data: dict) -> None:
    if ("lat" in data or "lng" in data) and (data.get("lat") is None) != (data.get("lng") is None):
        missing = "lng" if data.get("lng") is None else "lat"
        raise ValidationError("经纬度须同时填写（或同时留空）。", missing)


class BranchSchema(Schema):
    branch_id = fields.String(attribute="ref")
    name = fields.String()
    address = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True, metadata={"description": "纬度（GCJ-02）"})
    lng = fields.Float(allow_none=True, metadata={"description": "经度（GCJ-02）"})
    active = fields.Boolean()


class BranchCreateSchema(BodySchema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=100))
    address = fields.String(load_default=None, validate=validate.Length(max=200))
    lat = _lat(load_default=None)
    lng = _lng(load_default=None)

    @validates_schema
    def _location(self, data, **kwargs):
        _both_or_neither(data)


class BranchUpdateSchema(PatchSchema):
    name = fields.String(validate=validate.Length(min=2, max=100))
    address = fields.String(allow_none=True, validate=validate.Length(max=200))
    lat = _lat()
    lng = _lng()
    active = fields.Boolean()

    @validates_schema
    def _location(self, data, **kwargs):
        _both_or_neither(data)


class BranchLocationSchema(BodySchema):
    lat = _lat(required=True)
    lng = _lng(required=True)

    @validates_schema
    def _location(self, data, **kwargs):
        _both_or_neither(data)


class MerchantSchema(Schema):
    merchant_id = fields.String(attribute="ref")
    name = fields.String()
    uscc = fields.String(metadata={"description": "统一社会信用代码"})
    status = fields.String(metadata={"description": "active 正常；suspended 已暂停（终端不能核验）"})
    scenes = fields.Pluck(SceneSchema, "code", many=True)
    branches = fields.List(fields.Nested(BranchSchema))
    created_at = CityDateTime()


class MerchantCreateSchema(BodySchema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=100))
    uscc = fields.String(required=True, validate=validate.Length(min=1, max=32),
                         metadata={"description": "统一社会信用代码（18 位，按 GB 32100 校验）"})
    scenes = fields.List(fields.String(), required=True, validate=validate.Length(min=1),
                         metadata={"description": "所属场景代码"})
    status = fields.String(load_default="active", validate=validate.OneOf(MERCHANT_STATUSES))


class MerchantUpdateSchema(PatchSchema):
    name = fields.String(validate=validate.Length(min=2, max=100))
    scenes = fields.List(fields.String(), validate=validate.Length(min=1))
    status = fields.String(validate=validate.OneOf(MERCHANT_STATUSES))


class MerchantListQuerySchema(PageQuerySchema):
    scene = fields.String(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(MERCHANT_STATUSES))
    q = fields.String(load_default=None, validate=validate.Length(max=50), metadata={"description": "按名称查找"})


class MerchantPageSchema(Schema):
    items = fields.List(fields.Nested(MerchantSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    pages = fields.Integer()


class TerminalSchema(Schema):
    terminal_id = fields.String(attribute="ref")
    name = fields.String()
    branch_id = fields.Function(lambda t: t.branch.ref if t.branch else None,
                                metadata={"description": "固定门店；为空则可在商户任一门店使用"})
    created_at = CityDateTime()
    revoked_at = CityDateTime(allow_none=True)


class TerminalIssuedSchema(TerminalSchema):
    key = fields.String(metadata={"description": "终端接口密钥，只显示这一次，请妥善保存"})


class TerminalCreateSchema(BodySchema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=64))
    branch_id = fields.String(load_default=None, validate=_REF, metadata={"description": "把终端固定在一个门店"})


# -- offers -------------------------------------------------------------------------------------------------

class _OfferRules(BodySchema):
    title = fields.String(validate=validate.Length(min=2, max=100), metadata={"description": "如 大禹陵景区门票8折"})
    description = fields.String(validate=validate.Length(max=1000))
    min_level = fields.Integer(validate=_LEVEL, metadata={"description": "最低信用等级 1–5（L3 良好 …）"})
    min_score = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=1000),
                               metadata={"description": "最低信用分（可选，与等级同时满足）"})
    partner_allowed = fields.Boolean(metadata={"description": "互认城市居民是否可享受"})
    partner_min_level = fields.Integer(allow_none=True, validate=_LEVEL,
                                       metadata={"description": "互认城市居民的最低等级（默认同 min_level）"})
    limit_per_day = fields.Integer(allow_none=True, validate=_POSITIVE, metadata={"description": "每人每天次数"})
    limit_per_month = fields.Integer(allow_none=True, validate=_POSITIVE, metadata={"description": "每人每月次数"})
    limit_total = fields.Integer(allow_none=True, validate=_POSITIVE, metadata={"description": "每人累计次数"})
    quota = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=100_000_000),
                           metadata={"description": "总名额"})
    valid_from = fields.Date(allow_none=True, metadata={"description": "开始日期（含）"})
    valid_until = fields.Date(allow_none=True, metadata={"description": "结束日期（含）"})
    status = fields.String(validate=validate.OneOf(OFFER_STATUSES))
    scene = fields.String(validate=validate.Length(min=1, max=32), metadata={"description": "场景代码"})
    branch_ids = fields.List(fields.String(validate=_REF),
                             metadata={"description": "适用门店；为空则适用于商户所有门店"})

    @validates_schema
    def _dates(self, data, **kwargs):
        if data.get("valid_from") and data.get("valid_until") and data["valid_until"] < data["valid_from"]:
            raise ValidationError("结束日期不能早于开始日期。", "valid_until")


class OfferCreateSchema(_OfferRules):
    merchant_id = fields.String(required=True, validate=_REF)
    scene = fields.String(required=True, validate=validate.Length(min=1, max=32))
    title = fields.String(required=True, validate=validate.Length(min=2, max=100))
    description = fields.String(load_default="", validate=validate.Length(max=1000))
    min_level = fields.Integer(load_default=3, validate=_LEVEL, metadata={"description": "最低信用等级 1–5"})
    partner_allowed = fields.Boolean(load_default=False)
    status = fields.String(load_default="active", validate=validate.OneOf(OFFER_STATUSES))


class OfferUpdateSchema(PatchSchema, _OfferRules):
    pass


class OfferSchema(Schema):
    offer_id = fields.String(attribute="ref")
    merchant_id = fields.Function(lambda o: o.merchant.ref)
    merchant_name = fields.Function(lambda o: o.merchant.name)
    scene = fields.Function(lambda o: {"code": o.scene.code, "name": o.scene.name})
    title = fields.String()
    description = fields.String()
    min_level = fields.Integer()
    min_score = fields.Integer(allow_none=True)
    partner_allowed = fields.Boolean()
    partner_min_level = fields.Integer(allow_none=True)
    limit_per_day = fields.Integer(allow_none=True)
    limit_per_month = fields.Integer(allow_none=True)
    limit_total = fields.Integer(allow_none=True)
    quota = fields.Integer(allow_none=True)
    redeemed_count = fields.Integer(metadata={"description": "已核销（不含已撤销）"})
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    status = fields.String()
    state = fields.String(metadata={"description": "active 可用；paused 暂停；not_yet_valid 未开始；ended 已结束"})
    branches = fields.List(fields.Nested(BranchSchema), metadata={"description": "适用门店；为空则适用于所有门店"})
    created_at = CityDateTime()


class OfferListQuerySchema(PageQuerySchema):
    merchant_id = fields.String(load_default=None, validate=_REF)
    scene = fields.String(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(OFFER_STATUSES))


class OfferPageSchema(Schema):
    items = fields.List(fields.Nested(OfferSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    pages = fields.Integer()


# -- ledger -------------------------------------------------------------------------------------------------

class RedemptionSchema(Schema):
    redemption_id = fields.String()
    offer_id = fields.String()
    offer_title = fields.String()
    scene_name = fields.String()
    merchant_name = fields.String()
    branch_name = fields.String()
    redeemed_at = CityDateTime()
    status = fields.String(metadata={"description": "redeemed 已核销；cancelled 已撤销"})
    cancelled_at = CityDateTime(allow_none=True)


class RedemptionPageSchema(Schema):
    items = fields.List(fields.Nested(RedemptionSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    pages = fields.Integer()


class RedemptionQuerySchema(PageQuerySchema, PeriodQuerySchema):
    offer_id = fields.String(load_default=None, validate=_REF)


class StaffRedemptionQuerySchema(RedemptionQuerySchema):
    merchant_id = fields.String(load_default=None, validate=_REF)


class CitizenRedemptionQuerySchema(PageQuerySchema):
    reason = fields.String(required=True, validate=validate.Length(min=2, max=200),
                           metadata={"description": "查询事由，记入留痕"})


class TotalSchema(Schema):
    day = fields.Date()
    offer_id = fields.String()
    offer_title = fields.String()
    merchant_id = fields.String()
    merchant_name = fields.String()
    redeemed = fields.Integer(metadata={"description": "核销次数（不含已撤销）"})
    cancelled = fields.Integer(metadata={"description": "撤销次数"})


class StaffTotalsQuerySchema(PeriodQuerySchema):
    merchant_id = fields.String(load_default=None, validate=_REF)


class AttemptSummarySchema(Schema):
    day = fields.Date()
    reason = fields.String()
    count = fields.Integer()


class StaffTotalsSchema(Schema):
    redemptions = fields.List(fields.Nested(TotalSchema))
    attempts = fields.List(fields.Nested(AttemptSummarySchema), metadata={"description": "核验请求按结果统计"})


class AttemptSchema(Schema):
    at = CityDateTime()
    reason = fields.String()
    eligible = fields.Boolean()
    merchant_id = fields.String()
    merchant_name = fields.String()
    offer_id = fields.String(allow_none=True)
    offer_title = fields.String(allow_none=True)
    branch_name = fields.String(allow_none=True)
    redemption_id = fields.String(allow_none=True)


class AttemptQuerySchema(PageQuerySchema, PeriodQuerySchema):
    merchant_id = fields.String(load_default=None, validate=_REF)
    reason = fields.String(load_default=None, validate=validate.OneOf(list(REASONS)))


class AttemptPageSchema(Schema):
    items = fields.List(fields.Nested(AttemptSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    pages = fields.Integer()


# -- merchant terminal ----------------------------------------------------------------------------------

class VerificationRequestSchema(BodySchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                         metadata={"description": "扫描到的信用码字符串（XYF1. 开头），"
                                                  "或合作城市出具给本市的互认证明（JWS）"})
    offer_id = fields.String(required=True, validate=_REF, metadata={"description": "要核销的权益"})
    branch_id = fields.String(load_default=None, validate=_REF,
                              metadata={"description": "门店；终端已固定门店时可不填"})


class VerificationResultSchema(Schema):
    eligible = fields.Boolean(metadata={"description": "是否符合条件（符合即已核销）"})
    reason = fields.String(metadata={"description": "结果代码：" + "、".join(REASONS)})
    message = fields.String(metadata={"description": "给收银员看的说明"})
    level_name = fields.String(allow_none=True, metadata={"description": "信用等级名称，如 良好"})
    masked_name = fields.String(allow_none=True, metadata={"description": "脱敏姓名，如 张*"})
    redemption_id = fields.String(metadata={"description": "核销编号（仅在核销成功时）", MAY_BE_ABSENT: True})
    partner_city = fields.String(metadata={"description": "互认城市市民的所在城市（仅互认城市的凭证）",
                                           MAY_BE_ABSENT: True})


class MerchantOfferSchema(Schema):
    offer_id = fields.String(attribute="ref")
    title = fields.String()
    scene = fields.Function(lambda o: o.scene.name)
    min_level = fields.Integer()
    state = fields.String()
    branch_ids = fields.Function(lambda o: [b.ref for b in o.branches])


class MerchantHomeSchema(Schema):
    merchant_id = fields.String()
    merchant_name = fields.String()
    terminal_id = fields.String()
    terminal_name = fields.String()
    terminal_branch_id = fields.String(allow_none=True)
    branches = fields.List(fields.Nested(BranchSchema))
    offers = fields.List(fields.Nested(MerchantOfferSchema))


class TerminalRedemptionSchema(RedemptionSchema):
    cancellable_until = CityDateTime(allow_none=True, metadata={"description": "此时间前可撤销；已撤销或已超过"
                                                                            " 30 分钟时为空"})


class TerminalTodaySchema(Schema):
    day = fields.Date(metadata={"description": "今天（北京时间）"})
    items = fields.List(fields.Nested(TerminalRedemptionSchema), metadata={"description": "最新的在前，最多 100 条"})
    total = fields.Integer(metadata={"description": "今天本终端的核销笔数（含已撤销）"})


class MerchantTotalsQuerySchema(PeriodQuerySchema):
    pass


# -- mini-program -------------------------------------------------------------------------------------------

class OffersQuerySchema(Schema):
    scene = fields.String(load_default=None, validate=validate.Length(max=32), metadata={"description": "场景代码"})
    lat = fields.Float(load_default=None, validate=validate.Range(-90, 90),
                       metadata={"description": "所在位置纬度（GCJ-02，wx.getLocation type=gcj02）；与 lng 同时给出时"
                                                "按最近门店的距离排序"})
    lng = fields.Float(load_default=None, validate=validate.Range(-180, 180),
                       metadata={"description": "所在位置经度（GCJ-02）"})

    @validates_schema
    def _location(self, data, **kwargs):
        if (data.get("lat") is None) != (data.get("lng") is None):
            missing = "lng" if data.get("lng") is None else "lat"
            raise ValidationError("经纬度须同时提供。", missing)


class LackSchema(Schema):
    code = fields.String(metadata={"description": "level、score、limit_day、limit_month、limit_total、quota_gone、"
                                                  "not_yet_valid、restricted、no_scoring_consent、score_not_ready"})
    message = fields.String()


class CitizenBranchSchema(Schema):
    branch_id = fields.String()
    name = fields.String()
    address = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lng = fields.Float(allow_none=True)
    distance_m = fields.Integer(allow_none=True, metadata={"description": "距所给位置的直线距离（米）；"
                                                                          "未给位置或门店无坐标时为 null"})


class CitizenOfferSchema(Schema):
    offer_id = fields.String()
    title = fields.String()
    description = fields.String()
    scene = fields.Dict()
    merchant_name = fields.String()
    min_level = fields.Integer()
    min_level_name = fields.String()
    min_score = fields.Integer(allow_none=True)
    limits = fields.Dict(metadata={"description": "per_day / per_month / total；null 为不限"})
    used = fields.Dict(metadata={"description": "today / this_month / total：本人已使用次数"})
    quota_left = fields.Integer(allow_none=True, metadata={"description": "剩余名额；null 为不限"})
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    branches = fields.List(fields.Nested(CitizenBranchSchema), metadata={"description": "给出位置时由近到远"})
    distance_m = fields.Integer(allow_none=True, metadata={"description": "最近门店的距离（米）；"
                                                                          "未给位置或门店无坐标时为 null"})
    nearest_branch = fields.String(allow_none=True, metadata={"description": "最近门店的名称"})
    eligible = fields.Boolean()
    lacks = fields.List(fields.Nested(LackSchema), metadata={"description": "还差什么（可享受时为空）"})


class CitizenOffersSchema(Schema):
    level = fields.Integer(allow_none=True)
    level_name = fields.String(allow_none=True)
    qualified = fields.List(fields.Nested(CitizenOfferSchema), metadata={"description": "现在就能享受的权益"})
    others = fields.List(fields.Nested(CitizenOfferSchema), metadata={"description": "暂不能享受的权益及原因"})


class CreditCodeSchema(Schema):
    code = fields.String(metadata={"description": "信用码字符串（二维码内容）"})
    expires_at = CityDateTime()
    expires_in = fields.Integer(metadata={"description": "有效期（秒）"})
    level = fields.Integer()
    level_name = fields.String()
    qr_png = fields.String(metadata={"description": "二维码 PNG 图片（base64）"})
    qr_svg = fields.String(metadata={"description": "二维码 SVG 图片"})
