"""The merchant terminal API (/merchant/v1/...) and the published signing keys (/.well-known/jwks.json)."""

from flask_smorest import Blueprint

blp = Blueprint("merchant", __name__, url_prefix="/merchant/v1", description="商户终端：扫码核验")
