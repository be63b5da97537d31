"""The village / community points desk (村社积分工作台) at /console/points/, scoped to the signed-in worker's scheme:
enter on behalf (elderly first), the review queue with objections, the 公示 list, the 积分超市 catalog and stock,
the counter's code scan, the year-end rating (preview, then confirm). And city staff's page at /console/community:
every scheme's figures, unusual reviewers, rulebooks to approve. Each view calls app/community's services."""

from __future__ import annotations

import secrets
from datetime import date

from flask import Response, flash, g, redirect, render_template, request, url_for

from app.community import counter, ledger, ratings, service, stats
from app.community.models import Scheme
from app.console import blp, security
from app.errors import ApiError
from app.extensions import db
from app.scoring import service as scoring
from app.timeutil import city_today

ROLE_NAMES = {"grid": "网格员", "reviewer": "审核员", "counter": "积分超市柜台", "manager": "管理员"}


@blp.app_template_filter("worker_role")
def worker_role(value: str) -> str:
    return ROLE_NAMES.get(value, value)


def _worker():
    worker = service.active_worker(g.console_user.account_id)
    if worker is None:
        raise ApiError(403, "forbidden", "账号已停用。")
    return worker


def _can(worker, *roles: str) -> bool:
    return worker.role == "manager" or worker.role in roles


def _render(template: str, worker, **context):
    scheme = db.session.get(Scheme, worker.scheme_id)
    return render_template(f"console/{template}", worker=worker, scheme=scheme, can=lambda *r: _can(worker, *r),
                           **context)


def _flash_refusal(error: ApiError) -> None:
    flash(error.message, "error")


@blp.route("/points/")
@security.login_required("community")
def points_home():
    worker = _worker()
    target = {"grid": "console.points_enter", "reviewer": "console.points_review",
              "counter": "console.points_counter"}.get(worker.role, "console.points_review")
    return redirect(url_for(target))


@blp.route("/points/enter", methods=["GET", "POST"])
@security.login_required("community")
def points_enter():
    worker = _worker()
    if request.method == "POST":
        try:
            occurred = date.fromisoformat(request.form.get("occurred_on", ""))
            quantity = int(request.form.get("quantity", "1"))
        except ValueError:
            flash("请填写正确的日期和数量。", "error")
            return redirect(url_for("console.points_enter"))
        try:
            entry = ledger.enter_on_behalf(worker, request.form.get("member", ""), request.form.get("item", ""),
                                           quantity, occurred, request.form.get("note", ""),
                                           request.files.getlist("photos"),
                                           idempotency_key=request.form.get("idempotency_key") or None)
        except ApiError as error:
            _flash_refusal(error)
        else:
            flash(f"已登记 {entry.points:+d} 分，等待审核员审核。", "success")
        return redirect(url_for("console.points_enter"))
    rulebook = service.current_rulebook(worker.scheme_id)
    return _render("points_enter.html", worker, members=ledger.grid_members(worker),
                   items=rulebook.items if rulebook else [], today=city_today(),
                   idempotency_key=f"desk-{secrets.token_urlsafe(18)}")


@blp.route("/points/review")
@security.login_required("community")
def points_review():
    worker = _worker()
    return _render("points_review.html", worker, queue=ledger.review_queue(worker))


@blp.route("/points/entries/<ref>/<action>", methods=["POST"])
@security.login_required("community")
def points_decide(ref, action):
    worker = _worker()
    try:
        if action == "approve":
            ledger.approve(worker, ref)
            flash("已审核通过，进入公示。", "success")
        elif action == "reject":
            ledger.reject(worker, ref, request.form.get("reason", "").strip() or "不符合积分细则")
            flash("已退回，不予记分。", "success")
        elif action in ("uphold", "dismiss"):
            ledger.decide_objection(worker, ref, action == "uphold", request.form.get("note", "").strip())
            flash("异议成立，该积分不予入账。" if action == "uphold" else "异议不成立，积分已入账。", "success")
        else:
            return redirect(url_for("console.points_review"))
    except ApiError as error:
        _flash_refusal(error)
    return redirect(url_for("console.points_review"))


