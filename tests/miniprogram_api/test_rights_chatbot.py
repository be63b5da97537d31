"""The chatbot's 异议 / 修复 answers list the follower's own cases with their deadlines and decisions."""

from tests.app.rights.conftest import Rights
from tests.miniprogram_api.conftest import OfficialAccount


def test_objection_and_repair_answers_list_the_followers_cases(app, client, wechat):
    from app.rights import calendar

    with app.app_context():
        calendar.seed(2026)
    rights = Rights(app, client)
    oa = OfficialAccount(app, client)

    def say(text, person="wang-phone"):
        return oa.open_reply(oa.post_plain(oa.text_xml(person, text)))["Content"]

    # No case yet: the general guide with the mini-program link.
    assert "5 个工作日内答复" in say("异议") and 'data-miniprogram-path="pages/objections/index"' in say("异议")

    record = rights.report(summary="占道经营")
    case = rights.object(record).get_json()
    answer = say("我要异议")
    assert "您的信用异议" in answer and "一般程序行政处罚" in answer
    assert f"办理期限 {case['deadline']}" in answer and "还剩 5 个工作日" in answer

    rights.decide_objection(case["ref"], "upheld", "处罚决定已被撤销")
    answer = say("异议")
    assert "异议成立" in answer and "处罚决定已被撤销" in answer

    repair_record = rights.report(type_code="LA_PENALTY_SERIOUS", days_ago=400)
    repair = rights.repair(repair_record).get_json()
    answer = say("修复")
    assert "您的信用修复申请" in answer and f"办理期限 {repair['deadline']}" in answer
    assert "还剩 3 个工作日" in answer

    # A stranger gets the guide, never somebody else's cases.
    stranger = say("异议", person="stranger")
    assert "5 个工作日内答复" in stranger and "一般程序行政处罚" not in stranger
