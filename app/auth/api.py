from flask_smorest import Blueprint

from app.auth import service
from app.auth.schemas import TokenRequestSchema, TokenSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="信用中心工作人员登录")


@blp.route("/token", methods=["POST"])
@blp.arguments(TokenRequestSchema)
@blp.response(200, TokenSchema)
@blp.doc(summary="用户名和密码换取访问令牌")
def issue_token(body):
    token, ttl = service.issue_staff_token(body["username"], body["password"])
    return {"access_token": token, "token_type": "Bearer", "expires_in": ttl}
