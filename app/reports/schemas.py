"""Request and answer shapes of the personal credit report: the citizen's request, their reports, a verification."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.openapi import MAY_BE_ABSENT
from app.reports.service import PURPOSES, SCOPES, STATUS_NAMES
from app.schema_base import BodySchema, CityDateTime


class CreditReportRequestSchema(BodySchema):
    purpose = fields.String(required=True,
                            validate=validate.OneOf(list(PURPOSES), error="请选择信易贷、求职、租房或其他。"),
                            metadata={"description": "用途：credit_loan 信易贷，job 求职，rental 租房，other 其他"})
    purpose_text = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40),
                                 metadata={"description": "用途为 other 时必填：具体用途（40 字以内）"})
    scope = fields.String(required=True, validate=validate.OneOf(list(SCOPES), error="请选择报告内容范围。"),
                          metadata={"description": "内容范围：level 仅等级，level_score 等级和分值，"
                                                   "full 完整档案（维度、计分记录、承诺、异议中的记录）"})
    valid_days = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=365),
                                metadata={"description": "有效天数，默认 30 天"})


class CreditReportSchema(Schema):
    number = fields.String(metadata={"description": "报告编号（随机，不连续）"})
    purpose = fields.String(metadata={"enum": list(PURPOSES)})
    purpose_text = fields.String(allow_none=True)
    purpose_name = fields.String()
    scope = fields.String(metadata={"enum": list(SCOPES)})
    scope_name = fields.String()
    issued_at = CityDateTime(metadata={"description": "出具时间，即数据截至时间"})
    valid_until = CityDateTime()
    revoked_at = CityDateTime(allow_none=True)
    status = fields.String(metadata={"enum": ["valid", "expired", "revoked"]})
    status_name = fields.String()
    level = fields.Integer()
    level_name = fields.String()
    total = fields.Integer(allow_none=True, metadata={"description": "仅当报告包含分值时"})
    verifications = fields.Integer(metadata={"description": "被核验的次数"})
    verify_url = fields.String(metadata={"description": "核验页面地址（报告上的二维码）"})
    pdf_url = fields.String(metadata={"description": "下载 PDF 的接口地址"})


class VerifyQuerySchema(Schema):
    organisation = fields.String(load_default=None, validate=validate.Length(max=60),
                                 metadata={"description": "核验单位（选填），会告知报告本人"})


class CreditReportShownSchema(Schema):
    masked_name = fields.String()
    masked_id_number = fields.String()
    level = fields.Integer()
    level_name = fields.String()
    total = fields.Integer(metadata={MAY_BE_ABSENT: True, "description": "仅当报告包含分值时"})


class CreditReportVerificationSchema(Schema):
    number = fields.String()
    status = fields.String(metadata={"enum": list(STATUS_NAMES)})
    status_name = fields.String()
    city = fields.String(metadata={MAY_BE_ABSENT: True})
    issued_at = CityDateTime(metadata={MAY_BE_ABSENT: True})
    as_of = CityDateTime(metadata={MAY_BE_ABSENT: True, "description": "报告数据截至时间"})
    valid_until = CityDateTime(metadata={MAY_BE_ABSENT: True})
    revoked_at = CityDateTime(allow_none=True, metadata={MAY_BE_ABSENT: True})
    purpose = fields.String(metadata={MAY_BE_ABSENT: True})
    purpose_name = fields.String(metadata={MAY_BE_ABSENT: True})
    scope = fields.String(metadata={MAY_BE_ABSENT: True})
    scope_name = fields.String(metadata={MAY_BE_ABSENT: True})
    shows = fields.Nested(CreditReportShownSchema, metadata={
        MAY_BE_ABSENT: True, "description": "报告所载内容（仅在报告有效时给出，且不超出报告本身）"})