@blp.route("/points/photos/<ref>")
@security.login_required("community")
def points_photo(ref):
    content_type, data = ledger.photo_for(_worker(), ref)
    return Response(data, mimetype=content_type, headers={"Cache-Control": "no-store"})


@blp.route("/points/publicity")
@security.login_required("community")
def points_publicity():
    worker = _worker()
    return _render("points_publicity.html", worker, rows=ledger.publicity_list(worker.scheme_id))


@blp.route("/points/catalog", methods=["GET", "POST"])
@security.login_required("community")
def points_catalog():
    worker = _worker()
    if request.method == "POST":
        try:
            service.require_role(worker, "counter")
            if request.form.get("restock"):
                delta = int(request.form.get("delta", "0"))
                item = counter.restock(worker, request.form["restock"], delta)
                flash(f"「{item.name}」库存已调整为 {item.stock}。", "success")
            else:
                stock_text = request.form.get("stock", "").strip()
                item = counter.add_item(db.session.get(Scheme, worker.scheme_id), request.form.get("name", "").strip(),
                                        request.form.get("kind", "goods"), int(request.form.get("price", "0")),
                                        int(stock_text) if stock_text else None)
                db.session.commit()
                flash(f"已上架「{item.name}」。", "success")
        except ValueError:
            flash("请填写整数的积分价格和库存。", "error")
        except ApiError as error:
            _flash_refusal(error)
        return redirect(url_for("console.points_catalog"))
    return _render("points_catalog.html", worker, items=counter.catalog(worker.scheme_id, active_only=False))


@blp.route("/points/counter", methods=["GET", "POST"])
@security.login_required("community")
def points_counter():
    worker = _worker()
    result = refusal = None
    status = 200
    if request.method == "POST":
        try:
            result = counter.redeem(worker, request.form.get("code", ""))
        except ApiError as error:
            refusal, status = error, error.status
    return _render("points_counter.html", worker, result=result, refusal=refusal), status


@blp.route("/points/ratings", methods=["GET", "POST"])
@security.login_required("community")
def points_ratings():
    worker = _worker()
    scheme = db.session.get(Scheme, worker.scheme_id)
    raw_year = request.values.get("year", "")
    year = int(raw_year) if raw_year.isdigit() and 2000 <= int(raw_year) <= 2100 else city_today().year
    if request.method == "POST":
        try:
            service.require_role(worker, "reviewer")
            outcome = ratings.confirm(scheme, year, worker.username)
            flash(f"{year} 年度评定已确认：新增 {outcome['added']} 项评定，归集信用记录 {outcome['accepted']} 条。",
                  "success")
        except ApiError as error:
            _flash_refusal(error)
        return redirect(url_for("console.points_ratings", year=year))
    return _render("points_ratings.html", worker, year=year, preview=ratings.preview(scheme, year),
                   confirmed=ratings.ratings_of(scheme, year),
                   star_points=ratings_points(ratings.STAR_TYPE), honest_points=ratings_points(ratings.HONEST_TYPE))


def ratings_points(type_code: str) -> int:
    return scoring.rules().catalog[type_code].points


# -- city staff ---------------------------------------------------------------------------------------------------

@blp.route("/community")
@security.login_required("staff")
def community_overview():
    return render_template("console/community_overview.html", figures=stats.scheme_figures(),
                           flags=stats.reviewer_flags(),
                           rulebooks=[service.rulebook_view(r) for r in service.rulebooks_in_state("pending")])


@blp.route("/community/rulebooks/<ref>", methods=["POST"])
@security.login_required("staff")
def community_rulebook_decide(ref):
    try:
        rulebook = service.decide_rulebook(service.get_rulebook(ref), request.form.get("approve") == "1",
                                           g.console_user.username)
        db.session.commit()
        outcome = "批准生效" if rulebook.state == "approved" else "退回"
        flash(f"积分细则第 {rulebook.version} 版已{outcome}。", "success")
    except ApiError as error:
        _flash_refusal(error)
    return redirect(url_for("console.community_overview"))
