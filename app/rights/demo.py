"""The demo city's objections and repairs in every state (every ``disputed`` record backed by an open objection,
every ``repaired`` one by an approved repair), dated over the last months on the working-day calendar, and the
entry of demo-credentials.json telling a newcomer how to try both flows."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from flask import g
from sqlalchemy import select

from app.audit.service import Actor
from app.extensions import db
from app.records import service as records
from app.records.models import Department, Record
from app.rights import calendar, cases, messages, repairs
from app.rights.models import CaseEvent, RightsCase
from app.scoring import service as scoring
from app.timeutil import CITY_TZ

FINDINGS = ("经核查，原始执法文书记载与报送信息一致。", "经核查，报送时当事人身份信息录入有误。",
            "经核查，该处罚决定已被行政复议撤销。", "经核查，处罚日期登记有误，应以决定书为准。")


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=CITY_TZ).astimezone(UTC)


def _back(today: date, working_days: int) -> date:
    day, counted = today, 0
    while counted < working_days:
        day -= timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
    return day


def _event(case: RightsCase, day: date, hour: int, actor: tuple[str, str], action: str, note: str) -> None:
    db.session.add(CaseEvent(case_id=case.id, at=_at(day, hour), actor_type=actor[0], actor_id=actor[1],
                             action=action, note=note))


def _case(kind: str, record: Record, received_on: date, reason: str, reason_code: str | None = None) -> RightsCase:
    deadline = cases.deadline_for(kind, received_on)
    case = RightsCase(kind=kind, state="received" if kind == "objection" else "applied",
                      citizen_id=record.citizen_id,
                      record_id=record.id, department_id=record.department_id, open_record_id=record.id,
                      reason_code=reason_code, reason_text=reason, received_on=received_on,
                      received_at=_at(received_on, 9), deadline=deadline.date,
                      deadline_provisional=deadline.provisional)
    if kind == "repair":
        case.commitment_version, case.commitment_text = repairs.commitment_text(record)
    db.session.add(case)
    db.session.flush()
    citizen = ("citizen", "demo")
    if kind == "objection":
        _event(case, received_on, 9, citizen, "received", f"提出异议：{cases.OBJECTION_REASONS[reason_code]}。{reason}")
    else:
        _event(case, received_on, 9, citizen, "applied",
               f"申请信用修复并签署承诺书（{case.commitment_version}）。{reason}")
    return case


def _decide(case: RightsCase, state: str, day: date, reason: str, record: Record, department: str) -> None:
    case.state, case.open_record_id, case.decision_reason = state, None, reason
    case.decided_at, case.decided_on, case.decided_by = _at(day, 15), day, "xinyong01"
    _event(case, day, 15, ("staff", "xinyong01") if state != "withdrawn" else ("citizen", "demo"), state,
           reason if state != "withdrawn" else "本人撤回异议。")
    kind_name = cases.KIND_NAMES[case.kind]
    if state != "withdrawn":
        messages.post_message(case.citizen_id, f"{case.kind}_decided",
                              f"{kind_name}处理结果：{cases.STATE_NAMES[state]}",
                              f"您对记录“{cases.record_label(record)}”的{kind_name}申请已处理："
                              f"{cases.STATE_NAMES[state]}。理由：{reason}",
                              link=f"/pages/rights/case?ref={case.ref}", related_ref=case.ref)


def seed_cases(rng: random.Random, today: date, disputed: list[int], repaired: list[int],
               plain_ids: dict[int, tuple[str, str]]) -> dict:
    """Cases for the records the demo picked as disputed / repaired, plus decided and open ones of every state."""
    g.actor = Actor("system", "demo-seed")
    calendar.seed()
    rules = scoring.rules()
    departments = {d.id: d.name for d in db.session.scalars(select(Department))}
    counts: dict[str, int] = {}

    def count(kind: str, state: str) -> None:
        counts[f"{kind}:{state}"] = counts.get(f"{kind}:{state}", 0) + 1

    # Open objections: every disputed record has one (some answered by the department, a few overdue).
    for record_id in disputed:
        record = db.session.get(Record, record_id)
        received = _back(today, rng.choice([0, 1, 2, 3, 4, 4, 6]))
        code = rng.choice(list(cases.OBJECTION_REASONS))
        # The record is disputed first, so that no open objection is ever left behind a record that is not.
        if not records.set_process_status(record, "disputed", reason="居民提出信用异议，记录暂停计分"):
            continue
        case = _case("objection", record, received, "该记录与事实不符，请核查。", code)
        if rng.random() < 0.4:
            answered = min(today, calendar.add_working_days(received, 2).date)
            case.state, case.department_finding = "answered", rng.choice(FINDINGS)
            case.department_answered_at = _at(answered, 11)
            _event(case, answered, 11, ("department", record.department.code), "answered", case.department_finding)
        count("objection", case.state)

    # Decided objections and repairs over the last months (one across 国庆: 29 Sep -> 12 Oct).
    candidates = list(db.session.scalars(select(Record).where(Record.status == "active").order_by(Record.id)))
    adverse = [r for r in candidates
               if rules.catalog[r.type_code].is_adverse and not rules.catalog[r.type_code].forces_l0]
    rng.shuffle(adverse)
    decided_days = [date(2026, 9, 29)] + [today - timedelta(days=rng.randint(8, 80)) for _ in range(40)]
    for received in decided_days[:min(len(decided_days), max(len(adverse) // 6, 1))]:
        if not adverse:
            break
        record = adverse.pop()
        received = received if calendar.is_working_day(received) else _back(received, 1)
        state = rng.choice(["upheld", "dismissed", "dismissed", "corrected", "withdrawn"])
        code = rng.choice(list(cases.OBJECTION_REASONS))
        case = _case("objection", record, received, "该记录与事实不符，请核查。", code)
        answered = calendar.add_working_days(received, 2).date
        case.department_finding = rng.choice(FINDINGS)
        case.department_answered_at = _at(answered, 11)
        _event(case, answered, 11, ("department", record.department.code), "answered", case.department_finding)
        decided = calendar.add_working_days(received, 5 if rng.random() < 0.9 else 6).date
        if state == "upheld":
            records.set_process_status(record, "disputed", reason="演示：异议期间暂停计分")
            records.set_process_status(record, "revoked", reason="演示：异议成立，撤销记录")
        elif state == "corrected":
            case.correction = {"summary": [record.summary, (record.summary or "") + "（已更正）"]}
            record.summary = ((record.summary or "") + "（已更正）")[:500]
        _decide(case, state, decided, {"upheld": "经部门核查，该记录确属错误，予以撤销。",
                                       "dismissed": "经部门核查，记录事实清楚、证据充分，异议不成立。",
                                       "corrected": "经部门核查，记录摘要有误，予以更正。",
                                       "withdrawn": ""}[state], record, departments[record.department_id])
        count("objection", state)

    # Approved repairs behind every repaired record (a repair commitment starts with each).
    for record_id in repaired:
        record = db.session.get(Record, record_id)
        if not records.set_process_status(record, "repaired", reason="演示：信用修复通过"):
            continue
        opens = repairs.repairable_from(record) or record.occurred_at
        received = max(opens, today - timedelta(days=rng.randint(5, 60)))
        received = min(received, _back(today, 3))
        case = _case("repair", record, received, "罚款已缴清，附缴款凭证。")
        _decide(case, "approved", calendar.add_working_days(received, rng.choice([1, 2, 3])).date,
                "已履行行政处罚决定，提交的缴款凭证真实有效，准予信用修复。", record, departments[record.department_id])
        repairs._start_repair_commitment(case, record)
        count("repair", "approved")

    # Open and rejected repairs on repairable records past their minimum display period.
    repairable = [r for r in adverse if r.status == "active" and (repairs.repairable_from(r) or today) <= today]
    for index, record in enumerate(repairable[:12]):
        if index % 3 == 2:
            received = today - timedelta(days=rng.randint(10, 40))
            received = received if calendar.is_working_day(received) else _back(received, 1)
            case = _case("repair", record, received, "已缴清罚款。")
            _decide(case, "rejected", calendar.add_working_days(received, 2).date,
                    "提交的缴款凭证金额与处罚决定不符，请补充完整后重新申请。", record,
                    departments[record.department_id])
            count("repair", "rejected")
        elif index % 3 == 0:
            case = _case("repair", record, _back(today, rng.choice([0, 1, 2, 4])), "罚款已缴清，附缴款凭证。")
            count("repair", "applied")
    db.session.commit()
    return {"cases": counts, **_showcase(today, plain_ids)}


def _showcase(today: date, plain_ids: dict[int, tuple[str, str]]) -> dict:
    """A citizen with a record to object to, and one with a penalty that can be repaired today."""
    rules = scoring.rules()
    busy = set(db.session.scalars(select(RightsCase.citizen_id)))
    objection = repair = None
    for record in db.session.scalars(select(Record).where(Record.status == "active").order_by(Record.id)):
        record_type = rules.catalog[record.type_code]
        if record.citizen_id in busy or not record_type.is_adverse or record_type.forces_l0:
            continue
        who = plain_ids.get(record.citizen_id)
        if who is None:
            continue
        entry = {"name": who[0], "id_number": who[1], "record_ref": record.ref, "record": cases.record_label(record)}
        opens = repairs.repairable_from(record)
        if repair is None and opens is not None and opens <= today and record.type_code == "LA_PENALTY_GENERAL":
            repair = entry
            busy.add(record.citizen_id)
        elif objection is None and record.type_code in ("LA_PENALTY_GENERAL", "LA_TAX_ARREARS"):
            objection = entry
            busy.add(record.citizen_id)
        if objection and repair:
            break
    return {"objection_citizen": objection, "repair_citizen": repair}


def credentials(payload: dict, seeded: dict) -> None:
    """The demo-credentials.json entry: who to log in as, and the curl steps of both flows."""
    base = payload.get("base_url", "http://127.0.0.1:5000")
    staff = payload.get("staff", {})
    payload["rights"] = {
        "note": "信用异议与信用修复：用下面的居民登录小程序（任意 code）并绑定，然后按步骤操作。"
                "证明材料为 JPG/PNG 图片，multipart/form-data 上传。",
        "cases_seeded": seeded["cases"],
        "objection_citizen": seeded["objection_citizen"],
        "repair_citizen": seeded["repair_citizen"],
        "objection_flow": [
            f"POST {base}/mp/v1/session {{\"code\": \"demo-objector\"}} → access_token；POST {base}/mp/v1/binding "
            "（objection_citizen 的姓名与身份证号码）",
            f"GET {base}/mp/v1/me/score（记下分数）；GET {base}/mp/v1/me/messages（三书同达告知书）",
            f"curl -H 'Authorization: Bearer <token>' -F record=<record_ref> -F reason_code=wrong_facts "
            f"-F reason_text=处罚已撤销 -F evidence=@proof.jpg {base}/mp/v1/me/objections → 期限（5个工作日）",
            f"GET {base}/mp/v1/me/score（该记录暂停计分，分数立即回升）",
            f"部门：GET {base}/api/v1/departments/me/objections（部门密钥）；"
            f"POST …/departments/me/objections/<case>/answer {{\"finding\": \"…\"}}",
            f"信用中心：POST {base}/api/v1/auth/token（staff 账号）；"
            f"POST {base}/api/v1/rights/objections/<case>/decision {{\"decision\": \"upheld\", \"reason\": \"…\"}}",
            f"GET {base}/mp/v1/me/messages（处理结果）；flask wechat say 异议 --as demo-objector（公众号回复）",
        ],
        "repair_flow": [
            f"登录并绑定 repair_citizen；GET {base}/mp/v1/me/repairs/preview?record=<record_ref>（承诺书全文与版本）",
            f"curl -H 'Authorization: Bearer <token>' -F record=<record_ref> -F statement=罚款已缴清 "
            f"-F commitment_version=<version> -F commitment_accepted=true -F evidence=@paid.jpg "
            f"{base}/mp/v1/me/repairs",
            f"信用中心：POST {base}/api/v1/rights/repairs/<case>/decision "
            "{\"decision\": \"approved\", \"reason\": \"…\"}",
            f"GET {base}/mp/v1/me/score（分数回升）；GET {base}/mp/v1/me/cases/<case>（时间线）",
        ],
        "staff": {
            "queue": f"GET {base}/api/v1/rights/cases?state=open（按期限排序）",
            "alerts": f"GET {base}/api/v1/rights/alerts（flask rights deadlines 立即运行一次期限检查）",
            "stats": f"GET {base}/api/v1/rights/stats?from=2026-09-01&to=2026-12-31",
            "calendar": f"GET {base}/api/v1/rights/calendar?year=2026；"
                        f"GET {base}/api/v1/rights/calendar/deadline?start=2026-09-29&days=5（跨国庆）",
            "login_as": staff.get("username"),
        },
        "wechat_subscription_messages": "POST /mp/v1/me/message-subscriptions {\"templates\": [\"case_result\"]}"
                                        " 后，处理结果会通过替身服务器发送订阅消息："
                                        "GET <standin.api_base>standin/subscribe-messages",
    }
