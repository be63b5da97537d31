"""信易+ for the citizen in the mini-program: offers, the credit code, their redemptions (/mp/v1/me/...)."""

from flask_smorest import Blueprint

blp = Blueprint("mp_benefits", __name__, url_prefix="/mp/v1/me", description="微信小程序：信易+权益与信用码")
