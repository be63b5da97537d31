"""The documented shape of a JWK Set of our Ed25519 signing keys (RFC 7517 / RFC 8037), for generated clients."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.openapi import MAY_BE_ABSENT


class JwkSchema(Schema):
    kty = fields.String(metadata={"description": "密钥类型：OKP"})
    crv = fields.String(metadata={"description": "曲线：Ed25519"})
    x = fields.String(metadata={"description": "公钥（base64url）"})
    kid = fields.String(metadata={"description": "密钥编号，签名头中的 kid 据此选择公钥"})
    use = fields.String(metadata={"description": "用途：sig"})
    alg = fields.String(metadata={"description": "签名算法（我们的密钥不写：同一密钥既以 EdDSA 也以 Ed25519 签名）",
                                  MAY_BE_ABSENT: True})
    nbf = fields.Integer(metadata={"description": "密钥有效期起（Unix 秒）：此前的签名不予承认", MAY_BE_ABSENT: True})
    exp = fields.Integer(metadata={"description": "密钥有效期止（Unix 秒）：此后不再用于验签",
                                   MAY_BE_ABSENT: True})


class JwksSchema(Schema):
    keys = fields.List(fields.Nested(JwkSchema), metadata={"description": "当前、即将启用与仍可验签的旧公钥"})
