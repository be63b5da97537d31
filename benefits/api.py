"""Staff management of scenes, merchants and offers (/api/v1/...)."""

from flask_smorest import Blueprint

blp = Blueprint("benefits_admin", __name__, url_prefix="/api/v1", description="信用中心：信易+场景、商户与权益")
