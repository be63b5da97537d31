"""Staff pages of the console (信用中心): sign-in, dashboard, citizen file, the 信易+ catalog, partners,
departments and the audit chain. Each view calls the domain services the JSON API calls."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from marshmallow import Schema, ValidationError, fields, validate

from app.audit import service as audit
from app.auth import service as auth
from app.citizens import service as citizens
from app.citizens.schemas import LookupRequestSchema
from app.community import service as community
from app.console import blp, security
from app.console.common import form_errors, load_form, page_number
from app.errors import ApiError
from app.extensions import db
from app.partners import service as partners
from app.partners import settlement
from app.partners.schemas import PartnerKeysSchema
from app.records import queries as record_queries
from app.scoring import service as scoring
from app.scoring.stats import level_names
from app.timeutil import city_today
from benefits import catalog, trail_names
from benefits.schemas import (
    BranchLocationSchema,
    MerchantCreateSchema,
    OfferCreateSchema,
    SceneCreateSchema,
    TerminalCreateSchema,
)

PER_PAGE = 20

STATUS_NAMES = {"active": "有效", "disputed": "异议中", "repaired": "已修复", "revoked": "已撤销", "expired": "已过期",
                "paused": "已暂停", "suspended": "已暂停", "not_yet_valid": "未开始", "ended": "已结束",
                "matched": "一致", "mismatched": "有差异", "retry": "待重试", "running": "导入中", "done": "已完成",
                "failed": "失败"}
ACTION_NAMES = {"citizen.lookup": "查找居民", "score.read": "查看信用分", "records.ingest": "部门归集记录",
                "record.status": "更正记录状态", "score.recompute": "重新计算信用分",
                "report.issue": "出具信用报告", "report.revoke": "撤销信用报告", "report.verify": "核验信用报告",
                "report.lookup": "查询信用报告",
                "rights.case.view": "查看异议/修复案件", "rights.cases.list": "查看异议/修复案件列表"}


@blp.app_template_filter("status_name")
def status_name(value: str) -> str:
    return STATUS_NAMES.get(value, value)


@blp.app_template_filter("action_name")
def action_name(value: str) -> str:
    return ACTION_NAMES.get(value, value)


@blp.app_context_processor
def _console_context():
    return {"current_console_user": g.get("console_user")}


# -- sign-in ------------------------------------------------------------------------------------------------

class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/console/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@blp.route("/login", methods=["GET", "POST"])
def login():
    errors: dict = {}
    username = ""
    status = 200
    if request.method == "POST":
        try:
            data = load_form(LoginSchema())
        except ValidationError as error:
            errors = form_errors(error)
            status = 422
        else:
            username = data["username"]
            try:
                # A village / community points desk account (app/community), or a staff or department one.
                account = (community.authenticate_worker(username, data["password"])
                           if community.is_worker_username(username)
                           else auth.authenticate_console(username, data["password"]))
            except ApiError as locked:  # login_locked: too many failures for this username or address
                errors["_form"] = [locked.message]
                status = locked.status
            else:
                if account is None:
                    errors["_form"] = ["用户名或密码不正确。"]
                    status = 401
                else:
                    security.sign_in(account)
                    return redirect(_safe_next(request.args.get("next")) or url_for("console.index"))
    why = request.args.get("why")
    notice = "登录已超时，请重新登录。" if why == "timeout" else None
    return render_template("console/login.html", errors=errors, username=username, notice=notice), status


@blp.route("/logout", methods=["POST"])
def logout():
    security.sign_out()
    flash("您已安全退出。", "info")
    return redirect(url_for("console.login"))


@blp.route("/")
def index():
    user = security.current_user()
    if user is None:
        return redirect(url_for("console.login"))
    if user.kind == "community":
        return redirect(url_for("console.points_home"))
    return redirect(url_for("console.desk_records" if user.kind == "department" else "console.dashboard"))


# -- dashboard ----------------------------------------------------------------------------------------------

@blp.route("/dashboard")
@security.login_required("staff")
def dashboard():
    from app.console.charts import CHARTS

    return render_template("console/dashboard.html", charts=CHARTS, today=city_today())


# -- citizen file -------------------------------------------------------------------------------------------

@blp.route("/citizens", methods=["GET"])
@security.login_required("staff")
def citizen_lookup():
    return render_template("console/citizen_lookup.html", errors={}, reason="")


@blp.route("/citizens/file", methods=["POST"])
@security.login_required("staff")
def citizen_file():
    """The ID number arrives in the POST body only; the page shows it masked; the read is in the audit trail."""
    reason = request.form.get("reason", "").strip()[:200]
    try:
        data = load_form(LookupRequestSchema())
    except ValidationError as error:
        return render_template("console/citizen_lookup.html", errors=form_errors(error), reason=reason), 422
    citizen = citizens.find_by_id_number(data["id_number"])
    if citizen is None:
        errors = {"id_number": ["未找到该身份证号码对应的居民（请核对号码）。"]}
        return render_template("console/citizen_lookup.html", errors=errors, reason=reason), 404
    audit.log(citizen.id, "citizen.lookup", data["reason"])
    score_file, score_problem = None, None
    try:
        score_file = scoring.score_file(citizen)
    except ApiError as error:
        score_problem = error.message
    else:
        audit.log(citizen.id, "score.read", data["reason"])
    db.session.commit()
    records = record_queries.records_by_refs([c.ref for c in score_file["contributions"]]) if score_file else {}
    trail, trail_total = audit.entries_for_subject(citizen.id, 1, 20)
    who = trail_names.actor_names(trail)
    trail = [(entry, who[id(entry)]) for entry in trail]
    history = [{"at": entry.computed_at.isoformat(), "total": entry.total, "level": entry.level}
               for entry in (score_file or {}).get("history", [])]
    return render_template("console/citizen_file.html", citizen=citizens.summary(citizen), file=score_file,
                           score_problem=score_problem, records=records, trail=trail, trail_total=trail_total,
                           history=history, reason=data["reason"], rules=scoring.rules())


# -- 信易+: merchants, terminals, offers, scenes ------------------------------------------------------------

@blp.route("/merchants")
@security.login_required("staff")
def merchants():
    q = request.args.get("q", "").strip()[:50] or None
    scene = request.args.get("scene") or None
    status = request.args.get("status") if request.args.get("status") in ("active", "suspended") else None
    page = page_number()
    found = catalog.list_merchants(page, PER_PAGE, scene=scene, status=status, q=q)
    items, total = found.items, found.total
    return render_template("console/merchants.html", merchants=items, total=total, page=page, per_page=PER_PAGE,
                           scenes=catalog.list_scenes(), filters={"q": q or "", "scene": scene, "status": status},
                           errors={}, form={})


@blp.route("/merchants", methods=["POST"])
@security.login_required("admin")
def merchant_create():
    try:
        data = load_form(MerchantCreateSchema(), lists=("scenes",))
        merchant = catalog.create_merchant(data["name"], data["uscc"], data["scenes"], data["status"])
        db.session.commit()
    except (ValidationError, ApiError) as error:
        db.session.rollback()
        found = catalog.list_merchants(1, PER_PAGE)
        items, total = found.items, found.total
        return render_template("console/merchants.html", merchants=items, total=total, page=1, per_page=PER_PAGE,
                               scenes=catalog.list_scenes(), filters={"q": "", "scene": None, "status": None},
                               errors=form_errors(error), form=request.form), 422
    flash(f"已添加商户“{merchant.name}”。", "success")
    return redirect(url_for("console.merchant", ref=merchant.ref))


def _merchant_page(merchant, *, issued=None, errors=None, status=200):
    offers = catalog.list_offers(1, 100, merchant_ref=merchant.ref).items
    return render_template("console/merchant.html", merchant=merchant, terminals=catalog.terminals_of(merchant),
                           offers=offers, issued=issued, errors=errors or {}, today=city_today(),
                           offer_state=catalog.offer_state), status


@blp.route("/merchants/<ref>")
@security.login_required("staff")
def merchant(ref):
    return _merchant_page(catalog.get_merchant(ref))


@blp.route("/merchants/<ref>/status", methods=["POST"])
@security.login_required("admin")
def merchant_status(ref):
    status = request.form.get("status")
    if status not in ("active", "suspended"):
        raise ApiError(422, "invalid_status", "状态无效。")
    merchant = catalog.update_merchant(ref, {"status": status})
    db.session.commit()
    flash("商户已暂停，终端不能再核验。" if status == "suspended" else "商户已恢复。", "success")
    return redirect(url_for("console.merchant", ref=merchant.ref))


@blp.route("/merchants/<ref>/terminals", methods=["POST"])
@security.login_required("admin")
def terminal_issue(ref):
    """The key is shown in this answer only (never stored in plain, never in a redirect or a cookie)."""
    merchant = catalog.get_merchant(ref)
    try:
        data = load_form(TerminalCreateSchema())
        terminal, key = catalog.issue_terminal(merchant, data["name"], data.get("branch_id"))
        db.session.commit()
    except (ValidationError, ApiError) as error:
        db.session.rollback()
        return _merchant_page(catalog.get_merchant(ref), errors=form_errors(error), status=422)
    return _merchant_page(merchant, issued={"terminal": terminal, "key": key}, status=201)


@blp.route("/merchants/<ref>/branches/<branch_ref>/location", methods=["POST"])
@security.login_required("staff")
def branch_location(ref, branch_ref):
    """A branch's GCJ-02 coordinates (as a map of China or WeChat gives them), for offers sorted by distance."""
    merchant = catalog.get_merchant(ref)
    try:
        data = load_form(BranchLocationSchema())
        branch = catalog.update_branch(merchant, branch_ref, data)
        db.session.commit()
    except (ValidationError, ApiError) as error:
        db.session.rollback()
        return _merchant_page(catalog.get_merchant(ref), errors=form_errors(error), status=422)
    flash(f"已保存“{branch.name}”的位置。", "success")
    return redirect(url_for("console.merchant", ref=ref))


