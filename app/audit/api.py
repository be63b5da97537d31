"""The audit trail's signed checkpoint, public: anyone can keep one and later hold the city to it."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.audit import service
from app.errors import ApiError

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="全过程留痕：签名检查点")


class CheckpointSchema(Schema):
    city = fields.String(metadata={"description": "签名城市的行政区划代码"})
    seq = fields.Integer(metadata={"description": "留痕链的序号（含）"})
    head_hash = fields.String(metadata={"description": "该序号处的链头哈希（SHA-256，十六进制）"})
    signed_at = fields.String(metadata={"description": "签名时间（UTC，ISO 8601，与 payload 中一致）"})
    kid = fields.String(metadata={"description": "签名公钥的 kid（见 /.well-known/jwks.json）"})
    signature = fields.String(metadata={"description": "对 payload 的 Ed25519 签名（base64url）"})
    payload = fields.String(metadata={"description": "被签名的规范 JSON 文本"})


@blp.route("/checkpoint")
@blp.response(200, CheckpointSchema)
@blp.doc(summary="最新的留痕链签名检查点（序号 + 链头哈希，以本市 Ed25519 密钥签名），可自行保存以便日后核对")
def checkpoint():
    latest = service.latest_checkpoint()
    if latest is None:
        raise ApiError(404, "no_checkpoint", "留痕链尚无签名检查点。")
    return latest
