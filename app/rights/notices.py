"""三书同达 (seed 004): when an adverse record lands, the citizen's message centre tells them at once what it is,
what it costs, how to object and by when, and from when and how it can be repaired."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.records.models import Department, Record
from app.rights import messages
from app.scoring import service as scoring
from app.signals import records_landed

DIMENSION_NAMES = {"public": "公共信用", "law": "遵纪守法", "commitment": "履约践诺", "honour": "荣誉慈善"}


def notice_for(record: Record, department_name: str) -> dict | None:
    record_type = scoring.rules().catalog.get(record.type_code)
    if record_type is None or not record_type.is_adverse or record.status != "active":
        return None
    until = record.occurred_at + timedelta(days=record_type.validity_days)
    if record.expires_at is not None and record.expires_at < until:
        until = record.expires_at
    effect = f"“{DIMENSION_NAMES.get(record_type.dimension, record_type.dimension)}”维度扣 {record_type.points} 分"
    if record_type.forces_l0:
        effect += "，且信用等级列为“受限”，期间不能享受信易+守信激励"
    lines = [
        f"【信用信息告知书】{department_name}于 {record.occurred_at.isoformat()} 报送了您的“{record_type.name}”记录"
        + (f"（{record.summary}）" if record.summary else "") + "。",
        f"【影响】该记录在 {until.isoformat()} 前计入您的信用分：{effect}。",
        "【异议】如认为记录有误，可在该记录有效期内通过小程序“我的信用—信用异议”提出异议并上传证明材料，"
        "处理期间该记录暂停计分，我们将在 5 个工作日内答复。",
    ]
    if record_type.repairable:
        opens = record.occurred_at + timedelta(days=record_type.min_display_days)
        lines.append(f"【信用修复告知书】履行法定义务（如缴清罚款）后，自 {opens.isoformat()} 起可通过小程序“信用修复”"
                     "申请修复，提交履行证明并签署信用修复承诺书，我们将在 3 个工作日内办结。")
    else:
        lines.append("【信用修复】按照公共信用信息目录，该类记录不可申请信用修复，有效期届满后不再计分。")
    return {"citizen_id": record.citizen_id, "kind": "record_notice", "title": f"信用信息告知：{record_type.name}",
            "body": "\n".join(lines), "link": f"/pages/records/detail?ref={record.ref}", "related_ref": record.ref}


def _on_records_landed(sender, record_ids: list[int], **_) -> None:
    rows = []
    names: dict[int, str] = {}
    for start in range(0, len(record_ids), 900):
        for record in db.session.scalars(select(Record).where(Record.id.in_(record_ids[start:start + 900]))):
            if record.department_id not in names:
                names[record.department_id] = db.session.get(Department, record.department_id).name
            notice = notice_for(record, names[record.department_id])
            if notice:
                rows.append(notice)
    messages.post_messages(rows)


records_landed.connect(_on_records_landed)
