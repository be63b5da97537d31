"""Request and answer shapes of the rights endpoints (department, staff and citizen)."""

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.openapi import MAY_BE_ABSENT
from app.schema_base import CityDateTime
from app.storable import contains_unstorable


def _storable(value) -> None:
    if isinstance(value, str) and contains_unstorable(value):
        raise ValidationError("含有无法识别的字符。")


def Text(max_len: int, *, required: bool = False, min_len: int = 0, **kwargs):  # noqa: N802 - a field factory
    return fields.String(required=required, validate=[validate.Length(min=min_len, max=max_len), _storable],
                         **kwargs)


# -- calendar -------------------------------------------------------------------------------------------------

class CalendarQuerySchema(Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))


class HolidaySchema(Schema):
    day = fields.Date()
    is_workday = fields.Boolean(metadata={"description": "true：调休上班日；false：节假日"})
    name = fields.String()
    source = fields.String(metadata={"description": "chinesecalendar 或 staff"})


class CalendarSchema(Schema):
    year = fields.Integer()
    known = fields.Boolean(metadata={"description": "该年节假日安排已完整录入；否则跨入该年的期限为暂定"})
    known_years = fields.List(fields.Integer())
    warning = fields.String(allow_none=True)
    days = fields.List(fields.Nested(HolidaySchema))


class HolidayInSchema(Schema):
    is_workday = fields.Boolean(required=True)
    name = Text(32, required=True, min_len=1)


class DeadlineQuerySchema(Schema):
    start = fields.Date(required=True)
    days = fields.Integer(required=True, validate=validate.Range(min=0, max=250))


class DeadlineSchema(Schema):
    start = fields.Date()
    days = fields.Integer()
    deadline = fields.Date()
    provisional = fields.Boolean()


# -- cases ----------------------------------------------------------------------------------------------------

class EvidenceSchema(Schema):
    ref = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    url = fields.String()


class CaseRecordSchema(Schema):
    ref = fields.String()
    type_code = fields.String()
    type_name = fields.String()
    status = fields.String()
    occurred_at = fields.String()
    summary = fields.String(allow_none=True)


class TimelineEntrySchema(Schema):
    at = fields.String()
    actor_type = fields.String()
    actor = fields.String()
    action = fields.String()
    note = fields.String()


