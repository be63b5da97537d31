"""The console's pages do what the JSON API does, through the same services: citizen file with an audited reason,
dashboard figures, offers, terminal keys, and the department desk's records, batches and CSV upload."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.extensions import db
from app.records import service as records
from app.scoring.models import Score
from app.timeutil import city_today
from benefits import catalog
from tests.app.console.helpers import DESK_PASSWORD, desk_account, desk_client, login, page_token, staff_client
from tests.benefits.helpers import make_citizen, make_merchant
from tests.factories import gen_citizen, new_id_number


def _lookup(client, id_number: str, reason: str = "窗口业务办理"):
    token = page_token(client, "/console/citizens")
    return client.post("/console/citizens/file", data={"id_number": id_number, "reason": reason, "csrf_token": token})


def test_citizen_file_is_found_by_a_posted_id_number_with_a_reason_that_the_trail_shows(app, ctx, caplog):
    id_number = new_id_number()
    citizen = gen_citizen("李四", id_number)
    client = staff_client(app)
    with caplog.at_level(logging.DEBUG):
        response = _lookup(client, id_number, "信用修复审核")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "李四 的信用档案" in html
    assert citizen.id_masked in html
    assert id_number not in html
    assert id_number not in caplog.text
    assert "信用修复审核" in html.split('data-testid="audit-trail"')[1]
    assert "<td>staff01</td>" in html.split('data-testid="audit-trail"')[1]  # the staff member, by name
    assert str(db.session.get(Score, citizen.id).total) in html


def test_citizen_lookup_needs_a_reason_and_a_known_number(app, ctx):
    client = staff_client(app)
    id_number = new_id_number()
    missing = _lookup(client, id_number, "")
    assert missing.status_code == 422
    html = missing.get_data(as_text=True)
    assert 'data-field="reason"' in html
    assert id_number not in html
    unknown = _lookup(client, id_number, "窗口业务办理")
    assert unknown.status_code == 404
    assert "未找到该身份证号码对应的居民" in unknown.get_data(as_text=True)


def test_score_distribution_chart_counts_every_scored_citizen_in_its_band_and_level(app, ctx):
    for level in (1, 3, 3, 4):
        make_citizen(level=level)
    client = staff_client(app)
    today = city_today().isoformat()
    body = client.get(f"/console/api/charts/score-distribution?from={today}&to={today}").get_json()
    scores = db.session.execute(select(Score.total, Score.level)).all()
    assert body["citizens"] == len(scores) == 4
    for total, _ in scores:
        band = next(b for b in body["bands"] if b["from"] <= total <= b["to"])
        assert band["count"] >= 1
    assert sum(b["count"] for b in body["bands"]) == 4
    assert {entry["level"]: entry["count"] for entry in body["levels"]}[3] == 2
    assert body["bands"][-1]["to"] == 1000 and body["bands"][0]["from"] == 0
    yesterday = (city_today() - timedelta(days=1)).isoformat()
    before = client.get(f"/console/api/charts/score-distribution?from={yesterday}&to={yesterday}").get_json()
    assert before["citizens"] == 0  # nobody had a score before today


def test_chart_endpoints_validate_the_date_range(app, ctx):
    client = staff_client(app)
    bad = client.get("/console/api/charts/redemptions-by-day?from=2026-13-01")
    assert bad.status_code == 422
    assert bad.get_json()["errors"]["from"] == ["日期格式应为 YYYY-MM-DD。"]
    reversed_range = client.get("/console/api/charts/redemptions-by-day?from=2026-05-02&to=2026-05-01")
    assert reversed_range.status_code == 422
    assert "起始日期不能晚于结束日期" in reversed_range.get_json()["message"]
    assert client.get("/console/api/charts/nope").status_code == 404
    for name in ("levels-monthly", "redemptions-by-scene", "redemptions-by-day", "records-by-department"):
        assert client.get(f"/console/api/charts/{name}").status_code == 200, name


def test_records_by_department_and_week_counts_what_a_department_pushed(app, ctx):
    department, _, _ = desk_account("SX_AMR")
    id_number = new_id_number()
    gen_citizen("王五", id_number)
    rows = [{"external_id": f"A-{n}", "id_number": id_number, "type_code": "LA_PENALTY_GENERAL",
             "occurred_at": "2026-01-0" + str(n)} for n in range(1, 4)]
    assert records.ingest(department, rows).accepted == 3
    client = staff_client(app)
    body = client.get("/console/api/charts/records-by-department").get_json()
    amr = next(d for d in body["departments"] if d["code"] == "SX_AMR")
    assert sum(amr["counts"]) == 3 and amr["counts"][-1] == 3


def test_records_count_in_the_city_week_they_were_pushed_in(app, ctx):
    """Weeks run Monday to Sunday in 绍兴's time: a record pushed at 23:30 on a Sunday there (15:30 UTC) belongs to
    that week, one pushed an hour later to the next."""
    department, _, _ = desk_account("SX_AMR")
    id_number = new_id_number()
    gen_citizen("王五", id_number)

    def push(prefix: str, count: int) -> None:
        rows = [{"external_id": f"{prefix}-{n}", "id_number": id_number, "type_code": "LA_PENALTY_GENERAL",
                 "occurred_at": "2026-11-02"} for n in range(count)]
        assert records.ingest(department, rows).accepted == count

    with time_machine.travel(datetime(2026, 11, 29, 15, 30, tzinfo=UTC)):
        push("SUN", 1)
    with time_machine.travel(datetime(2026, 11, 29, 16, 30, tzinfo=UTC)):
        push("MON", 2)
    body = staff_client(app).get("/console/api/charts/records-by-department?from=2026-11-23&to=2026-12-06")
    assert body.status_code == 200, body.get_json()
    chart = body.get_json()
    assert chart["weeks"] == ["2026-11-23", "2026-11-30"]
    amr = next(d for d in chart["departments"] if d["code"] == "SX_AMR")
    assert amr["counts"] == [1, 2]


def test_an_offer_is_created_from_the_form_and_bad_input_is_shown_next_to_the_field(app, ctx):
    merchant, _, _ = make_merchant()
    client = staff_client(app)
    token = page_token(client, "/console/offers/new")
    bad = client.post("/console/offers", data={"csrf_token": token, "merchant_id": merchant.ref, "scene": "you",
                                               "title": "", "min_level": "3", "quota": "-5"})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'data-field="title"' in html and 'data-field="quota"' in html
    wrong_scene = client.post("/console/offers", data={"csrf_token": token, "merchant_id": merchant.ref,
                                                       "scene": "gou", "title": "购物满减", "min_level": "3"})
    assert wrong_scene.status_code == 422
    assert "商户未加入该场景" in wrong_scene.get_data(as_text=True)
    good = client.post("/console/offers", data={"csrf_token": token, "merchant_id": merchant.ref, "scene": "you",
                                                "title": "景区门票8折", "min_level": "4", "limit_per_day": "1"},
                       follow_redirects=True)
    assert good.status_code == 200
    assert "景区门票8折" in good.get_data(as_text=True)
    found = catalog.list_offers(1, 10, merchant_ref=merchant.ref)
    offers, total = found.items, found.total
    assert total == 1 and offers[0].min_level == 4 and offers[0].limit_per_day == 1


def test_an_admin_issues_a_terminal_key_shown_once_and_it_verifies(app, ctx):
    from benefits.verification import authenticate_terminal

    merchant, _, _ = make_merchant()
    admin = staff_client(app, "admin01", "admin")
    token = page_token(admin, f"/console/merchants/{merchant.ref}")
    issued = admin.post(f"/console/merchants/{merchant.ref}/terminals", data={"csrf_token": token,
                                                                               "name": "东门收银"})
    assert issued.status_code == 201
    html = issued.get_data(as_text=True)
    key = html.split('data-testid="terminal-key">')[1].split("<")[0]
    info = authenticate_terminal(key)
    assert info is not None and info.name == "东门收银"
    assert key not in admin.get(f"/console/merchants/{merchant.ref}").get_data(as_text=True)
    empty = admin.post(f"/console/merchants/{merchant.ref}/terminals", data={"csrf_token": token, "name": ""})
    assert empty.status_code == 422 and 'data-field="name"' in empty.get_data(as_text=True)


def _csv(*lines: str) -> io.BytesIO:
    return io.BytesIO(("\n".join(lines) + "\n").encode("utf-8-sig"))


def test_a_department_uploads_a_csv_and_sees_the_bad_row_in_its_batch(app, ctx):
    client, department, _ = desk_client(app, "SX_AMR")
    id_number = new_id_number()
    gen_citizen("赵六", id_number)
    token = page_token(client, "/console/desk/upload")
    data = {"csrf_token": token, "upload_id": "test-upload-1",
            "file": (_csv("external_id,id_number,type_code,occurred_at",
                          f"D-1,{id_number},LA_PENALTY_GENERAL,2026-03-01",
                          f"D-2,{id_number},LA_CRIMINAL,2026-03-02"), "records.csv")}
    response = client.post("/console/desk/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    batch_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="accepted">1<' in batch_page
    assert 'data-testid="rejected">1<' in batch_page
    assert "本部门无权报送该类型的记录" in batch_page and "D-2" in batch_page
    assert id_number not in batch_page
    progress = client.get("/console/api/desk/upload-progress/test-upload-1").get_json()
    assert progress == {"processed": 2, "total": 2, "batch": response.headers["Location"].rsplit("/", 1)[1],
                        "done": True}
    listing = client.get("/console/desk/?q=D-").get_data(as_text=True)
    assert "D-1" in listing and "D-2" not in listing


def test_upload_refuses_files_it_cannot_read_with_the_reason_next_to_the_field(app, ctx):
    client, _, _ = desk_client(app, "SX_AMR")
    token = page_token(client, "/console/desk/upload")
    cases = [
        (io.BytesIO(b""), "empty.csv", "文件为空"),
        (io.BytesIO("external_id,姓名\n1,张三\n".encode("gbk")), "gbk.csv", "UTF-8"),
        (_csv("external_id,type_code", "x,LA_PENALTY_GENERAL"), "cols.csv", "缺少"),
        (_csv("a"), "records.txt", "只能上传 .csv 文件"),
    ]
    for payload, name, message in cases:
        response = client.post("/console/desk/upload", data={"csrf_token": token, "file": (payload, name)},
                               content_type="multipart/form-data")
        assert response.status_code == 422, name
        html = response.get_data(as_text=True)
        assert 'data-field="file"' in html and message in html, name


def test_a_department_sees_only_its_own_records_and_batches(app, ctx):
    amr_client, amr, _ = desk_client(app, "SX_AMR")
    tax, _, tax_user = desk_account("SX_TAX", types=("LA_PENALTY_GENERAL",))
    id_number = new_id_number()
    gen_citizen("钱七", id_number)
    row = {"id_number": id_number, "type_code": "LA_PENALTY_GENERAL", "occurred_at": "2026-02-01"}
    records.ingest(tax, [{"external_id": "TAX-SECRET-1", **row}])
    from app.records import imports

    tax_batch = imports.record_api_batch(tax, 1, records.ingest(tax, [{"external_id": "TAX-SECRET-2", **row}]))
    assert "TAX-SECRET" not in amr_client.get("/console/desk/?q=TAX").get_data(as_text=True)
    assert amr_client.get(f"/console/desk/batches/{tax_batch.ref}").status_code == 404
    assert "TAX" not in amr_client.get("/console/desk/batches").get_data(as_text=True).split("<main")[1]
    tax_client = app.test_client()
    login(tax_client, tax_user.username, DESK_PASSWORD)
    assert "TAX-SECRET-1" in tax_client.get("/console/desk/?q=TAX").get_data(as_text=True)
    assert tax_client.get(f"/console/desk/batches/{tax_batch.ref}").status_code == 200


def test_api_batches_appear_in_the_desks_batch_history(app, ctx, client):
    _, key, _ = desk_account("SX_AMR")
    id_number = new_id_number()
    gen_citizen("孙八", id_number)
    response = client.post("/api/v1/records/batch", headers={"Authorization": f"Bearer {key}"}, json={"records": [
        {"external_id": "API-1", "id_number": id_number, "type_code": "LA_PENALTY_GENERAL",
         "occurred_at": "2026-02-01"},
        {"external_id": "API-2", "id_number": "110101199003070000", "type_code": "LA_PENALTY_GENERAL",
         "occurred_at": "2026-02-01"}]})
    assert response.status_code == 200
    desk = app.test_client()
    login(desk, "sx_amr", DESK_PASSWORD)
    history = desk.get("/console/desk/batches").get_data(as_text=True)
    assert "接口" in history
    from app.records.models import ImportBatch

    batch = db.session.scalar(select(ImportBatch))
    assert (batch.source, batch.accepted, batch.rejected_count) == ("api", 1, 1)
    assert "110101199003070000" not in str(batch.rejected)


def test_cli_creates_a_department_user_who_can_sign_in(app, ctx, runner):
    desk_account("SX_COURT")
    result = runner.invoke(args=["departments", "create-user", "SX_COURT", "court.clerk",
                                 "--password", "long-enough-pw", "--display-name", "法院 王"])
    assert result.exit_code == 0, result.output
    assert login(app.test_client(), "court.clerk", "long-enough-pw").status_code == 302
    again = runner.invoke(args=["departments", "create-user", "SX_COURT", "court.clerk", "--password",
                                "long-enough-pw"])
    assert again.exit_code != 0 and "already taken" in again.output
    unknown = runner.invoke(args=["departments", "create-user", "NOPE", "x", "--password", "long-enough-pw"])
    assert unknown.exit_code != 0 and "unknown department" in unknown.output


def test_audit_page_links_and_verifies_the_chain(app, ctx):
    citizen_id = new_id_number()
    gen_citizen("周九", citizen_id)
    client = staff_client(app)
    token = page_token(client, "/console/audit")
    response = client.post("/console/audit", data={"csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "哈希链完整" in html
    linked = db.session.scalar(select(func.count()).select_from(AuditEntry))
    assert linked > 0 and f"已校验 {linked} 条" in html


def test_other_staff_pages_render_in_chinese(app, ctx):
    make_merchant()
    desk_account("SX_AMR")
    admin = staff_client(app, "admin01", "admin")
    for path, text in (("/console/merchants", "信用惠民联盟商户"), ("/console/offers", "信易+ 权益"),
                       ("/console/scenes", "信易游"), ("/console/partners", "互认城市"),
                       ("/console/departments", "SX_AMR"), ("/console/audit", "哈希链")):
        response = admin.get(path)
        assert response.status_code == 200, path
        assert text in response.get_data(as_text=True), path


def test_an_admin_sets_a_partners_api_address_and_a_bad_key_address_is_shown_next_to_its_field(app, ctx):
    from app.partners import service as partners

    partners.seed_known_partners()
    db.session.commit()
    client = staff_client(app, "admin01", role="admin")
    token = page_token(client, "/console/partners")
    bad = client.post("/console/partners/keys", data={"csrf_token": token, "city_code": "330100",
                                                       "jwks_url": "not a url"})
    assert bad.status_code == 422
    assert 'data-field="jwks_url"' in bad.get_data(as_text=True)
    good = client.post("/console/partners/keys", data={"csrf_token": token, "city_code": "330100",
                                                        "api_base_url": "https://hz.example.gov.cn/partner/v1"},
                       follow_redirects=True)
    assert good.status_code == 200 and "已更新公钥与接口地址" in good.get_data(as_text=True)
    assert partners.get_partner("330100").api_base_url == "https://hz.example.gov.cn/partner/v1"
    staff = staff_client(app, "staff09")
    refused = staff.post("/console/partners/keys", data={"csrf_token": page_token(staff, "/console/partners"),
                                                          "city_code": "330100", "api_base_url": "https://x.cn/p"})
    assert refused.status_code == 403


def test_an_admin_changes_the_record_types_a_department_may_push_and_its_key_follows(app, ctx):
    from app.auth import service as auth
    from tests.factories import gen_department

    department, key = gen_department("SX_TEST", ["LA_PENALTY_GENERAL"])
    db.session.commit()
    client = staff_client(app, "admin02", role="admin")
    token = page_token(client, "/console/departments")
    unknown = client.post("/console/departments/SX_TEST/record-types",
                          data={"csrf_token": token, "record_types": ["NOT_A_TYPE"]}, follow_redirects=True)
    assert "目录中没有：NOT_A_TYPE" in unknown.get_data(as_text=True)
    changed = client.post("/console/departments/SX_TEST/record-types", follow_redirects=True,
                          data={"csrf_token": token, "record_types": ["LA_PENALTY_GENERAL", "LA_PENALTY_SERIOUS"]})
    assert "可报送的记录类型已更新（2 种）" in changed.get_data(as_text=True)
    assert auth.get_department("SX_TEST").record_types == ["LA_PENALTY_GENERAL", "LA_PENALTY_SERIOUS"]
    id_number = new_id_number()
    gen_citizen("王五", id_number)
    pushed = app.test_client().post("/api/v1/records/batch", headers={"Authorization": f"Bearer {key}"}, json={
        "records": [{"external_id": "T-1", "id_number": id_number, "type_code": "LA_PENALTY_SERIOUS",
                     "occurred_at": "2026-01-01"}]})
    assert pushed.status_code == 200 and pushed.get_json()["accepted"] == 1, pushed.get_json()
