"""Schemas of commitments, what-if and voluntary reports (citizen, department and staff endpoints)."""

from marshmallow import Schema, fields, validate

from app.rights.commitment_models import COMMITMENT_STATUSES, VOLUNTARY_STATES
from app.rights.whatif import CHANGE_KINDS

_CODE = validate.Length(min=1, max=32)


class BrokenByTypeSchema(Schema):
    code = fields.String()
    name = fields.String()


class CommitmentTypeSchema(Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.String(metadata={"description": "civility 文明承诺 / repair 信用修复型 / notify 告知承诺"})
    self_service = fields.Boolean(metadata={"description": "居民可在小程序中自行作出"})
    period_days = fields.Integer()
    points_kept = fields.Integer()
    points_broken = fields.Integer()
    points_false = fields.Integer()
    broken_by = fields.List(fields.Nested(BrokenByTypeSchema))
    text_version = fields.String(metadata={"description": "格式文本当前版本：作出承诺时须原样提交"})
    text = fields.String(metadata={"description": "承诺书全文（含虚假承诺约束）"})
    legal_basis = fields.String()
    held = fields.Boolean(allow_none=True, metadata={"description": "本人已有一份履约中的该类承诺"})


class CommitmentSchema(Schema):
    ref = fields.String()
    type = fields.String()
    name = fields.String()
    status = fields.String(validate=validate.OneOf(COMMITMENT_STATUSES))
    status_name = fields.String()
    source = fields.String()
    source_name = fields.String()
    subject = fields.String(allow_none=True)
    text_version = fields.String()
    text = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date(metadata={"description": "承诺期最后一天"})
    days_left = fields.Integer(allow_none=True)
    points_if_kept = fields.Integer()
    closed_on = fields.Date(allow_none=True)
    closed_reason = fields.String(allow_none=True)


class CommitmentListSchema(Schema):
    items = fields.List(fields.Nested(CommitmentSchema))


class CommitmentListQuerySchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(COMMITMENT_STATUSES))


class MakeCommitmentSchema(Schema):
    type = fields.String(required=True, validate=_CODE)
    text_version = fields.String(required=True, validate=validate.Length(min=1, max=32))
    accepted = fields.Boolean(required=True, metadata={"description": "已阅读并同意承诺书全文"})


class RegisterCommitmentSchema(Schema):
    id_number = fields.String(required=True, validate=validate.Length(min=15, max=18))
    type = fields.String(required=True, validate=_CODE)
    subject = fields.String(required=True, validate=validate.Length(min=2, max=200),
                            metadata={"description": "承诺事项，如“以告知承诺代替无犯罪记录证明”"})
    text_version = fields.String(validate=validate.Length(min=1, max=32))
    starts_on = fields.Date()


class ReasonSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=2, max=500))


class SettleQuerySchema(Schema):
    date = fields.Date(load_default=None)


class WhatIfChangeSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(CHANGE_KINDS))
    type = fields.String(validate=_CODE, metadata={"description": "make_commitment：承诺类型"})
    commitment = fields.String(validate=validate.Length(min=1, max=32),
                               metadata={"description": "keep_commitment：本人承诺编号"})
    record = fields.String(validate=validate.Length(min=1, max=32),
                           metadata={"description": "repair / expire：本人记录编号"})


class WhatIfRequestSchema(Schema):
    changes = fields.List(fields.Nested(WhatIfChangeSchema), required=True, validate=validate.Length(min=1, max=10))


class ScoreSummarySchema(Schema):
    total = fields.Integer()
    level = fields.Integer()
    level_name = fields.String()
    dimensions = fields.Dict(keys=fields.String(), values=fields.Integer())


class WhatIfChangeResultSchema(Schema):
    kind = fields.String()
    type = fields.String()
    commitment = fields.String()
    record = fields.String()
    name = fields.String()
    effective_on = fields.Date(metadata={"description": "何时生效（承诺期满、修复办结或记录到期）"})
    points = fields.Integer(metadata={"description": "单独这一项对总分的影响"})


class WhatIfSchema(Schema):
    as_of = fields.Date()
    before = fields.Nested(ScoreSummarySchema)
    after = fields.Nested(ScoreSummarySchema)
    delta = fields.Integer()
    dimension_deltas = fields.Dict(keys=fields.String(), values=fields.Integer())
    effective_on = fields.Date(allow_none=True)
    changes = fields.List(fields.Nested(WhatIfChangeResultSchema))
    note = fields.String()


class VoluntaryTypeSchema(Schema):
    code = fields.String()
    name = fields.String()
    points = fields.Integer()
    unit = fields.String(allow_none=True)
    unit_size = fields.Integer()
    validity_days = fields.Integer()


class VoluntaryTypesSchema(Schema):
    types = fields.List(fields.Nested(VoluntaryTypeSchema))
    commitment_version = fields.String()
    commitment_text = fields.String()
    verify_working_days = fields.Integer()


class VoluntaryReportRequestSchema(Schema):
    type = fields.String(required=True, validate=_CODE)
    occurred_at = fields.Date(required=True)
    quantity = fields.Integer(validate=validate.Range(min=1, max=100_000), metadata={"description": "如志愿服务小时数"})
    issuer = fields.String(required=True, validate=validate.Length(min=2, max=100),
                           metadata={"description": "出具证明的单位，如“绍兴市中心血站”"})
    certificate_no = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "证书或凭证编号"})
    description = fields.String(validate=validate.Length(max=500))
    commitment_version = fields.String(required=True, validate=validate.Length(min=1, max=32))
    commitment_accepted = fields.Boolean(required=True)
    evidence_ids = fields.List(fields.String(validate=validate.Length(min=1, max=32)), load_default=list,
                               validate=validate.Length(max=20),
                               metadata={"description": "POST /me/evidence 逐张上传的证明图片（可选）"})


class VoluntaryEvidenceSchema(Schema):
    evidence_id = fields.String()
    content_type = fields.String()
    size = fields.Integer()


class VoluntaryReportSchema(Schema):
    ref = fields.String()
    type = fields.String()
    name = fields.String()
    occurred_at = fields.Date()
    quantity = fields.Integer()
    issuer = fields.String()
    certificate_no = fields.String(allow_none=True)
    description = fields.String()
    state = fields.String(validate=validate.OneOf(VOLUNTARY_STATES))
    state_name = fields.String()
    received_on = fields.Date()
    deadline = fields.Date()
    deadline_provisional = fields.Boolean()
    commitment_version = fields.String()
    decision_reason = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    evidence = fields.List(fields.Nested(VoluntaryEvidenceSchema))


class VoluntaryReportListSchema(Schema):
    items = fields.List(fields.Nested(VoluntaryReportSchema))


class VoluntaryQueueQuerySchema(Schema):
    state = fields.String(load_default="submitted", validate=validate.OneOf(VOLUNTARY_STATES))


class VoluntaryDecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["accepted", "rejected"]))
    reason = fields.String(required=True, validate=validate.Length(min=2, max=500))
