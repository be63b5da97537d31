"""The official account's message callback (/wechat/callback)."""

from flask_smorest import Blueprint

blp = Blueprint("chatbot", __name__, url_prefix="/wechat", description="公众号消息回调")
