"""GET /mp/v1/client-settings: what the apps read instead of hard-coding it, without signing in."""

from app.citizens.models import CONSENT_KINDS


def test_client_settings_come_from_configuration(app, client):
    app.config["WECHAT_TEMPLATE_CASE_RESULT"], previous = "tpl-from-config", app.config["WECHAT_TEMPLATE_CASE_RESULT"]
    try:
        response = client.get("/mp/v1/client-settings")
    finally:
        app.config["WECHAT_TEMPLATE_CASE_RESULT"] = previous
    assert response.status_code == 200
    settings = response.get_json()
    templates = {t["kind"]: t["template_id"] for t in settings["subscription_templates"]}
    assert templates["case_result"] == "tpl-from-config"
    assert templates["record_notice"] == app.config["WECHAT_TEMPLATE_RECORD_NOTICE"]
    assert [c["kind"] for c in settings["consents"]] == list(CONSENT_KINDS)
    scoring = settings["consents"][0]
    assert scoring["version"] and "信用分" in scoring["text"] and scoring["name"] == "信用评分授权"
    assert settings["evidence"]["max_files"] == app.config["EVIDENCE_MAX_FILES"]
    assert settings["evidence"]["max_bytes"] == app.config["EVIDENCE_MAX_BYTES"]
    assert settings["evidence"]["content_types"] == ["image/jpeg", "image/png"]
    assert settings["credit_code_ttl_seconds"] == app.config["CREDIT_CODE_TTL_SECONDS"]


def test_a_template_left_unconfigured_is_not_offered(app, client):
    app.config["WECHAT_TEMPLATE_REMINDER"], previous = "", app.config["WECHAT_TEMPLATE_REMINDER"]
    try:
        kinds = [t["kind"] for t in client.get("/mp/v1/client-settings").get_json()["subscription_templates"]]
    finally:
        app.config["WECHAT_TEMPLATE_REMINDER"] = previous
    assert "reminder" not in kinds and "record_notice" in kinds
