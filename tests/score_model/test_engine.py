"""What a citizen's score is, and how it is explained, for the situations the rules name."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from score_model import RecordInput, compute_score, compute_totals

from .conftest import AS_OF, rec


def score(records, rules, as_of=AS_OF):
    result = compute_score(records, as_of, rules)
    # Every scenario also checks that the fast path agrees.
    assert compute_totals(records, as_of, rules) == result.totals
    return result


def by_ref(result):
    return {c.ref: c for c in result.contributions}


def hint_kinds(result):
    return [h.kind for h in result.hints]


# -- the baseline ------------------------------------------------------------------------------------------


def test_clean_adult_without_evaluation_scores_655_level_3(rules):
    result = score([], rules)
    assert result.total == 655
    assert result.dimensions == {"public": 280, "law": 300, "commitment": 75, "honour": 0}
    assert (result.level, result.level_name, result.restricted) == (3, "良好", False)
    assert result.rules_version == "v1"
    assert result.contributions == []
    assert "evaluation_missing" in hint_kinds(result)
    assert "make_commitment" in hint_kinds(result)


@pytest.mark.parametrize(
    ("grade", "public", "level"),
    [("优秀", 400, 4), ("良好", 340, 3), ("中等", 280, 3), ("较差", 200, 2), ("差", 100, 1)],
)
def test_evaluation_grade_sets_public_dimension(rules, grade, public, level):
    result = score([rec("PC_EVAL", grade=grade, ref="e1")], rules)
    assert result.dimensions["public"] == public
    assert result.total == public + 375
    assert result.level == level
    c = by_ref(result)["e1"]
    assert (c.counted, c.points, c.dimension) == (True, public - 280, "public")
    assert "evaluation_missing" not in hint_kinds(result)


@pytest.mark.parametrize(
    ("grade", "points", "total", "level", "name"),
    [
        ("差", 84, 559, 1, "待提高"),
        ("差", 85, 560, 2, "一般"),
        ("较差", 64, 639, 2, "一般"),
        ("较差", 65, 640, 3, "良好"),
        ("较差", 144, 719, 3, "良好"),
        ("较差", 145, 720, 4, "优秀"),
        ("优秀", 24, 799, 4, "优秀"),
        ("优秀", 25, 800, 5, "极好"),
    ],
)
def test_level_cut_off_boundaries(point_rules, grade, points, total, level, name):
    records = [rec("PC_EVAL", grade=grade), rec("HN_TEST_POINT", quantity=points)]
    result = score(records, point_rules)
    assert (result.total, result.level, result.level_name) == (total, level, name)


# -- dimension bounds ------------------------------------------------------------------------------------


def test_law_dimension_floors_at_zero(rules):
    records = [
        rec("LA_CRIMINAL", ref="a"),
        rec("LA_PENALTY_SERIOUS", ref="b"),
        rec("LA_PENALTY_SERIOUS", ref="c"),
    ]
    result = score(records, rules)
    assert result.dimensions["law"] == 0
    assert result.dimensions_unclamped["law"] == 300 - 200 - 80 - 80
    assert result.total == 280 + 0 + 75
    assert [c.points for c in result.contributions] == [-200, -80, -80]


def test_commitment_dimension_clamps_at_150(rules):
    kinds = ["CM_KEPT_ENV", "CM_KEPT_TRAFFIC", "CM_KEPT_PET", "CM_KEPT_TOURISM", "CM_KEPT_VILLAGE", "CM_KEPT_ENV"]
    result = score([rec(k) for k in kinds], rules)
    assert result.dimensions["commitment"] == 150
    assert result.dimensions_unclamped["commitment"] == 75 + 6 * 15
    assert "make_commitment" not in hint_kinds(result)


def test_commitment_dimension_clamps_at_0(rules):
    records = [rec("CM_BROKEN"), rec("CM_BROKEN"), rec("CM_FALSE")]
    result = score(records, rules)
    assert result.dimensions["commitment"] == 0
    assert result.dimensions_unclamped["commitment"] == 75 - 30 - 30 - 50


def test_kept_and_broken_commitments_net_out(rules):
    result = score([rec("CM_KEPT_ENV"), rec("CM_KEPT_REPAIR"), rec("CM_BROKEN")], rules)
    assert result.dimensions["commitment"] == 75 + 15 + 10 - 30


# -- honours and sub-caps --------------------------------------------------------------------------------


def test_blood_donation_sub_cap(rules):
    records = [rec("HN_BLOOD_DONATION", ref=f"b{i}", days_ago=100 - i) for i in range(6)]
    result = score(records, rules)
    assert result.dimensions["honour"] == 40
    contributions = by_ref(result)
    # Handed out oldest first: the two latest donations find the sub-cap reached.
    assert [contributions[f"b{i}"].points for i in range(6)] == [10, 10, 10, 10, 0, 0]
    assert contributions["b5"].counted is False
    assert contributions["b5"].not_counted_reason == "sub_cap_reached"


def test_volunteer_hours_count_per_ten_hours_with_partial_last_record(rules):
    records = [
        rec("HN_VOLUNTEER", ref="v1", quantity=35, days_ago=300),  # 3 units = 15
        rec("HN_VOLUNTEER", ref="v2", quantity=45, days_ago=200),  # 4 units = 20
        rec("HN_VOLUNTEER", ref="v3", quantity=49, days_ago=100),  # 4 units = 20, only 15 left under the cap
        rec("HN_VOLUNTEER", ref="v4", quantity=9, days_ago=50),  # below one unit: 0
    ]
    result = score(records, rules)
    assert result.dimensions["honour"] == 50
    c = by_ref(result)
    assert [c[r].points for r in ("v1", "v2", "v3")] == [15, 20, 15]
    assert c["v3"].counted is True
    # Nothing to cap: a record below one unit counts for 0 points rather than being "capped".
    assert (c["v4"].counted, c["v4"].points) == (True, 0)
    more = score([*records, rec("HN_VOLUNTEER", ref="v5", quantity=10, days_ago=10)], rules)
    assert by_ref(more)["v5"].not_counted_reason == "sub_cap_reached"


def test_honour_sub_caps_then_dimension_cap(rules):
    records = [
        rec("HN_HONOUR_NATIONAL"),
        rec("HN_HONOUR_PROVINCIAL"),  # title sub-cap 100 already reached
        *[rec("HN_BLOOD_DONATION") for _ in range(5)],  # 40
        rec("HN_VOLUNTEER", quantity=200),  # 50
        *[rec("HN_DONATION") for _ in range(4)],  # 30
    ]
    result = score(records, rules)
    assert result.dimensions_unclamped["honour"] == 100 + 40 + 50 + 30
    assert result.dimensions["honour"] == 150


def test_quantity_is_ignored_for_types_without_unit(rules):
    result = score([rec("LA_PENALTY_GENERAL", quantity=5), rec("HN_DONATION", quantity=7)], rules)
    assert result.dimensions["law"] == 270
    assert result.dimensions["honour"] == 10


# -- which records count ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["disputed", "repaired", "revoked", "expired"])
def test_only_active_records_count(rules, status):
    result = score([rec("LA_PENALTY_SERIOUS", ref="p", status=status)], rules)
    assert result.total == 655
    c = by_ref(result)["p"]
    assert (c.counted, c.points, c.not_counted_reason) == (False, 0, f"status_{status}")


def test_unknown_status_never_counts(rules):
    result = score([rec("LA_PENALTY_SERIOUS", ref="p", status="pending")], rules)
    assert result.total == 655
    assert by_ref(result)["p"].not_counted_reason == "status_invalid"


def test_record_past_its_validity_does_not_count(rules):
    occurred = AS_OF - dt.timedelta(days=365)  # validity 365 days: stops counting on AS_OF
    result = score([rec("LA_PENALTY_GENERAL", ref="p", occurred=occurred)], rules)
    c = by_ref(result)["p"]
    assert (c.counted, c.not_counted_reason) == (False, "expired")
    assert c.counts_until == AS_OF
    assert result.dimensions["law"] == 300

    day_before = score([rec("LA_PENALTY_GENERAL", ref="p", occurred=occurred)], rules, as_of=AS_OF - dt.timedelta(1))
    c = by_ref(day_before)["p"]
    assert (c.counted, c.points, c.counts_until) == (True, -30, AS_OF)


def test_explicit_expiry_may_shorten_validity(rules):
    records = [rec("LA_JUDGMENT_DEBTOR", ref="short", days_ago=100, expires=AS_OF - dt.timedelta(days=1))]
    result = score(records, rules)
    c = by_ref(result)
    assert c["short"].not_counted_reason == "expired"
    assert c["short"].counts_until == AS_OF - dt.timedelta(days=1)
    assert result.restricted is False
    assert result.dimensions["law"] == 300


def test_explicit_expiry_never_lengthens_validity(rules):
    # SPEC §1: "A department may send an earlier expires_at (the record stops sooner) but never a later one: the
    # catalog is the ceiling." A 一般程序行政处罚 counts 365 days, whatever expiry a department sends.
    records = [
        rec("LA_PENALTY_GENERAL", ref="long", days_ago=500, expires=AS_OF + dt.timedelta(days=30)),
        rec("LA_PENALTY_SERIOUS", ref="decade", days_ago=100, expires=AS_OF + dt.timedelta(days=3650)),
    ]
    result = score(records, rules)
    c = by_ref(result)
    assert (c["long"].counted, c["long"].not_counted_reason) == (False, "expired")
    assert c["long"].counts_until == AS_OF - dt.timedelta(days=500 - 365)
    assert c["decade"].counted and c["decade"].counts_until == AS_OF + dt.timedelta(days=1095 - 100)
    assert result.dimensions["law"] == 220
    # Still counting the day before the catalog's end, gone on it.
    end = AS_OF + dt.timedelta(days=1095 - 100)
    assert score(records, rules, as_of=end - dt.timedelta(days=1)).dimensions["law"] == 220
    assert score(records, rules, as_of=end).dimensions["law"] == 300


def test_record_dated_in_the_future_does_not_count(rules):
    result = score([rec("LA_CRIMINAL", ref="f", days_ago=-3)], rules)
    assert by_ref(result)["f"].not_counted_reason == "not_yet_occurred"
    assert result.total == 655


def test_unknown_type_is_reported_not_fatal(rules):
    result = score([rec("XX_NOT_IN_CATALOG", ref="u"), rec("CM_KEPT_ENV", ref="k")], rules)
    c = by_ref(result)
    assert (c["u"].counted, c["u"].not_counted_reason, c["u"].dimension) == (False, "unknown_type", None)
    assert c["u"].counts_until is None
    assert result.total == 670


def test_contributions_follow_input_order(rules):
    records = [rec("HN_DONATION", ref="z"), rec("XX", ref="a"), rec("PC_EVAL", ref="m", grade="良好")]
    assert [c.ref for c in score(records, rules).contributions] == ["z", "a", "m"]


# -- incidents -------------------------------------------------------------------------------------------


def test_one_incident_counts_once_by_its_most_severe_record(rules):
    records = [
        rec("LA_PENALTY_GENERAL", ref="pen", incident="i1"),  # severity 2, 30 points
        rec("LA_FORCED_ENFORCEMENT", ref="forced", incident="i1"),  # severity 2, 50 points: wins on points
        rec("LA_PENALTY_SERIOUS", ref="serious", incident="i2"),  # severity 3, 80: wins on severity
        rec("LA_FORCED_ENFORCEMENT", ref="forced2", incident="i2"),
    ]
    result = score(records, rules)
    c = by_ref(result)
    assert c["forced"].counted and c["serious"].counted
    assert c["pen"].not_counted_reason == "same_incident"
    assert c["forced2"].not_counted_reason == "same_incident"
    assert result.dimensions["law"] == 300 - 50 - 80


def test_incident_tie_is_broken_by_ref(rules):
    records = [rec("LA_PENALTY_GENERAL", ref="p2", incident="i"), rec("LA_PENALTY_GENERAL", ref="p1", incident="i")]
    c = by_ref(score(records, rules))
    assert c["p1"].counted and c["p2"].not_counted_reason == "same_incident"


def test_incident_spans_dimensions_among_adverse_records(rules):
    records = [rec("CM_BROKEN", ref="cm", incident="x"), rec("LA_PENALTY_SERIOUS", ref="la", incident="x")]
    result = score(records, rules)
    assert result.dimensions == {"public": 280, "law": 220, "commitment": 75, "honour": 0}
    assert by_ref(result)["cm"].not_counted_reason == "same_incident"


def test_a_penalty_never_displaces_an_evaluation_of_the_same_incident(rules):
    # Seen in production: 475 → 575 after a 较重行政处罚 arrived, because the 差 evaluation sharing its incident id
    # was dropped as "same incident". De-duplication applies to adverse records only (SPEC §1).
    evaluation = rec("PC_EVAL", ref="ev", grade="差", incident="2025-001")
    before = score([evaluation], rules)
    assert before.total == 475
    after = score([evaluation, rec("LA_PENALTY_SERIOUS", ref="pen", incident="2025-001")], rules)
    c = by_ref(after)
    assert c["ev"].counted and c["pen"].counted
    assert after.dimensions == {"public": 100, "law": 220, "commitment": 75, "honour": 0}
    assert after.total == 395 < before.total


def test_a_penalty_never_displaces_a_kept_commitment_or_an_honour(rules):
    good = [rec("CM_KEPT_TOURISM", ref="kept", incident="i"), rec("HN_HONOUR_CITY", ref="hon", incident="i")]
    before = score(good, rules)
    after = score([*good, rec("LA_PENALTY_GENERAL", ref="pen", incident="i")], rules)
    c = by_ref(after)
    assert c["kept"].counted and c["hon"].counted and c["pen"].counted
    assert after.total == before.total - 30


def test_incident_ids_are_scoped_to_the_sending_department(rules):
    # Two departments numbering their cases independently can both send "2025-001": two incidents, not one.
    records = [
        rec("LA_PENALTY_GENERAL", ref="amr", incident="2025-001", source="SX_AMR"),
        rec("LA_TAX_ARREARS", ref="tax", incident="2025-001", source="SX_TAX"),
    ]
    result = score(records, rules)
    assert all(c.counted for c in result.contributions)
    assert result.dimensions["law"] == 300 - 30 - 40
    same = [rec("LA_PENALTY_GENERAL", ref="a", incident="k", source="SX_AMR"),
            rec("LA_FORCED_ENFORCEMENT", ref="b", incident="k", source="SX_AMR")]
    assert score(same, rules).dimensions["law"] == 250


def test_inactive_record_does_not_win_an_incident(rules):
    records = [
        rec("LA_PENALTY_SERIOUS", ref="serious", incident="i", status="repaired"),
        rec("LA_PENALTY_GENERAL", ref="general", incident="i"),
    ]
    result = score(records, rules)
    assert by_ref(result)["general"].counted
    assert result.dimensions["law"] == 270


def test_separate_incidents_both_count(rules):
    records = [rec("LA_PENALTY_GENERAL", incident="a"), rec("LA_PENALTY_GENERAL", incident="b")]
    assert score(records, rules).dimensions["law"] == 240


# -- public evaluation -----------------------------------------------------------------------------------


def test_only_the_latest_evaluation_counts(rules):
    records = [
        rec("PC_EVAL", ref="old", grade="差", days_ago=200),
        rec("PC_EVAL", ref="new", grade="优秀", days_ago=20),
    ]
    result = score(records, rules)
    c = by_ref(result)
    assert c["new"].counted and c["old"].not_counted_reason == "superseded"
    assert result.dimensions["public"] == 400


def test_expired_evaluation_falls_back_to_none_on_file(rules):
    result = score([rec("PC_EVAL", ref="e", grade="优秀", days_ago=400)], rules)
    assert by_ref(result)["e"].not_counted_reason == "expired"
    assert result.dimensions["public"] == 280
    assert "evaluation_missing" in hint_kinds(result)


def test_evaluation_without_a_known_grade_does_not_count(rules):
    result = score([rec("PC_EVAL", ref="e", grade="A+"), rec("PC_EVAL", ref="n", grade=None)], rules)
    c = by_ref(result)
    assert c["e"].not_counted_reason == "invalid_grade"
    assert c["n"].not_counted_reason == "invalid_grade"
    assert result.dimensions["public"] == 280


# -- level 0 ---------------------------------------------------------------------------------------------


def _high_scorer():
    return [
        rec("PC_EVAL", grade="优秀"),
        *[rec(k) for k in ("CM_KEPT_ENV", "CM_KEPT_TRAFFIC", "CM_KEPT_PET", "CM_KEPT_TOURISM", "CM_KEPT_VILLAGE")],
        rec("HN_HONOUR_NATIONAL"),
        *[rec("HN_BLOOD_DONATION") for _ in range(4)],
    ]


@pytest.mark.parametrize("code", ["LA_JUDGMENT_DEBTOR", "LA_SERIOUS_DISHONESTY"])
def test_listed_citizen_is_level_0_whatever_the_points(rules, code):
    result = score([*_high_scorer(), rec(code, ref="listed")], rules)
    assert rules.level_for(result.total, False) >= 4
    assert (result.level, result.level_name, result.restricted) == (0, "受限", True)
    assert by_ref(result)["listed"].restricts is True
    assert "restricted" in hint_kinds(result)


def test_repaired_listing_does_not_force_level_0(rules):
    result = score([*_high_scorer(), rec("LA_JUDGMENT_DEBTOR", ref="listed", status="repaired")], rules)
    assert (result.restricted, result.level) == (False, 5)
    assert by_ref(result)["listed"].restricts is False
    assert "restricted" not in hint_kinds(result)


def test_expired_listing_does_not_force_level_0(rules):
    result = score([rec("LA_SERIOUS_DISHONESTY", days_ago=1095)], rules)
    assert (result.restricted, result.level) == (False, 3)


def test_listing_restricts_even_when_another_record_of_the_incident_counts(rules):
    records = [rec("LA_CRIMINAL", ref="crim", incident="case"), rec("LA_JUDGMENT_DEBTOR", ref="debt", incident="case")]
    result = score(records, rules)
    c = by_ref(result)
    assert c["crim"].counted and c["debt"].not_counted_reason == "same_incident"
    assert c["debt"].restricts and result.restricted and result.level == 0
    assert result.dimensions["law"] == 100


# -- hints -----------------------------------------------------------------------------------------------


def _hints_for(result, kind):
    return [h for h in result.hints if h.kind == kind]


def test_commitment_hint_lists_commitments_not_yet_kept(rules):
    result = score([rec("CM_KEPT_TRAFFIC")], rules)
    (hint,) = _hints_for(result, "make_commitment")
    assert "公共环境文明承诺" in hint.message and "文明交通承诺" not in hint.message
    assert "最多还可加60分" in hint.message


def test_expiring_and_repair_hints_for_a_general_penalty(rules):
    occurred = AS_OF - dt.timedelta(days=100)  # past the 90-day minimum display period
    result = score([rec("LA_PENALTY_GENERAL", ref="p", occurred=occurred)], rules)
    (expiring,) = _hints_for(result, "expiring")
    assert (expiring.ref, expiring.date) == ("p", occurred + dt.timedelta(days=365))
    assert "扣30分" in expiring.message
    (repair,) = _hints_for(result, "repair_open")
    assert (repair.ref, repair.date) == ("p", occurred + dt.timedelta(days=90))
    assert "信用修复" in repair.message
    assert not _hints_for(result, "repair_later")


def test_repair_not_yet_open_says_from_when(rules):
    occurred = AS_OF - dt.timedelta(days=30)
    result = score([rec("LA_PENALTY_SERIOUS", ref="p", occurred=occurred)], rules)
    assert not _hints_for(result, "repair_open")
    (later,) = _hints_for(result, "repair_later")
    assert later.date == occurred + dt.timedelta(days=365)
    assert f"{later.date.year}年{later.date.month}月{later.date.day}日" in later.message


def test_judgment_debtor_can_apply_for_repair_at_once(rules):
    result = score([rec("LA_JUDGMENT_DEBTOR", ref="d", days_ago=0)], rules)
    assert [h.ref for h in _hints_for(result, "repair_open")] == ["d"]


def test_no_repair_hint_for_criminal_judgment(rules):
    result = score([rec("LA_CRIMINAL", ref="c", days_ago=1000)], rules)
    assert not _hints_for(result, "repair_open") and not _hints_for(result, "repair_later")
    assert [h.ref for h in _hints_for(result, "expiring")] == ["c"]


def test_no_repair_or_expiry_hints_for_records_that_do_not_count(rules):
    records = [
        rec("LA_PENALTY_GENERAL", status="repaired", days_ago=200),
        rec("LA_PENALTY_GENERAL", days_ago=400),
        rec("HN_DONATION"),
    ]
    result = score(records, rules)
    assert not {"repair_open", "repair_later", "expiring"} & set(hint_kinds(result))


def test_objection_pending_hint(rules):
    result = score([rec("LA_PENALTY_GENERAL", ref="p", status="disputed")], rules)
    (hint,) = _hints_for(result, "objection_pending")
    assert hint.ref == "p" and "异议" in hint.message


def test_hints_are_ordered_by_kind(rules):
    from score_model import HINT_KINDS

    result = score([rec("LA_JUDGMENT_DEBTOR", days_ago=5), rec("LA_PENALTY_SERIOUS", status="disputed")], rules)
    kinds = hint_kinds(result)
    assert kinds == sorted(kinds, key=HINT_KINDS.index)
    assert kinds[0] == "restricted"


# -- output shape ----------------------------------------------------------------------------------------


def test_result_serialises_to_json(rules):
    records = [rec("PC_EVAL", grade="良好"), rec("LA_PENALTY_GENERAL"), rec("XX", ref="u")]
    data = score(records, rules).to_dict()
    text = json.dumps(data, ensure_ascii=False)
    assert json.loads(text)["level_name"] == "良好"
    assert data["dimension_names"]["law"] == "遵纪守法"
    assert data["contributions"][1]["counts_until"] is not None


def test_datetimes_count_by_calendar_day(rules):
    stamp = dt.datetime.combine(AS_OF - dt.timedelta(days=365), dt.time(23, 59))
    records = [RecordInput("p", "LA_PENALTY_GENERAL", "active", stamp), rec("HN_DONATION", ref="d")]
    as_of = dt.datetime.combine(AS_OF, dt.time(0, 1))
    result = score(records, rules, as_of=as_of)
    assert by_ref(result)["p"].not_counted_reason == "expired"
    assert result.as_of == AS_OF and result.total == 665


def test_same_input_same_result(rules):
    records = [rec("PC_EVAL", grade="良好"), rec("LA_PENALTY_GENERAL"), rec("HN_VOLUNTEER", quantity=33)]
    assert compute_score(records, AS_OF, rules) == compute_score(list(records), AS_OF, rules)
