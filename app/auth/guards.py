"""Decorators that authenticate a caller, set ``g.actor`` for the audit trail, and refuse everyone else."""

from __future__ import annotations

from functools import wraps

from flask import g, request

from app.audit.service import Actor
from app.auth import service
from app.errors import ApiError


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def staff_required(role: str = "staff"):
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            token = bearer_token()
            user = service.staff_for_token(token) if token else None
            if user is None:
                raise _unauthorized("请先以工作人员身份登录。")
            if role == "admin" and user.role != "admin":
                raise ApiError(403, "forbidden", "该操作需要管理员权限。")
            g.staff = user
            g.actor = Actor("staff", user.username)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def department_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        key = bearer_token()
        department = service.department_for_key(key) if key else None
        if department is None:
            raise _unauthorized("部门接口密钥无效或已停用。")
        g.department = department
        g.actor = Actor("department", department.code)
        return view(*args, **kwargs)

    return wrapper
