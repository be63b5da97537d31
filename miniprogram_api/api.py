"""The citizen API that the WeChat mini-program calls (/mp/v1/...)."""

from flask_smorest import Blueprint

blp = Blueprint("miniprogram", __name__, url_prefix="/mp/v1", description="微信小程序：居民本人")