class CaseSchema(Schema):
    ref = fields.String()
    kind = fields.String(metadata={"description": "objection 信用异议 / repair 信用修复"})
    kind_name = fields.String()
    state = fields.String()
    state_name = fields.String()
    open = fields.Boolean()
    record = fields.Nested(CaseRecordSchema)
    department = fields.String()
    citizen_ref = fields.String(metadata={"description": "当事人编号（仅部门与信用中心可见）", MAY_BE_ABSENT: True})
    reason_code = fields.String(allow_none=True)
    reason_name = fields.String(allow_none=True)
    reason_text = fields.String()
    received_at = fields.String()
    deadline = fields.String(metadata={"description": "办理期限（按工作日计算）"})
    deadline_provisional = fields.Boolean(metadata={"description": "期限跨入节假日尚未公布的年份，仅按周末计算"})
    deadline_flag = fields.String(allow_none=True, metadata={"description": "due_soon / overdue"})
    working_days_left = fields.Integer(allow_none=True)
    department_finding = fields.String(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    decided_at = fields.String(allow_none=True)
    commitment_version = fields.String(allow_none=True, metadata={"description": "所签承诺书的版本（仅信用修复）"})
    # The rest is a case's detail: a list of cases leaves it out.
    commitment_text = fields.String(allow_none=True, metadata={"description": "所签承诺书全文（仅案件详情）",
                                                               MAY_BE_ABSENT: True})
    correction = fields.Dict(allow_none=True, metadata={"description": "更正内容（仅案件详情）", MAY_BE_ABSENT: True})
    timeline = fields.List(fields.Nested(TimelineEntrySchema), metadata={"description": "办理经过（仅案件详情）",
                                                                          MAY_BE_ABSENT: True})
    evidence = fields.List(fields.Nested(EvidenceSchema), metadata={"description": "证明材料（仅案件详情）",
                                                                     MAY_BE_ABSENT: True})


class CasePageSchema(Schema):
    items = fields.List(fields.Nested(CaseSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()
    calendar_warning = fields.String(allow_none=True, metadata={
        "description": "下一年节假日尚未录入的提醒（仅信用中心工作人员的案件列表）", MAY_BE_ABSENT: True})


STATES = ("open", "received", "answered", "upheld", "corrected", "dismissed", "withdrawn", "applied", "approved",
          "rejected")


class CaseQuerySchema(Schema):
    kind = fields.String(load_default=None, validate=validate.OneOf(("objection", "repair")))
    state = fields.String(load_default=None, validate=validate.OneOf(STATES))
    due_before = fields.Date(load_default=None, metadata={"description": "只列出期限不晚于该日的案件"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class DepartmentCaseQuerySchema(Schema):
    state = fields.String(load_default=None, validate=validate.OneOf(("open", "received", "answered", "upheld",
                                                                       "corrected", "dismissed", "withdrawn")))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class AnswerSchema(Schema):
    finding = Text(2000, required=True, min_len=1, metadata={"description": "部门核查意见"})


class CorrectionSchema(Schema):
    summary = Text(500)
    occurred_at = fields.Date()
    expires_at = fields.Date(allow_none=True)
    grade = fields.String(allow_none=True, validate=validate.Length(max=8))
    quantity = fields.Integer(validate=validate.Range(min=1, max=100_000))


class ObjectionDecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(("upheld", "corrected", "dismissed")),
                             metadata={"description": "upheld 异议成立（撤销记录）/ corrected 更正 / dismissed 不成立"})
    reason = Text(2000, required=True, min_len=2, metadata={"description": "书面理由（居民可见）"})
    correction = fields.Nested(CorrectionSchema, load_default=None)

    @validates_schema
    def _correction_given(self, data, **kwargs):
        if data.get("decision") == "corrected" and not data.get("correction"):
            raise ValidationError("更正记录时须写明更正后的字段。", "correction")


class RepairDecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(("approved", "rejected")),
                             metadata={"description": "approved 准予修复 / rejected 不予修复"})
    reason = Text(2000, required=True, min_len=2, metadata={"description": "书面理由（居民可见）"})


class AlertSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "due_soon / overdue / calendar_missing"})
    subject = fields.String()
    message = fields.String()
    created_at = CityDateTime()


class StatsQuerySchema(Schema):
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)


class StatsFiguresSchema(Schema):
    received = fields.Integer()
    decided = fields.Integer()
    decided_on_time = fields.Integer()
    on_time_pct = fields.Float(allow_none=True)
    avg_working_days = fields.Float(allow_none=True)
    upheld = fields.Integer()
    upheld_rate_pct = fields.Float(allow_none=True)
    upheld_per_100k_records = fields.Float(allow_none=True, metadata={
        "description": "每十万条记录中被纠正的条数（仅信用异议）", MAY_BE_ABSENT: True})


class StatsMonthSchema(StatsFiguresSchema):
    month = fields.String()


class StatsKindSchema(Schema):
    kind = fields.String()
    months = fields.List(fields.Nested(StatsMonthSchema))
    total = fields.Nested(StatsFiguresSchema)


class StatsSchema(Schema):
    from_ = fields.String(attribute="from", data_key="from")
    to = fields.String()
    records_total = fields.Integer()
    kinds = fields.List(fields.Nested(StatsKindSchema))


# -- citizen (mini-program) -----------------------------------------------------------------------------------

def _evidence_field():
    return fields.List(Upload(), load_default=list, metadata={"description": "证明材料图片（JPG/PNG），可多张"})


