"""Staff accounts and tokens, department API keys: who is calling."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select
from werkzeug.security import check_password_hash, generate_password_hash

from app import ratelimit
from app.audit import service as audit
from app.auth.models import STAFF_ROLES, Department, DepartmentKey, DepartmentUser, StaffToken, StaffUser
from app.errors import ApiError
from app.extensions import db
from app.security.secrets_util import digest, new_secret
from app.timeutil import utcnow

# Checked against when the username is unknown, so a wrong username costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def create_staff(username: str, password: str, role: str = "staff", display_name: str | None = None) -> StaffUser:
    if role not in STAFF_ROLES:
        raise ValueError(f"role must be one of {STAFF_ROLES}")
    if len(password) < 10:
        raise ValueError("password must be at least 10 characters")
    user = StaffUser(username=username, password_hash=generate_password_hash(password), role=role,
                     display_name=display_name or username)
    db.session.add(user)
    db.session.flush()
    return user


LOGIN_LOCKED = ratelimit.Refusal("login_locked", "登录失败次数过多，账号已临时锁定，请 {minutes} 分钟后再试。")


def _login_limits(username: str) -> list[tuple[str, tuple[str, ...]]]:
    config = current_app.config
    # A digest keeps the limiter's keys free of whatever was typed as a username.
    return [(config["LOGIN_FAILURES_PER_USER"], ("staff-login-user", digest(username.casefold()))),
            (config["LOGIN_FAILURES_PER_ADDRESS"], ("login-address", ratelimit.client_ip()))]


def issue_staff_token(username: str, password: str) -> tuple[str, int]:
    limits = _login_limits(username)
    for limit, keys in limits:  # locked: refused before the password is even looked at
        ratelimit.check(limit, LOGIN_LOCKED, *keys)
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
    if user is None or not user.active or not check_password_hash(user.password_hash, password):
        for limit, keys in limits:
            ratelimit.count(limit, *keys)
        raise ApiError(401, "invalid_credentials", "用户名或密码不正确。")
    user_limit, user_keys = limits[0]
    ratelimit.clear(user_limit, *user_keys)  # a success starts the count afresh
    ttl = current_app.config["STAFF_TOKEN_TTL_SECONDS"]
    token = new_secret("st")
    now = utcnow()
    db.session.execute(delete(StaffToken).where(StaffToken.staff_id == user.id, StaffToken.expires_at < now))
    db.session.add(StaffToken(token_digest=digest(token), staff_id=user.id, expires_at=now + timedelta(seconds=ttl)))
    db.session.commit()
    return token, ttl


def staff_for_token(token: str) -> StaffUser | None:
    row = db.session.get(StaffToken, digest(token))
    if row is None or row.expires_at <= utcnow() or not row.staff.active:
        return None
    return row.staff


def create_department(code: str, name: str, record_types: list[str]) -> Department:
    department = Department(code=code, name=name, record_types=sorted(set(record_types)))
    db.session.add(department)
    db.session.flush()
    return department


def set_department_record_types(department: Department, record_types: list[str], known_types) -> Department:
    """The catalog record types a department may push (its key's scope); a type outside the catalog is refused."""
    unknown = sorted(set(record_types) - set(known_types))
    if unknown:
        raise ApiError(422, "unknown_type", "信用信息目录中没有该记录类型。",
                       {"record_types": [f"目录中没有：{'、'.join(unknown)}"]})
    if not record_types:
        raise ApiError(422, "record_types_required", "请至少选择一种记录类型。",
                       {"record_types": ["请至少选择一种记录类型。"]})
    previous = list(department.record_types)
    department.record_types = sorted(set(record_types))
    audit.log(None, "department.record_types", "调整部门可报送的记录类型",
              {"department": department.code, "from": previous, "to": department.record_types})
    db.session.flush()
    return department


def issue_department_key(department: Department) -> str:
    """Return a new API key; only its digest is kept, so this is the one time it can be shown."""
    key = new_secret("dk")
    db.session.add(DepartmentKey(department_id=department.id, key_digest=digest(key)))
    db.session.flush()
    return key


def department_for_key(key: str) -> Department | None:
    row = db.session.scalar(select(DepartmentKey).where(DepartmentKey.key_digest == digest(key)))
    if row is None or row.revoked_at is not None or not row.department.active:
        return None
    return row.department


# -- console sign-in (staff and department desk accounts) ---------------------------------------------------

def create_department_user(department_code: str, username: str, password: str,
                           display_name: str | None = None) -> DepartmentUser:
    """A department desk account. Usernames are unique across staff and department accounts (one login page)."""
    department = db.session.scalar(select(Department).where(Department.code == department_code))
    if department is None:
        raise ValueError(f"unknown department {department_code}")
    if len(password) < 10:
        raise ValueError("password must be at least 10 characters")
    if not 1 <= len(username) <= 64:
        raise ValueError("username must be 1 to 64 characters")
    if db.session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise ValueError(f"username {username} is taken by a staff account")
    user = DepartmentUser(department=department, username=username, password_hash=generate_password_hash(password),
                          display_name=display_name or username)
    db.session.add(user)
    db.session.flush()
    return user


def authenticate_console(username: str, password: str) -> StaffUser | DepartmentUser | None:
    """The active staff or department account with this username and password, or None (same cost either way).

    The console shares the API login's lockout (one counter per username and per address, on the limits library's
    storage): a 429 ``login_locked`` ApiError once the budget is spent, before the password is looked at."""
    limits = _login_limits(username)
    for limit, keys in limits:
        ratelimit.check(limit, LOGIN_LOCKED, *keys)
    user: StaffUser | DepartmentUser | None = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        user = db.session.scalar(select(DepartmentUser).where(DepartmentUser.username == username))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
    usable = (user is not None and check_password_hash(user.password_hash, password) and user.active
              and not (isinstance(user, DepartmentUser) and not user.department.active))
    if not usable:
        for limit, keys in limits:
            ratelimit.count(limit, *keys)
        return None
    user_limit, user_keys = limits[0]
    ratelimit.clear(user_limit, *user_keys)
    return user


def console_account(kind: str, account_id: int) -> StaffUser | DepartmentUser | None:
    """The still-active account a console session belongs to (``kind`` is 'staff' or 'department')."""
    model = StaffUser if kind == "staff" else DepartmentUser if kind == "department" else None
    user = db.session.get(model, account_id) if model else None
    if user is None or not user.active:
        return None
    if isinstance(user, DepartmentUser) and not user.department.active:
        return None
    return user


def list_departments() -> list[Department]:
    return list(db.session.scalars(select(Department).order_by(Department.code)))


def department_keys(department: Department) -> list[DepartmentKey]:
    return list(db.session.scalars(select(DepartmentKey).where(DepartmentKey.department_id == department.id)
                                   .order_by(DepartmentKey.created_at.desc(), DepartmentKey.id.desc())))


def get_department(code: str) -> Department:
    department = db.session.scalar(select(Department).where(Department.code == code))
    if department is None:
        raise ApiError(404, "department_not_found", "未找到该部门。")
    return department


def revoke_department_key(department: Department, key_id: int) -> DepartmentKey:
    row = db.session.scalar(select(DepartmentKey).where(DepartmentKey.id == key_id,
                                                        DepartmentKey.department_id == department.id))
    if row is None:
        raise ApiError(404, "key_not_found", "未找到该密钥。")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.flush()
    return row