@blp.route("/merchants/<ref>/terminals/<terminal_ref>/revoke", methods=["POST"])
@security.login_required("admin")
def terminal_revoke(ref, terminal_ref):
    merchant = catalog.get_merchant(ref)
    catalog.revoke_terminal(merchant, terminal_ref)
    db.session.commit()
    flash("终端已停用，其密钥不能再核验。", "success")
    return redirect(url_for("console.merchant", ref=ref))


@blp.route("/offers")
@security.login_required("staff")
def offers():
    scene = request.args.get("scene") or None
    status = request.args.get("status") if request.args.get("status") in ("active", "paused") else None
    merchant_ref = request.args.get("merchant") or None
    page = page_number()
    found = catalog.list_offers(page, PER_PAGE, merchant_ref=merchant_ref, scene=scene, status=status)
    items, total = found.items, found.total
    return render_template("console/offers.html", offers=items, total=total, page=page, per_page=PER_PAGE,
                           scenes=catalog.list_scenes(), filters={"scene": scene, "status": status},
                           today=city_today(), offer_state=catalog.offer_state)


def _offer_form(errors=None, form=None, status=200):
    merchants_list = catalog.list_merchants(1, 500).items
    return render_template("console/offer_new.html", merchants=merchants_list, scenes=catalog.list_scenes(),
                           levels=[entry for entry in level_names() if entry["level"] > 0], errors=errors or {},
                           form=form or {}), status


