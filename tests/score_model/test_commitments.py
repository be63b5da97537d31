"""The commitment catalog in the rules files, and what-if on the pure engine."""

from __future__ import annotations

import datetime as dt

import pytest

from score_model import RulesError, load_rules, load_rules_from_path
from score_model.whatif import ADD_RECORD, EXPIRE_RECORD, REPAIR_RECORD, Change, what_if

from .conftest import AS_OF, patched_v1, rec

_LAST_TOURISM_LINE = "虚假承诺约束：经查实承诺不实的，记为虚假承诺，按规定记入信用档案并依法承担相应责任。"
_NEXT = '"""\n\n[[commitment]]\ncode = "CIVIL_VILLAGE"'
CIVILITY = {"CIVIL_ENV", "CIVIL_TRAFFIC", "CIVIL_PET", "CIVIL_TOURISM", "CIVIL_VILLAGE"}


@pytest.mark.parametrize("version", ["v1", "hangzhou-v1"])
def test_catalog_has_the_five_civility_commitments_repair_and_notify(version):
    rules = load_rules(version)
    assert {c for c, t in rules.commitments.items() if t.self_service} == CIVILITY
    assert rules.commitments["REPAIR"].kind == "repair" and not rules.commitments["REPAIR"].self_service
    assert rules.commitments["NOTIFY"].kind == "notify" and not rules.commitments["NOTIFY"].self_service
    for ctype in rules.commitments.values():
        assert "虚假承诺" in ctype.current_text.body
        assert ctype.period_days > 0
    tourism = rules.commitments["CIVIL_TOURISM"]
    assert tourism.name == "文明旅游承诺" and tourism.broken_by == ("LA_UNCIVIL_TOURISM",)
    assert (rules.points_of(tourism.kept_record), rules.points_of(tourism.broken_record),
            rules.points_of(tourism.false_record)) == (15, -30, -50)


def test_honours_are_self_reportable_and_law_records_are_not(rules):
    assert rules.catalog["HN_VOLUNTEER"].self_reportable and rules.catalog["HN_BLOOD_DONATION"].self_reportable
    assert not rules.catalog["LA_PENALTY_GENERAL"].self_reportable
    assert not rules.catalog["CM_KEPT_TOURISM"].self_reportable


@pytest.mark.parametrize(("old", "new", "message"), [
    ('broken_by = ["LA_UNCIVIL_TOURISM"]', 'broken_by = ["HN_DONATION"]', "not an adverse"),
    ('kept_record = "CM_KEPT_TOURISM"', 'kept_record = "CM_BROKEN"', "must be a commitment record of class 守信"),
    ('code = "CIVIL_TOURISM"\nname = "文明旅游承诺"\nkind = "civility"',
     'code = "CIVIL_TOURISM"\nname = "文明旅游承诺"\nkind = "festive"', "unknown kind"),
    (_LAST_TOURISM_LINE + _NEXT, _NEXT, "虚假承诺约束"),
])
def test_a_broken_commitment_catalog_is_refused(tmp_path, old, new, message):
    with pytest.raises(RulesError, match=message):
        load_rules_from_path(patched_v1(tmp_path, old, new))


def test_what_if_a_kept_commitment_adds_its_points_and_may_change_the_level(rules):
    records = [rec("PC_EVAL", ref="ev", grade="良好"), rec("CM_KEPT_ENV", ref="k1"), rec("HN_VOLUNTEER", quantity=20)]
    ends = AS_OF + dt.timedelta(days=365)
    result = what_if(records, [Change(ADD_RECORD, ends, type_code="CM_KEPT_TOURISM")], AS_OF, rules)
    assert result.before.total == 340 + 300 + 90 + 10 == 740
    assert result.after.total == 755 and result.delta == 15
    assert result.dimension_deltas() == {"public": 0, "law": 0, "commitment": 15, "honour": 0}
    assert result.effective_on == ends


def test_what_if_repair_or_expiry_removes_a_penalty(rules):
    records = [rec("LA_PENALTY_SERIOUS", ref="pen"), rec("LA_TAX_ARREARS", ref="tax")]
    repaired = what_if(records, [Change(REPAIR_RECORD, AS_OF, ref="pen")], AS_OF, rules)
    assert (repaired.before.total, repaired.after.total) == (535, 615)
    assert (repaired.before.level, repaired.after.level) == (1, 2)
    expired = what_if(records, [Change(EXPIRE_RECORD, AS_OF, ref="tax")], AS_OF, rules)
    assert expired.delta == 40
    with pytest.raises(KeyError):
        what_if(records, [Change(REPAIR_RECORD, AS_OF, ref="not-theirs")], AS_OF, rules)
