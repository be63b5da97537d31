"""The message centre: 三书同达 notices when an adverse record lands, unread counts, mark read; and the WeChat
subscription echo through the stand-in server, retried when WeChat fails, never losing the message."""

from datetime import timedelta

from app.extensions import db
from app.rights import messages
from app.rights.models import WeChatEcho
from app.timeutil import utcnow
from tests.app.rights.conftest import Rights


def _rights(app, client):
    from app.rights import calendar

    with app.app_context():
        calendar.seed(2026)
    return Rights(app, client)


def test_three_documents_notice_when_an_adverse_record_lands(app, client, wechat):
    rights = _rights(app, client)
    assert rights.messages() == []
    rights.report(type_code="LA_PENALTY_GENERAL", days_ago=10, summary="占道经营")
    rights.report(type_code="CM_KEPT_ENV", days_ago=10)  # a kept commitment is not adverse: no notice
    rights.report(type_code="LA_CRIMINAL", days_ago=10)
    items = rights.messages()
    assert [m["kind"] for m in items] == ["record_notice", "record_notice"]
    criminal, penalty = items
    assert penalty["title"] == "信用信息告知：一般程序行政处罚"
    body = penalty["body"]
    assert "绍兴市市场监督管理局" in body and "占道经营" in body
    assert "扣 30 分" in body and "5 个工作日" in body and "异议" in body
    assert "信用修复告知书" in body and "3 个工作日" in body
    assert "不可申请信用修复" in criminal["body"]
    # A resend of the same record is not a new record: no second notice.
    assert client.get("/mp/v1/me/messages/unread-count", headers=rights.citizen).get_json() == {"unread": 2}


def test_unread_count_and_mark_read(app, client, wechat):
    rights = _rights(app, client)
    rights.report(days_ago=10)
    rights.report(type_code="LA_PENALTY_SERIOUS", days_ago=10)
    page = client.get("/mp/v1/me/messages", headers=rights.citizen).get_json()
    assert page["total"] == 2 and page["unread"] == 2
    first = page["items"][0]["ref"]
    response = client.post("/mp/v1/me/messages/read", headers=rights.citizen, json={"refs": [first]})
    assert response.get_json() == {"marked": 1, "unread": 1}
    assert client.get(f"/mp/v1/me/messages/{first}", headers=rights.citizen).get_json()["read"] is True
    assert client.get("/mp/v1/me/messages?unread_only=true", headers=rights.citizen).get_json()["total"] == 1
    assert client.post("/mp/v1/me/messages/read", headers=rights.citizen, json={}).get_json()["unread"] == 0
    chen = rights.bind("chen")
    response = client.get(f"/mp/v1/me/messages/{first}", headers=chen)
    assert response.status_code == 404 and response.get_json()["code"] == "message_not_found"
    assert client.get("/mp/v1/me/messages").status_code == 401


def test_wechat_echo_reaches_the_standin_for_subscribers_only(app, client, wechat):
    rights = _rights(app, client)
    response = client.post("/mp/v1/me/message-subscriptions", headers=rights.citizen,
                           json={"templates": ["case_result"]})
    assert response.get_json() == {"templates": ["case_result"]}
    bad = client.post("/mp/v1/me/message-subscriptions", headers=rights.citizen, json={"templates": ["spam"]})
    assert bad.status_code == 422

    rights.report(days_ago=10)  # a record notice: not subscribed to that template, no echo
    record = rights.report(days_ago=120)
    case = rights.object(record).get_json()  # objection_received: subscribed, echoed right after the request
    assert len(wechat.subscribe_messages) == 1
    sent = wechat.subscribe_messages[0]
    assert sent["template_id"] == app.config["WECHAT_TEMPLATE_CASE_RESULT"]
    assert sent["data"]["thing1"]["value"] == "您的信用异议已受理"
    assert len(sent["data"]["thing2"]["value"]) <= 20
    assert sent["page"] == f"/pages/rights/case?ref={case['ref']}"
    assert sent["touser"].endswith("wang-phone")
    # The decision, made by staff, is echoed as soon as it is made too.
    rights.decide_objection(case["ref"], "upheld")
    assert [m["data"]["thing1"]["value"] for m in wechat.subscribe_messages][1].startswith("信用异议处理结果")


def test_a_failed_echo_is_retried_and_the_message_stays(app, client, wechat):
    rights = _rights(app, client)
    client.post("/mp/v1/me/message-subscriptions", headers=rights.citizen, json={"templates": ["case_result"]})
    wechat.fail_subscribe_sends = 1
    record = rights.report(days_ago=120)
    rights.object(record)
    assert wechat.subscribe_messages == []
    assert rights.messages()[0]["kind"] == "objection_received"  # the message centre has it anyway
    with app.app_context():
        echo = db.session.query(WeChatEcho).one()
        assert (echo.state, echo.attempts) == ("pending", 1) and echo.last_error.startswith("-1")
        assert messages.deliver_pending()["sent"] == 0  # not due yet: back-off
        assert messages.deliver_pending(now=utcnow() + timedelta(minutes=2))["sent"] == 1
        db.session.refresh(echo)
        assert (echo.state, echo.attempts) == ("sent", 2)
    assert len(wechat.subscribe_messages) == 1


def test_a_user_who_used_up_the_subscription_is_not_retried(app, client, wechat):
    rights = _rights(app, client)
    unsub = rights.bind("chen", code="unsub-chen")
    client.post("/mp/v1/me/message-subscriptions", headers=unsub, json={"templates": ["case_result"]})
    record = rights.report(person="chen", days_ago=120)
    assert rights.object(record, headers=unsub).status_code == 201
    with app.app_context():
        echo = db.session.query(WeChatEcho).one()
        assert echo.state == "failed" and echo.last_error.startswith("43101")
    assert rights.messages(unsub)[0]["kind"] == "objection_received"
