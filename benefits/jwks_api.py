"""The city's public signing keys (/.well-known/jwks.json): anyone may verify a credit code offline."""

from flask import jsonify
from flask_smorest import Blueprint

from app.security.jwks_schema import JwksSchema
from app.security.signing import keyring

blp = Blueprint("jwks", __name__, description="公开的验签公钥（JWKS）")


@blp.route("/.well-known/jwks.json")
@blp.response(200, JwksSchema)
@blp.doc(summary="信用码验签公钥（Ed25519，JWK Set，按 kid 选择）")
def jwks():
    response = jsonify(keyring().jwks())
    # Short enough that a rotation reaches scanners soon; a scanner meeting an unknown kid refetches at once.
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
