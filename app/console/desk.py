"""The department desk (部门工作台): a department user sees only its own department's records and batches, and
uploads a CSV through the same import as ``flask records import``."""

from __future__ import annotations

import json
import re

from flask import g, jsonify, redirect, render_template, request, url_for

from app.console import blp, security
from app.console.common import page_number
from app.errors import ApiError
from app.extensions import kv
from app.records import imports
from app.records import queries as record_queries
from app.records.models import RECORD_STATUSES
from app.scoring import service as scoring

PER_PAGE = 20
PROGRESS_KEY = "console:desk-upload:{}:{}"  # department id, upload id chosen by the page
PROGRESS_TTL = 3600
_UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def _department():
    return g.console_user.department


@blp.route("/desk/")
@security.login_required("department")
def desk_records():
    department = _department()
    search = request.args.get("q", "").strip()[:64] or None
    status = request.args.get("status") if request.args.get("status") in RECORD_STATUSES else None
    type_code = request.args.get("type") if request.args.get("type") in department.record_types else None
    page = page_number()
    items, total = record_queries.department_records(department.id, search=search, status=status,
                                                     type_code=type_code, page=page, per_page=PER_PAGE)
    type_names = {code: entry.name for code, entry in scoring.rules().catalog.items()}
    return render_template("console/desk_records.html", department=department, records=items, total=total,
                           page=page, per_page=PER_PAGE, counts=record_queries.status_counts(department.id),
                           filters={"q": search or "", "status": status, "type": type_code},
                           statuses=RECORD_STATUSES, type_names=type_names)


@blp.route("/desk/batches")
@security.login_required("department")
def desk_batches():
    department = _department()
    page = page_number()
    items, total = imports.batches_of(department.id, page, PER_PAGE)
    return render_template("console/desk_batches.html", department=department, batches=items, total=total,
                           page=page, per_page=PER_PAGE)


@blp.route("/desk/batches/<ref>")
@security.login_required("department")
def desk_batch(ref):
    department = _department()
    return render_template("console/desk_batch.html", department=department,
                           batch=imports.batch_of(department.id, ref))


@blp.route("/desk/upload", methods=["GET", "POST"])
@security.login_required("department")
def desk_upload():
    department = _department()
    if request.method == "GET":
        return render_template("console/desk_upload.html", department=department, errors={},
                               columns=imports.CSV_COLUMNS, required=imports.CSV_REQUIRED_COLUMNS)
    upload = request.files.get("file")
    upload_id = request.form.get("upload_id", "")
    try:
        if upload is None or not upload.filename:
            raise ApiError(422, "file_required", "请选择文件。", {"file": ["请选择要上传的 CSV 文件。"]})
        if not upload.filename.lower().endswith(".csv"):
            raise ApiError(422, "not_csv", "只能上传 CSV 文件。", {"file": ["只能上传 .csv 文件。"]})
        text = imports.decode_upload(upload.read())
    except ApiError as error:
        return render_template("console/desk_upload.html", department=department, errors=error.errors,
                               columns=imports.CSV_COLUMNS, required=imports.CSV_REQUIRED_COLUMNS), 422
    progress_key = PROGRESS_KEY.format(department.id, upload_id) if _UPLOAD_ID.match(upload_id) else None

    def progress(batch):
        if progress_key:
            kv.set(progress_key, json.dumps({"processed": batch.processed_rows, "total": batch.total_rows,
                                             "batch": batch.ref}), ex=PROGRESS_TTL)

    batch = imports.import_csv(department, text, source="desk", filename=upload.filename,
                               started_by=g.console_user.username, on_progress=progress,
                               recompute_inline=True)
    if progress_key:
        kv.set(progress_key, json.dumps({"processed": batch.processed_rows, "total": batch.total_rows,
                                         "batch": batch.ref, "done": True}), ex=PROGRESS_TTL)
    return redirect(url_for("console.desk_batch", ref=batch.ref))


@blp.route("/api/desk/upload-progress/<upload_id>")
@security.login_required("department")
def desk_upload_progress(upload_id):
    if not _UPLOAD_ID.match(upload_id):
        return jsonify({"processed": 0, "total": 0}), 404
    raw = kv.get(PROGRESS_KEY.format(_department().id, upload_id))
    return jsonify(json.loads(raw) if raw else {"processed": 0, "total": None})
