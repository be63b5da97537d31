"""The public JSON twin of the verification page: /api/v1/reports/<number>/verification, no login."""

from __future__ import annotations

from flask_smorest import Blueprint

from app.reports import service
from app.reports.schemas import CreditReportVerificationSchema, VerifyQuerySchema

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports", description="个人信用报告：公开核验")


@blp.route("/<string:number>/verification")
@blp.arguments(VerifyQuerySchema, location="query")
@blp.response(200, CreditReportVerificationSchema)
@blp.doc(summary="核验个人信用报告：有效、已过期、已撤销或未找到；仅在有效时给出报告所载内容。每次核验都会告知报告本人",
         security=[])
def verification(query, number):
    return service.verify(number, query["organisation"], via="api").view