@blp.route("/offers/new")
@security.login_required("staff")
def offer_new():
    return _offer_form(form={"merchant_id": request.args.get("merchant", "")})


@blp.route("/offers", methods=["POST"])
@security.login_required("staff")
def offer_create():
    try:
        data = load_form(OfferCreateSchema(), lists=("branch_ids",), checkboxes=("partner_allowed",))
        offer = catalog.create_offer(data)
        db.session.commit()
    except (ValidationError, ApiError) as error:
        db.session.rollback()
        return _offer_form(errors=form_errors(error), form=request.form, status=422)
    flash(f"已创建权益“{offer.title}”。", "success")
    return redirect(url_for("console.offers", merchant=offer.merchant.ref))


@blp.route("/offers/<ref>/status", methods=["POST"])
@security.login_required("staff")
def offer_status(ref):
    status = request.form.get("status")
    if status not in ("active", "paused"):
        raise ApiError(422, "invalid_status", "状态无效。")
    offer = catalog.update_offer(ref, {"status": status})
    db.session.commit()
    flash(f"权益“{offer.title}”已{'暂停' if status == 'paused' else '恢复'}。", "success")
    return redirect(request.form.get("back") if _same_console(request.form.get("back"))
                    else url_for("console.offers"))


def _same_console(target: str | None) -> bool:
    return bool(target) and target.startswith("/console/") and not target.startswith("//")


