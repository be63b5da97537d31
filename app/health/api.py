from flask import jsonify
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import text

from app.extensions import db, kv

blp = Blueprint("health", __name__, description="进程与依赖的健康检查")


class LiveSchema(Schema):
    status = fields.String(metadata={"description": "ok"})


class ChecksSchema(Schema):
    database = fields.String(metadata={"description": "ok / unavailable"})
    kv = fields.String(metadata={"description": "键值存储：ok / unavailable"})


class ReadySchema(Schema):
    status = fields.String(metadata={"description": "ready"})
    checks = fields.Nested(ChecksSchema)


class NotReadySchema(Schema):
    code = fields.String(metadata={"description": "not_ready"})
    status = fields.Integer(metadata={"description": "503"})
    message = fields.String(metadata={"description": "哪一项无法连接"})
    checks = fields.Nested(ChecksSchema)


@blp.route("/healthz")
@blp.response(200, LiveSchema)
@blp.doc(summary="进程存活")
def healthz():
    return {"status": "ok"}


@blp.route("/readyz")
@blp.response(200, ReadySchema)
@blp.alt_response(503, schema=NotReadySchema, description="数据库或键值存储无法连接")
@blp.doc(summary="就绪：数据库与键值存储均可用时返回 200，否则 503 并指明哪一个")
def readyz():
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means not ready; the reason is logged by the driver
        db.session.rollback()
        checks["database"] = "unavailable"
    try:
        kv.ping()
        checks["kv"] = "ok"
    except Exception:  # noqa: BLE001
        checks["kv"] = "unavailable"
    down = [name for name, state in checks.items() if state != "ok"]
    if down:
        body = {"code": "not_ready", "status": 503, "message": "服务暂时不可用：" + "、".join(down) + " 无法连接。",
                "checks": checks}
        response = jsonify(body)
        response.status_code = 503
        return response
    return {"status": "ready", "checks": checks}
