"""/api/v1/community: the public scheme list and 红榜, and city staff's side (schemes, rulebook approval, figures).

The desk work of a scheme (enter, review, 公示, counter, year-end run) is in the console (app/console/community.py);
the citizen's side is miniprogram_api/points_api.py.
"""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from app.auth.guards import staff_required
from app.community import service, stats
from app.community.schemas import (
    DecisionSchema,
    FiguresSchema,
    HonourBoardSchema,
    RulebookCreateSchema,
    RulebookQuerySchema,
    RulebookSchema,
    SchemeCreateSchema,
    SchemeSchema,
    YearQuerySchema,
)
from app.extensions import db

blp = Blueprint("community", __name__, url_prefix="/api/v1/community",
                description="社区版、乡村版信用积分：积分制度、细则审批、红榜与统计")
STAFF_AUTH = [{"staffToken": []}]


@blp.route("/schemes")
@blp.response(200, SchemeSchema(many=True))
@blp.doc(summary="全市各村（社区）的积分制度")
def schemes():
    return [service.scheme_view(scheme) for scheme in service.list_schemes()]


@blp.route("/schemes/<ref:ref>/honour-board")
@blp.arguments(YearQuerySchema, location="query")
@blp.response(200, HonourBoardSchema)
@blp.doc(summary="红榜：本人同意公开的积分靠前的户和个人（姓名遮蔽）；不设黑榜")
def honour_board(query, ref):
    return stats.honour_board(service.get_scheme(ref), query["year"])


@blp.route("/schemes", methods=["POST"])
@staff_required()
@blp.arguments(SchemeCreateSchema)
@blp.response(201, SchemeSchema)
@blp.doc(summary="为一个村（社区）建立积分制度", security=STAFF_AUTH)
def create_scheme(body):
    scheme = service.create_scheme(body["division_code"], body["name"], body["publicity_days"])
    db.session.commit()
    return service.scheme_view(scheme)


@blp.route("/schemes/<ref:ref>/rulebooks", methods=["POST"])
@staff_required()
@blp.arguments(RulebookCreateSchema)
@blp.response(201, RulebookSchema)
@blp.doc(summary="登记村民会议 / 居民会议通过的积分细则新版本（待审批）", security=STAFF_AUTH)
def propose_rulebook(body, ref):
    rulebook = service.propose_rulebook(service.get_scheme(ref), body["adopted_on"], body["adopted_by"],
                                        body["items"])
    db.session.commit()
    return service.rulebook_view(rulebook)


@blp.route("/rulebooks")
@staff_required()
@blp.arguments(RulebookQuerySchema, location="query")
@blp.response(200, RulebookSchema(many=True))
@blp.doc(summary="积分细则（默认：待审批的）", security=STAFF_AUTH)
def rulebooks(query):
    return [service.rulebook_view(rulebook) for rulebook in service.rulebooks_in_state(query["state"])]


@blp.route("/rulebooks/<ref:ref>/decision", methods=["POST"])
@staff_required()
@blp.arguments(DecisionSchema)
@blp.response(200, RulebookSchema)
@blp.doc(summary="审批积分细则：通过后生效", security=STAFF_AUTH)
def decide_rulebook(body, ref):
    rulebook = service.decide_rulebook(service.get_rulebook(ref), body["approve"], g.staff.username)
    db.session.commit()
    return service.rulebook_view(rulebook)


@blp.route("/figures")
@staff_required()
@blp.response(200, FiguresSchema)
@blp.doc(summary="各村（社区）积分数据与异常审核员提示", security=STAFF_AUTH)
def figures():
    return {"schemes": stats.scheme_figures(), "flagged_reviewers": stats.reviewer_flags()}