@blp.route("/scenes", methods=["GET", "POST"])
@security.login_required("staff")
def scenes():
    errors, status = {}, 200
    if request.method == "POST":
        try:
            data = load_form(SceneCreateSchema())
            scene = catalog.create_scene(**data)
            db.session.commit()
        except (ValidationError, ApiError) as error:
            db.session.rollback()
            errors, status = form_errors(error), 422
        else:
            flash(f"已添加场景“{scene.name}”。", "success")
            return redirect(url_for("console.scenes"))
    return render_template("console/scenes.html", scenes=catalog.list_scenes(include_inactive=True), errors=errors,
                           form=request.form if errors else {}), status


# -- partners -----------------------------------------------------------------------------------------------

def _partners_page(*, errors=None, form=None, status=200):
    rows = [{"partner": partner, "kids": partners.key_ids(partner),
             "pending": settlement.pending_receipts(partner.id)} for partner in partners.list_partners()]
    report_status = request.args.get("status")
    report_status = report_status if report_status in ("matched", "mismatched", "retry") else None
    return render_template("console/partners.html", partners=rows, status=report_status,
                           reports=settlement.reports(status=report_status, limit=100),
                           errors=errors or {}, form=form or {}), status


@blp.route("/partners")
@security.login_required("staff")
def partner_list():
    return _partners_page()


@blp.route("/partners/keys", methods=["POST"])
@security.login_required("admin")
def partner_keys():
    """The partner's key address (JWKS URL, fetched at once) and API address: PUT /api/v1/partners/<code>/keys."""
    city_code = request.form.get("city_code", "")
    try:
        data = load_form(PartnerKeysSchema(), ignore=("city_code",))
        partner = partners.configure_keys(city_code, data)
    except (ValidationError, ApiError) as error:
        db.session.rollback()
        return _partners_page(errors=form_errors(error), form=request.form, status=getattr(error, "status", 422))
    flash(f"{partner.city_name}：已更新公钥与接口地址（公钥 {len(partners.key_ids(partner))} 个）。", "success")
    return redirect(url_for("console.partner_list"))


@blp.route("/partners/<city_code>/status", methods=["POST"])
@security.login_required("admin")
def partner_status(city_code):
    status = request.form.get("status")
    if status not in ("active", "suspended"):
        raise ApiError(422, "invalid_status", "状态无效。")
    partner = partners.set_status(city_code, status)
    db.session.commit()
    flash(f"{partner.city_name}：{'已暂停互认' if status == 'suspended' else '已恢复互认'}。", "success")
    return redirect(url_for("console.partner_list"))


# -- departments --------------------------------------------------------------------------------------------

def _departments_page(issued=None, status=200):
    rows = [{"department": department, "keys": auth.department_keys(department)}
            for department in auth.list_departments()]
    catalog_entries = scoring.rules().catalog
    return render_template("console/departments.html", departments=rows, issued=issued,
                           type_names={code: entry.name for code, entry in catalog_entries.items()}), status


@blp.route("/departments")
@security.login_required("staff")
def departments():
    return _departments_page()


@blp.route("/departments/<code>/keys", methods=["POST"])
@security.login_required("admin")
def department_key_issue(code):
    department = auth.get_department(code)
    key = auth.issue_department_key(department)
    db.session.commit()
    return _departments_page(issued={"department": department, "key": key}, status=201)


@blp.route("/departments/<code>/record-types", methods=["POST"])
@security.login_required("admin")
def department_record_types(code):
    department = auth.get_department(code)
    try:
        auth.set_department_record_types(department, request.form.getlist("record_types"), scoring.rules().catalog)
    except ApiError as error:
        db.session.rollback()
        flash(f"{department.name}：{' '.join(form_errors(error).get('record_types', [error.message]))}", "error")
        return redirect(url_for("console.departments")), 303
    db.session.commit()
    flash(f"{department.name} 可报送的记录类型已更新（{len(department.record_types)} 种）。", "success")
    return redirect(url_for("console.departments"))


@blp.route("/departments/<code>/keys/<int:key_id>/revoke", methods=["POST"])
@security.login_required("admin")
def department_key_revoke(code, key_id):
    department = auth.get_department(code)
    auth.revoke_department_key(department, key_id)
    db.session.commit()
    flash(f"{department.name} 的一把接口密钥已停用。", "success")
    return redirect(url_for("console.departments"))


# -- audit --------------------------------------------------------------------------------------------------

@blp.route("/audit", methods=["GET", "POST"])
@security.login_required("staff")
def audit_page():
    report, linked = None, None
    if request.method == "POST":
        linked = audit.chain_pending()
        report = audit.verify_chain()
    return render_template("console/audit.html", report=report, linked=linked,
                           counts=audit.chain_counts())
