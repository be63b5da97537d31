from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from app.community.models import CAP_PERIODS
from app.community.service import CATEGORIES
from app.openapi import MAY_BE_ABSENT
from app.schema_base import BodySchema, CityDateTime


class SchemeSchema(Schema):
    ref = fields.String()
    name = fields.String()
    kind = fields.String(metadata={"description": "村 或 社区"})
    division_code = fields.String()
    county = fields.String()
    town = fields.String()
    publicity_days = fields.Integer()


class SchemeCreateSchema(BodySchema):
    division_code = fields.String(required=True, validate=validate.Regexp(r"^\d{12}$"))
    name = fields.String(load_default=None, validate=validate.Length(min=2, max=64))
    publicity_days = fields.Integer(load_default=5, validate=validate.Range(min=1, max=30))


class RuleItemInSchema(BodySchema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,32}$"))
    name = fields.String(required=True, validate=validate.Length(min=2, max=100))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    points = fields.Integer(required=True, validate=validate.Range(min=-1000, max=1000))
    unit = fields.String(load_default="次", validate=validate.Length(min=1, max=8))
    cap_points = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=100000))
    cap_period = fields.String(load_default="month", validate=validate.OneOf(CAP_PERIODS))
    evidence_required = fields.Boolean(load_default=False)


class RuleItemSchema(Schema):
    ref = fields.String()
    code = fields.String()
    name = fields.String()
    category = fields.String()
    points = fields.Integer(metadata={"description": "每单位分值；负数为扣分项"})
    unit = fields.String()
    cap_points = fields.Integer(allow_none=True)
    cap_period = fields.String()
    evidence_required = fields.Boolean()


class RulebookCreateSchema(BodySchema):
    adopted_on = fields.Date(required=True)
    adopted_by = fields.String(required=True, validate=validate.Length(min=2, max=64),
                               metadata={"description": "通过细则的会议：村民会议、村民代表会议、居民会议"})
    items = fields.List(fields.Nested(RuleItemInSchema), required=True, validate=validate.Length(min=1, max=200))


class RulebookSchema(Schema):
    ref = fields.String()
    scheme = fields.String()
    version = fields.Integer()
    adopted_on = fields.Date()
    adopted_by = fields.String()
    state = fields.String()
    items = fields.List(fields.Nested(RuleItemSchema))


class RulebookQuerySchema(Schema):
    state = fields.String(load_default="pending", validate=validate.OneOf(("pending", "approved", "rejected")))


class DecisionSchema(BodySchema):
    approve = fields.Boolean(required=True)


class FlagSchema(Schema):
    scheme = fields.String()
    reviewer = fields.String()
    username = fields.String()
    approvals = fields.Integer()
    reasons = fields.List(fields.String())


class SchemeFiguresSchema(Schema):
    ref = fields.String()
    name = fields.String()
    kind = fields.String()
    county = fields.String()
    members = fields.Integer()
    declared = fields.Integer()
    publicised = fields.Integer()
    posted = fields.Integer()
    rejected = fields.Integer()
    redemptions = fields.Integer()
    flagged_reviewers = fields.Integer()


class FiguresSchema(Schema):
    schemes = fields.List(fields.Nested(SchemeFiguresSchema))
    flagged_reviewers = fields.List(fields.Nested(FlagSchema))


class BoardRowSchema(Schema):
    rank = fields.Integer()
    name = fields.String(metadata={"description": "姓名已遮蔽，如 王*明"})
    points = fields.Integer()


class HonourBoardSchema(Schema):
    scheme = fields.String()
    year = fields.Integer()
    people = fields.List(fields.Nested(BoardRowSchema))
    households = fields.List(fields.Nested(BoardRowSchema))


class YearQuerySchema(Schema):
    year = fields.Integer(load_default=None, validate=validate.Range(min=2000, max=2100))


# -- the citizen's side ------------------------------------------------------------------------------------------

class EntrySchema(Schema):
    ref = fields.String()
    kind = fields.String(metadata={"description": "earn 得分 / deduct 扣分 / spend 兑换"})
    item = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    points = fields.Integer()
    quantity = fields.Integer()
    occurred_on = fields.Date()
    state = fields.String()
    state_name = fields.String()
    note = fields.String()
    publicity_ends_at = CityDateTime(allow_none=True)
    posted_at = CityDateTime(allow_none=True)
    name = fields.String(metadata={MAY_BE_ABSENT: True, "description": "公示名单上的姓名（已遮蔽）"})


class EntryPageSchema(Schema):
    items = fields.List(fields.Nested(EntrySchema))
    total = fields.Integer()


class PageQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10000))


class HouseholdMemberSchema(Schema):
    ref = fields.String()
    name = fields.String()
    is_head = fields.Boolean()
    balance = fields.Integer()


class HouseholdSchema(Schema):
    ref = fields.String()
    name = fields.String()
    grid = fields.String()
    balance = fields.Integer()
    show_on_honour_board = fields.Boolean()
    members = fields.List(fields.Nested(HouseholdMemberSchema))


class MyPointsSchema(Schema):
    scheme = fields.Nested(SchemeSchema)
    member = fields.String()
    balance = fields.Integer()
    show_on_honour_board = fields.Boolean()
    household = fields.Nested(HouseholdSchema)


class DeclarationFormSchema(Schema):
    item = fields.String(required=True, validate=validate.Length(min=1, max=32),
                         metadata={"description": "积分项目编号（/me/points/items 中的 ref）"})
    quantity = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100))
    occurred_on = fields.Date(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=200))
    idempotency_key = fields.String(load_default=None, validate=validate.Regexp(r"^[A-Za-z0-9_-]{8,64}$"))
    photos = fields.List(Upload(), load_default=list, metadata={"description": "照片（JPG/PNG），可多张"})


class CatalogItemSchema(Schema):
    ref = fields.String()
    name = fields.String()
    kind = fields.String(metadata={"description": "goods 商品 / service 服务"})
    price = fields.Integer()
    stock = fields.Integer(allow_none=True, metadata={"description": "库存；服务类为空"})


class RedeemCodeInSchema(BodySchema):
    item = fields.String(required=True, validate=validate.Length(min=1, max=32))


class RedeemCodeSchema(Schema):
    code = fields.String(metadata={"description": "在积分超市柜台出示（二维码或数字）"})
    item = fields.String()
    price = fields.Integer()
    expires_at = CityDateTime()


class ObjectionInSchema(BodySchema):
    reason = fields.String(required=True, validate=validate.Length(min=2, max=500))


class ObjectionSchema(Schema):
    ref = fields.String()
    entry = fields.String()
    state = fields.String()


class HonourBoardChoiceSchema(BodySchema):
    show = fields.Boolean(required=True)
    household = fields.Boolean(load_default=False, metadata={"description": "户主可同时设置本户"})
