from flask import g
from flask_smorest import Blueprint

from app.auth.guards import department_required, staff_required
from app.records import imports, service
from app.records.catalog import rules
from app.records.schemas import (
    BatchRequestSchema,
    BatchResultSchema,
    CatalogEntrySchema,
    RecordRowSchema,
    RecordSchema,
    SingleRecordResultSchema,
    StatusChangeSchema,
)
from app.request_guard import checks_own_text

blp = Blueprint("records", __name__, url_prefix="/api/v1", description="信用信息目录与部门归集")

DEPARTMENT_AUTH = [{"departmentKey": []}]


@blp.route("/catalog")
@blp.response(200, CatalogEntrySchema(many=True))
@blp.doc(summary="公共信用信息目录（规则版本见 X-Rules-Version）")
def catalog():
    return list(rules().catalog.values()), 200, {"X-Rules-Version": rules().version}


@blp.route("/records/batch", methods=["POST"])
@checks_own_text  # a bad row is reported with the others and the good rows are kept
@department_required
@blp.arguments(BatchRequestSchema)
@blp.response(200, BatchResultSchema)
@blp.doc(summary="批量归集信用记录（幂等：部门 + external_id）", security=DEPARTMENT_AUTH)
def batch(body):
    result = service.ingest(g.department, body["records"])
    imports.record_api_batch(g.department, len(body["records"]), result)  # the department desk's batch history
    return result.as_dict()


@blp.route("/records", methods=["POST"])
@department_required
@blp.arguments(RecordRowSchema)
@blp.response(200, SingleRecordResultSchema)
@blp.doc(summary="报送单条记录；当事人立即重新计分", security=DEPARTMENT_AUTH)
def single(body):
    return service.ingest_one(g.department, body)


@blp.route("/records/<ref:ref>", methods=["PATCH"])
@staff_required()
@blp.arguments(StatusChangeSchema)
@blp.response(200, RecordSchema)
@blp.doc(summary="工作人员更正记录状态（如撤销错误记录）；当事人立即重新计分", security=[{"staffToken": []}])
def change_status(body, ref):
    return service.change_status(ref, body["status"], body["reason"])
