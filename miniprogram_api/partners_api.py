"""信用分互认 for the citizen in the mini-program: an attestation to show in a partner city (/mp/v1/me/attestations)."""

from flask import g
from flask_smorest import Blueprint

from app.partners import attestations
from app.partners.schemas import AttestationIssuedSchema, AttestationRequestSchema, AttestationViewSchema
from benefits import qr
from miniprogram_api.auth import citizen_required

blp = Blueprint("mp_partners", __name__, url_prefix="/mp/v1/me", description="微信小程序：城市信用分互认")

CITIZEN_AUTH = [{"citizenToken": []}]


@blp.route("/attestations", methods=["POST"])
@citizen_required()
@blp.arguments(AttestationRequestSchema)
@blp.response(201, AttestationIssuedSchema)
@blp.doc(summary="向合作城市出具本人信用等级的互认证明（需城市互认共享授权；分值仅在分值共享授权时包含）",
         security=CITIZEN_AUTH)
def issue(body):
    return issue_with_qr(g.citizen, body["partner"])


def issue_with_qr(citizen, partner: str) -> dict:
    """The attestation and its QR to show (shared with /zlb/v1)."""
    issued = attestations.issue(citizen, partner)
    issued["qr_png"], _ = qr.render(issued["attestation"], box_size=4)
    return issued


@blp.route("/attestations")
@citizen_required()
@blp.response(200, AttestationViewSchema(many=True))
@blp.doc(summary="我出具过的互认证明及其状态（有效、已过期、已撤销）", security=CITIZEN_AUTH)
def history():
    return attestations.attestations_of(g.citizen)


@blp.route("/attestations/<jti>/revoke", methods=["POST"])
@citizen_required()
@blp.response(200, AttestationViewSchema)
@blp.doc(summary="撤销本人出具的一份互认证明（合作城市经撤销清单得知）", security=CITIZEN_AUTH)
def revoke(jti):
    return attestations.revoke_own(g.citizen, jti)