def _evidence_ids_field():
    return fields.List(fields.String(validate=validate.Length(min=1, max=32)), load_default=list,
                       validate=validate.Length(max=20),
                       metadata={"description": "POST /me/evidence 逐张上传图片得到的 evidence_id"
                                                "（本人上传、未过期、未使用）"})


class ObjectionJsonSchema(Schema):
    record = fields.String(required=True, validate=validate.Length(min=1, max=32),
                           metadata={"description": "记录编号（/me/records 中的 ref）"})
    reason_code = fields.String(required=True, validate=validate.OneOf(
        ("not_me", "wrong_facts", "wrong_date", "already_corrected", "expired", "other")),
        metadata={"description": "异议理由：not_me 非本人 / wrong_facts 事实有误 / wrong_date 日期有误 / "
                                 "already_corrected 已撤销或变更 / expired 已过公示期 / other 其他"})
    reason_text = Text(1000, load_default="", metadata={"description": "补充说明"})
    evidence_ids = _evidence_ids_field()


class ObjectionFormSchema(ObjectionJsonSchema):
    evidence = _evidence_field()


class RepairJsonSchema(Schema):
    record = fields.String(required=True, validate=validate.Length(min=1, max=32))
    statement = Text(1000, load_default="", metadata={"description": "履行情况说明（如罚款已于某日缴清）"})
    commitment_version = fields.String(required=True, validate=validate.Length(min=1, max=32),
                                       metadata={"description": "所签署承诺书的版本（见 GET /me/repairs/preview）"})
    commitment_accepted = fields.Boolean(required=True, metadata={"description": "同意并签署信用修复承诺书"})
    evidence_ids = _evidence_ids_field()


class RepairFormSchema(RepairJsonSchema):
    evidence = _evidence_field()


class EvidenceUploadFormSchema(Schema):
    file = Upload(load_default=None, metadata={"description": "一张证明材料图片（JPG/PNG）"})


class EvidenceUploadSchema(Schema):
    evidence_id = fields.String(metadata={"description": "提交异议、修复、自愿注册时在 evidence_ids 中引用"})
    expires_at = CityDateTime(metadata={"description": "此前未引用的图片将被删除"})
    content_type = fields.String()
    size = fields.Integer()


class RepairPreviewQuerySchema(Schema):
    record = fields.String(required=True, validate=validate.Length(min=1, max=32))


class RepairPreviewSchema(Schema):
    record = fields.String()
    can_apply = fields.Boolean()
    refusal = fields.Dict(allow_none=True)
    repairable_from = fields.String(allow_none=True)
    commitment_version = fields.String(allow_none=True)
    commitment_text = fields.String(allow_none=True)


class MyCaseQuerySchema(Schema):
    kind = fields.String(load_default=None, validate=validate.OneOf(("objection", "repair")))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class MessageSchema(Schema):
    ref = fields.String()
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    link = fields.String(allow_none=True)
    related_ref = fields.String(allow_none=True)
    created_at = fields.String()
    read = fields.Boolean()


class MessagePageSchema(Schema):
    items = fields.List(fields.Nested(MessageSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    unread = fields.Integer()


class MessageQuerySchema(Schema):
    unread_only = fields.Boolean(load_default=False)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class MarkReadSchema(Schema):
    refs = fields.List(fields.String(validate=validate.Length(min=1, max=32)), load_default=None,
                       validate=validate.Length(max=200), metadata={"description": "不传则全部标为已读"})


class MarkReadResultSchema(Schema):
    marked = fields.Integer()
    unread = fields.Integer()


class UnreadSchema(Schema):
    unread = fields.Integer()


class SubscribeSchema(Schema):
    templates = fields.List(fields.String(validate=validate.OneOf(("record_notice", "case_result", "reminder"))),
                            required=True, validate=validate.Length(min=1, max=3),
                            metadata={"description": "wx.requestSubscribeMessage 中用户同意的模板"})


class SubscriptionsSchema(Schema):
    templates = fields.List(fields.String())
