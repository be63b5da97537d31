"""Request and answer shapes of /zlb/v1 that /mp/v1 has no twin of: the sign-on, and the ids that /mp/v1 carries
in its paths, here in the query or the body."""

from marshmallow import Schema, fields, validate

from app.citizens.models import CONSENT_KINDS
from app.schema_base import BodySchema

_REF = validate.Length(min=1, max=32)


class ZlbLoginSchema(BodySchema):
    ticketId = fields.String(required=True, validate=validate.Length(min=1, max=256),  # noqa: N815 - 浙里办's name
                             metadata={"description": "ZWJSBridge.ssoTicket() 返回的 ticketId"})


class ZlbSessionSchema(Schema):
    access_token = fields.String(metadata={"description": "放在 Authorization: Bearer 中（网关不转发 Cookie）"})
    token_type = fields.String()
    expires_in = fields.Integer(metadata={"description": "access_token 的有效秒数；过期后用新的 ticketId 重新登录"})
    bound = fields.Boolean(metadata={"description": "已按省统一身份认证的实名信息关联信用档案"})
    channel = fields.String()


class ZlbRefQuerySchema(Schema):
    ref = fields.String(required=True, validate=_REF, metadata={"description": "编号"})


class ZlbRefBodySchema(BodySchema):
    ref = fields.String(required=True, validate=_REF, metadata={"description": "编号"})


class ZlbConsentChangeSchema(BodySchema):
    kind = fields.String(required=True, validate=validate.OneOf(CONSENT_KINDS),
                         metadata={"description": "scoring 信用评分 / partner_sharing 城市互认共享 / "
                                                  "raw_score_sharing 分值共享"})


class ZlbJtiSchema(BodySchema):
    jti = fields.String(required=True, validate=validate.Length(min=1, max=64), metadata={"description": "证明编号"})
