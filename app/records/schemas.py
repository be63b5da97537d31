from marshmallow import Schema, fields, validate

from app.openapi import MAY_BE_ABSENT
from app.records.models import RECORD_STATUSES
from app.schema_base import BodySchema, CityDateTime


class RecordRowSchema(BodySchema):
    """One row as a department sends it (documentation: rows are validated one by one by the service, so a
    bad row is reported with its index instead of failing the whole batch)."""

    external_id = fields.String(required=True, metadata={"description": "部门内唯一的记录编号（幂等键）"})
    id_number = fields.String(required=True, metadata={"description": "当事人身份证号码"})
    type_code = fields.String(required=True, metadata={"description": "信用信息目录中的类型代码"})
    occurred_at = fields.String(required=True, metadata={"description": "发生日期 YYYY-MM-DD"})
    expires_at = fields.String(metadata={"description": "失效日期 YYYY-MM-DD；不填则按目录的有效期"})
    status = fields.String(metadata={"description": "active（默认）或 revoked"})
    incident_id = fields.String(metadata={"description": "同一事件的多条记录共用一个事件编号，只按最重的一条计分"})
    grade = fields.String(metadata={"description": "公共信用评价等级（仅 PC_EVAL）"})
    quantity = fields.Integer(metadata={"description": "数量，如志愿服务小时数"})
    summary = fields.String(metadata={"description": "记录摘要"})


class BatchRequestSchema(BodySchema):
    records = fields.List(fields.Raw(metadata={"type": "object"}), required=True,
                          metadata={"description": "最多 5000 行，每行见 RecordRow"})


class RejectedRowSchema(Schema):
    index = fields.Integer()
    external_id = fields.String(allow_none=True)
    code = fields.String(metadata={"description": "malformed / invalid_id_number / unknown_citizen / unknown_type / "
                                                  "type_not_owned / impossible_date / duplicate_in_batch"})
    field = fields.String(metadata={MAY_BE_ABSENT: True})
    message = fields.String()


class HeldRowSchema(Schema):
    index = fields.Integer()
    external_id = fields.String()
    code = fields.String(metadata={"description": "pending_citizen：当事人尚未登记，记录已暂存"})
    message = fields.String()


class BatchResultSchema(Schema):
    accepted = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    rejected = fields.List(fields.Nested(RejectedRowSchema))
    recompute = fields.String(metadata={"description": "done：已重新计分；queued：已标记，等待批量重算"})
    held = fields.List(fields.Nested(HeldRowSchema),
                       metadata={"description": "当事人尚未在人口库登记的行：已暂存，居民登记后自动归入"})


class SingleRecordResultSchema(BatchResultSchema):
    ref = fields.String(allow_none=True)


class StatusChangeSchema(BodySchema):
    status = fields.String(required=True, validate=validate.OneOf(["active", "revoked", "expired"]))
    reason = fields.String(required=True, validate=validate.Length(min=2, max=200))


class RecordSchema(Schema):
    ref = fields.String()
    type_code = fields.String()
    status = fields.String(validate=validate.OneOf(RECORD_STATUSES))
    occurred_at = fields.Date()
    expires_at = fields.Date(allow_none=True)
    incident_id = fields.String(allow_none=True)
    summary = fields.String(allow_none=True)
    updated_at = CityDateTime()


class CatalogEntrySchema(Schema):
    code = fields.String()
    name = fields.String()
    dimension = fields.String()
    record_class = fields.String(data_key="class")
    points = fields.Integer()
    severity = fields.Integer()
    validity_days = fields.Integer()
    repairable = fields.Boolean()
    min_display_days = fields.Integer()
    legal_basis = fields.String()
    forces_l0 = fields.Boolean()
