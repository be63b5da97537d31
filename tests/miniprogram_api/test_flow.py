"""A newcomer's path through the mini-program: WeChat login, binding, then their own score and records."""

from tests.factories import staff_headers
from tests.miniprogram_api.conftest import auth, login


def test_login_bind_score_records_history_hints_audit(app, client, logged_in, city):
    city["report"]("wang", [
        {"type_code": "PC_EVAL", "grade": "良好", "days_ago": 40},
        {"type_code": "LA_PENALTY_GENERAL", "days_ago": 120, "summary": "占道经营"},
        {"type_code": "CM_KEPT_ENV", "days_ago": 60},
        {"type_code": "HN_VOLUNTEER", "quantity": 30, "days_ago": 10},
    ])
    session = logged_in("wang-phone")
    assert session["bound"] is False and session["token_type"] == "Bearer"
    headers = auth(session)

    # Not bound yet: the citizen's pages say so.
    response = client.get("/mp/v1/me/score", headers=headers)
    assert response.status_code == 403 and response.get_json()["code"] == "not_bound"

    who = city["people"]["wang"]
    response = client.post("/mp/v1/binding", headers=headers,
                           json={"name": "王丽", "id_number": who["id_number"], "phone": "13712345678"})
    assert response.status_code == 201, response.get_json()
    profile = response.get_json()
    assert profile["masked_name"] == "王*"
    assert profile["masked_id_number"] == who["id_number"][:4] + "*" * 10 + who["id_number"][-4:]
    assert profile["masked_phone"] == "137****5678"
    assert who["id_number"] not in response.get_data(as_text=True)

    assert client.get("/mp/v1/me", headers=headers).get_json() == profile
    assert login(client, "wang-phone")["bound"] is True  # the same WeChat user, again

    score = client.get("/mp/v1/me/score", headers=headers).get_json()
    # 良好 340; 300 - 30 penalty; 75 + 15 kept commitment; 3 x 5 volunteer points.
    assert (score["total"], score["level_name"]) == (340 + 270 + 90 + 15, "良好")
    assert [(d["name"], d["points"], d["cap"]) for d in score["dimensions"]] == [
        ("公共信用", 340, 400), ("遵纪守法", 270, 300), ("履约践诺", 90, 150), ("荣誉慈善", 15, 150)]
    assert score["rules_version"] == "v1" and score["computed_at"].endswith("+08:00")

    records = client.get("/mp/v1/me/records", headers=headers).get_json()
    assert records["total"] == 4 and records["page"] == 1
    by_type = {item["type_code"]: item for item in records["items"]}
    penalty = by_type["LA_PENALTY_GENERAL"]
    assert (penalty["name"], penalty["points"], penalty["counted"], penalty["status_name"]) == (
        "一般程序行政处罚", -30, True, "有效")
    assert penalty["counts_until"] and penalty["department"] == "绍兴市综合报送"
    assert [item["occurred_at"] for item in records["items"]] == sorted(
        (item["occurred_at"] for item in records["items"]), reverse=True)

    history = client.get("/mp/v1/me/score/history", headers=headers).get_json()
    assert history["points"][-1]["total"] == score["total"]
    assert {"date", "total", "public", "law", "commitment", "honour"} <= set(history["points"][0])

    hints = client.get("/mp/v1/me/hints", headers=headers).get_json()["hints"]
    assert any(hint["kind"] == "make_commitment" for hint in hints)
    assert all(hint["message"] for hint in hints)

    # A staff member looks at her score; she sees who, when and why.
    with app.app_context():
        staff = staff_headers(client)
    assert client.get(f"/api/v1/citizens/{who['ref']}/score", query_string={"reason": "窗口咨询"},
                      headers=staff).status_code == 200
    trail = client.get("/mp/v1/me/audit", headers=headers).get_json()
    assert trail["items"][0]["action_name"] == "查看信用分" and trail["items"][0]["reason"] == "窗口咨询"
    assert trail["items"][0]["who_type"] == "staff"
    assert {"绑定微信", "报送信用记录"} <= {item["action_name"] for item in trail["items"]}


def test_logs_never_carry_id_numbers_phones_codes_or_tokens(app, client, logged_in, city, official_account, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    session = logged_in("wang-secret-code")
    who = city["people"]["wang"]
    client.post("/mp/v1/binding", headers=auth(session),
                json={"name": "王莉", "id_number": who["id_number"], "phone": "13712345678"})  # a wrong name
    client.post("/mp/v1/binding", headers=auth(session),
                json={"name": "王丽", "id_number": who["id_number"], "phone": "13712345678"})
    client.get("/mp/v1/me/score", headers=auth(session))
    client.post("/mp/v1/session/refresh", json={"refresh_token": session["refresh_token"]})
    official_account.post_secure(official_account.text_xml("wang-secret-code", "查分"))
    client.post("/mp/v1/session", json={"code": "err-40029"})
    logged = caplog.text + "\n".join(str(getattr(record, "fields", "")) for record in caplog.records)
    assert "/mp/v1/binding" in logged  # the requests were logged, just not what they carried
    for secret in (who["id_number"], "13712345678", "wang-secret-code", session["access_token"],
                   session["refresh_token"], app.config["WECHAT_MP_SECRET"], app.config["WECHAT_OA_SECRET"]):
        assert secret not in logged
