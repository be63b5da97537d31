"""Department and staff endpoints of commitments (信用承诺) and voluntary reports (自愿注册)."""

from flask import g
from flask_smorest import Blueprint

from app.auth.guards import department_required, staff_required
from app.rights import commitments, voluntary
from app.rights.commitment_schemas import (
    CommitmentSchema,
    CommitmentTypeSchema,
    ReasonSchema,
    RegisterCommitmentSchema,
    VoluntaryDecisionSchema,
    VoluntaryQueueQuerySchema,
    VoluntaryReportListSchema,
    VoluntaryReportSchema,
)

blp = Blueprint("commitments", __name__, url_prefix="/api/v1", description="信用承诺与自愿注册（部门、信用中心）")

DEPARTMENT_AUTH = [{"departmentKey": []}]
STAFF_AUTH = [{"staffToken": []}]


@blp.route("/commitment-types")
@blp.response(200, CommitmentTypeSchema(many=True))
@blp.doc(summary="信用承诺目录：类型、格式文本（含虚假承诺约束）、期限、违诺情形与分值")
def commitment_types():
    return commitments.catalog_view()


@blp.route("/commitments", methods=["POST"])
@department_required
@blp.arguments(RegisterCommitmentSchema)
@blp.response(201, CommitmentSchema)
@blp.doc(summary="部门登记居民作出的告知承诺（以承诺代替证明）", security=DEPARTMENT_AUTH)
def register(body):
    commitment = commitments.register(g.department, body["id_number"], body["type"], body["subject"],
                                      body.get("text_version"), body.get("starts_on"))
    return commitments.view(commitment)


@blp.route("/commitments/<ref:ref>/false", methods=["POST"])
@department_required
@blp.arguments(ReasonSchema)
@blp.response(200, CommitmentSchema)
@blp.doc(summary="部门认定本部门登记的承诺不实（虚假承诺）；当事人立即重新计分", security=DEPARTMENT_AUTH)
def department_false(body, ref):
    return commitments.view(commitments.report_false(ref, body["reason"], department=g.department))


@blp.route("/staff/commitments/<ref:ref>/false", methods=["POST"])
@staff_required()
@blp.arguments(ReasonSchema)
@blp.response(200, CommitmentSchema)
@blp.doc(summary="信用中心认定承诺不实（虚假承诺）；当事人立即重新计分", security=STAFF_AUTH)
def staff_false(body, ref):
    return commitments.view(commitments.report_false(ref, body["reason"]))


@blp.route("/voluntary-reports")
@staff_required()
@blp.arguments(VoluntaryQueueQuerySchema, location="query")
@blp.response(200, VoluntaryReportListSchema)
@blp.doc(summary="自愿注册核实队列（按办理期限排序）", security=STAFF_AUTH)
def voluntary_queue(query):
    return {"items": voluntary.queue(query["state"])}


@blp.route("/voluntary-reports/<ref:ref>/decision", methods=["POST"])
@staff_required()
@blp.arguments(VoluntaryDecisionSchema)
@blp.response(200, VoluntaryReportSchema)
@blp.doc(summary="核实自愿注册：记入（由信用中心记入信用档案）或不予记入", security=STAFF_AUTH)
def voluntary_decide(body, ref):
    return voluntary.view(voluntary.decide(ref, body["decision"], body["reason"]))


@blp.route("/voluntary-reports/<ref:ref>/untrue", methods=["POST"])
@staff_required()
@blp.arguments(ReasonSchema)
@blp.response(200, VoluntaryReportSchema)
@blp.doc(summary="认定已记入的自愿注册不实：撤销该记录，按承诺书记为虚假承诺；当事人立即重新计分", security=STAFF_AUTH)
def voluntary_untrue(body, ref):
    return voluntary.view(voluntary.find_untrue(ref, body["reason"]))
