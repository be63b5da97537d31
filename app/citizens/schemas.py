from marshmallow import Schema, fields, validate

from app.citizens.models import CONSENT_KINDS
from app.schema_base import BodySchema, CityDateTime


class LookupRequestSchema(BodySchema):
    id_number = fields.String(required=True, validate=validate.Length(min=1, max=32),
                              metadata={"description": "身份证号码（仅在请求体中传递，不出现在网址里）"})
    reason = fields.String(required=True, validate=validate.Length(min=2, max=200),
                           metadata={"description": "查询事由，记入留痕"})


class RegisterCitizenSchema(BodySchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=32))
    id_number = fields.String(required=True, validate=validate.Length(min=1, max=32))
    phone = fields.String(load_default=None, validate=validate.Length(max=20))
    scoring_consent = fields.Boolean(load_default=False, metadata={"description": "居民已书面授权信用评分"})


class ConsentSchema(Schema):
    kind = fields.String(validate=validate.OneOf(CONSENT_KINDS))
    name = fields.String()
    granted = fields.Boolean()
    granted_at = CityDateTime(allow_none=True)
    withdrawn_at = CityDateTime(allow_none=True)


class CitizenSummarySchema(Schema):
    ref = fields.String(metadata={"description": "不透明的档案编号"})
    name = fields.String()
    masked_id_number = fields.String()
    masked_phone = fields.String(allow_none=True)
    birth_year = fields.Integer()
    consents = fields.List(fields.Nested(ConsentSchema))


class ReasonQuerySchema(Schema):
    reason = fields.String(load_default="信用档案查询", validate=validate.Length(min=2, max=200),
                           metadata={"description": "查询事由，记入留痕"})


class DimensionSchema(Schema):
    key = fields.String()
    name = fields.String()
    points = fields.Integer()
    cap = fields.Integer()


class ContributionSchema(Schema):
    ref = fields.String()
    type_code = fields.String()
    name = fields.String()
    dimension = fields.String()
    points = fields.Integer()
    counted = fields.Boolean()
    not_counted_reason = fields.String(allow_none=True)
    counts_until = fields.Date(allow_none=True)


class HintSchema(Schema):
    kind = fields.String()
    message = fields.String()
    ref = fields.String(allow_none=True)
    date = fields.Date(allow_none=True)


class HistoryPointSchema(Schema):
    computed_at = CityDateTime()
    total = fields.Integer()
    public = fields.Integer()
    law = fields.Integer()
    commitment = fields.Integer()
    honour = fields.Integer()
    level = fields.Integer()
    rules_version = fields.String()


class ScoreFileSchema(Schema):
    total = fields.Integer()
    level = fields.Integer()
    level_name = fields.String()
    restricted = fields.Boolean()
    rules_version = fields.String()
    computed_at = CityDateTime()
    dimensions = fields.List(fields.Nested(DimensionSchema))
    contributions = fields.List(fields.Nested(ContributionSchema))
    hints = fields.List(fields.Nested(HintSchema))
    history = fields.List(fields.Nested(HistoryPointSchema))
