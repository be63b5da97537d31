"""The rules file: what v1 says, and that a broken file is refused with a clear message."""

from __future__ import annotations

import pickle

import pytest

from score_model import (
    DIMENSION_NAMES,
    DIMENSIONS,
    RulesError,
    available_rule_versions,
    load_rules,
    load_rules_from_path,
)

from .conftest import patched_v1

REQUIRED_CODES = {
    "PC_EVAL": ("public", "基础"),
    "LA_CRIMINAL": ("law", "不良"),
    "LA_PENALTY_GENERAL": ("law", "不良"),
    "LA_PENALTY_SERIOUS": ("law", "不良"),
    "LA_FORCED_ENFORCEMENT": ("law", "不良"),
    "LA_JUDGMENT_DEBTOR": ("law", "不良"),
    "LA_SERIOUS_DISHONESTY": ("law", "不良"),
    "LA_TAX_ARREARS": ("law", "不良"),
    "CM_KEPT_ENV": ("commitment", "守信"),
    "CM_KEPT_TRAFFIC": ("commitment", "守信"),
    "CM_KEPT_PET": ("commitment", "守信"),
    "CM_KEPT_TOURISM": ("commitment", "守信"),
    "CM_KEPT_VILLAGE": ("commitment", "守信"),
    "CM_KEPT_REPAIR": ("commitment", "守信"),
    "CM_BROKEN": ("commitment", "不良"),
    "CM_FALSE": ("commitment", "不良"),
    "HN_HONOUR_NATIONAL": ("honour", "守信"),
    "HN_HONOUR_PROVINCIAL": ("honour", "守信"),
    "HN_HONOUR_CITY": ("honour", "守信"),
    "HN_BLOOD_DONATION": ("honour", "守信"),
    "HN_VOLUNTEER": ("honour", "守信"),
    "HN_DONATION": ("honour", "守信"),
}


def test_v1_is_packaged_and_cached():
    rules = load_rules()
    assert rules.version == "v1"
    assert "v1" in available_rule_versions()
    assert load_rules("v1") is rules
    assert pickle.loads(pickle.dumps(rules)) is rules


def test_v1_dimensions_grades_and_levels():
    rules = load_rules("v1")
    assert DIMENSIONS == ("public", "law", "commitment", "honour")
    assert [DIMENSION_NAMES[d] for d in DIMENSIONS] == ["公共信用", "遵纪守法", "履约践诺", "荣誉慈善"]
    assert rules.caps == {"public": 400, "law": 300, "commitment": 150, "honour": 150}
    assert rules.starts == {"public": 280, "law": 300, "commitment": 75, "honour": 0}
    assert rules.max_total == 1000
    assert dict(rules.grades) == {"优秀": 400, "良好": 340, "中等": 280, "较差": 200, "差": 100}
    assert [rules.level_name(lv) for lv in range(6)] == ["受限", "待提高", "一般", "良好", "优秀", "极好"]


@pytest.mark.parametrize(
    ("total", "level"),
    [(0, 1), (559, 1), (560, 2), (639, 2), (640, 3), (655, 3), (719, 3), (720, 4), (799, 4), (800, 5), (1000, 5)],
)
def test_level_for_cut_offs(total, level):
    rules = load_rules("v1")
    assert rules.level_for(total, False) == level
    assert rules.level_for(total, True) == 0


def test_catalog_has_the_required_codes_with_their_meaning():
    catalog = load_rules("v1").catalog
    for code, (dimension, cls) in REQUIRED_CODES.items():
        rt = catalog[code]
        assert (rt.dimension, rt.record_class) == (dimension, cls), code
        assert rt.name and rt.legal_basis, code
        assert 1 <= rt.severity <= 5
    assert catalog["PC_EVAL"].validity_days == 365
    crim = catalog["LA_CRIMINAL"]
    assert (crim.severity, crim.repairable, crim.validity_days) == (5, False, 1825)
    assert (catalog["LA_PENALTY_GENERAL"].severity, catalog["LA_PENALTY_GENERAL"].min_display_days) == (2, 90)
    assert (catalog["LA_PENALTY_SERIOUS"].severity, catalog["LA_PENALTY_SERIOUS"].min_display_days) == (3, 365)
    debtor = catalog["LA_JUDGMENT_DEBTOR"]
    assert (debtor.severity, debtor.forces_l0, debtor.repairable, debtor.min_display_days) == (4, True, True, 0)
    listed = catalog["LA_SERIOUS_DISHONESTY"]
    assert (listed.severity, listed.forces_l0, listed.repairable, listed.min_display_days) == (5, True, True, 365)
    assert catalog["LA_FORCED_ENFORCEMENT"].repairable and catalog["LA_TAX_ARREARS"].repairable
    assert [rt.code for rt in catalog.values() if rt.forces_l0] == ["LA_JUDGMENT_DEBTOR", "LA_SERIOUS_DISHONESTY"]
    assert catalog["HN_VOLUNTEER"].unit == "小时"
    for code in ("HN_BLOOD_DONATION", "HN_VOLUNTEER", "HN_DONATION"):
        assert catalog[code].sub_cap_group is not None


def test_unknown_or_malformed_version_is_refused():
    with pytest.raises(RulesError, match="not found"):
        load_rules("v999")
    with pytest.raises(RulesError, match="invalid rules version"):
        load_rules("../v1")


def test_a_valid_copy_loads_from_a_path(tmp_path):
    path = patched_v1(tmp_path, 'version = "v1"', 'version = "v1-copy"')
    rules = load_rules_from_path(path)
    assert rules.version == "v1-copy"
    assert rules.catalog.keys() == load_rules("v1").catalog.keys()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(
            'code = "LA_TAX_ARREARS"\nname = "欠缴税款"\ndimension = "law"',
            'code = "LA_TAX_ARREARS"\nname = "欠缴税款"\ndimension = "money"',
            "unknown dimension 'money'",
            id="unknown-dimension",
        ),
        pytest.param(
            'code = "CM_FALSE"\nname = "虚假承诺"\ndimension = "commitment"\nclass = "不良"',
            'code = "CM_FALSE"\nname = "虚假承诺"\ndimension = "commitment"\nclass = "坏"',
            "unknown class '坏'",
            id="unknown-class",
        ),
        pytest.param(
            "points = 200\nseverity = 5\n",
            "points = 200\n",
            "LA_CRIMINAL: missing field 'severity'",
            id="missing-field",
        ),
        pytest.param("min = 720\nmax = 799", "min = 715\nmax = 799", "overlap", id="overlapping-cut-offs"),
        pytest.param("min = 800\nmax = 1000", "min = 801\nmax = 1000", "gap", id="gap-in-cut-offs"),
        pytest.param('code = "CM_KEPT_PET"', 'code = "CM_KEPT_TRAFFIC"', "duplicate code", id="duplicate-code"),
        pytest.param(
            'sub_cap_group = "charity"', 'sub_cap_group = "charities"', "unknown sub_cap_group", id="unknown-sub-cap"
        ),
        pytest.param(
            "points = 150\nseverity = 4", "points = -150\nseverity = 4", "positive magnitude", id="negative-points"
        ),
        pytest.param(
            "points = 80\nseverity = 3",
            "points = 80\nseverity = 7",
            "severity must be 1..5",
            id="severity-out-of-range",
        ),
        pytest.param(
            'name = "一般程序行政处罚"\ndimension = "law"\nclass = "不良"\npoints = 30\nseverity = 2\n'
            "validity_days = 365\nrepairable = true\nmin_display_days = 90",
            'name = "一般程序行政处罚"\ndimension = "law"\nclass = "不良"\npoints = 30\nseverity = 2\n'
            "validity_days = 365\nrepairable = true\nmin_display_days = 400",
            "must be shorter than validity_days",
            id="display-longer-than-validity",
        ),
        pytest.param(
            "[dimensions.honour]\ncap = 150",
            "[dimensions.honour]\ncap = 150\nbonus = 3",
            "unknown field(s) bonus",
            id="unknown-field",
        ),
        pytest.param('"优秀" = 400', '"优秀" = 450', "outside 0..400", id="grade-above-cap"),
        pytest.param(
            "[dimensions.law]\ncap = 300\nstart = 300",
            "[dimensions.law]\ncap = 300\nstart = 320",
            "floor <= start <= cap",
            id="start-above-cap",
        ),
        pytest.param(
            "min_display_days = 0\nforces_l0 = true",
            'min_display_days = 0\nforces_l0 = "yes"',
            "field 'forces_l0' must be bool",
            id="wrong-type",
        ),
        pytest.param('version = "v1"', 'version = "v1"\nversion = "v2"', "not valid UTF-8 TOML", id="not-toml"),
    ],
)
def test_broken_rules_file_is_refused(tmp_path, old, new, message):
    path = patched_v1(tmp_path, old, new)
    with pytest.raises(RulesError) as excinfo:
        load_rules_from_path(path)
    assert message in str(excinfo.value)
    assert str(path) in str(excinfo.value)


def test_forces_l0_only_on_adverse_records(tmp_path):
    path = patched_v1(
        tmp_path,
        'min_display_days = 0\nforces_l0 = false\nsub_cap_group = "charity"',
        'min_display_days = 0\nforces_l0 = true\nsub_cap_group = "charity"',
    )
    with pytest.raises(RulesError, match="only 不良 records can force level 0"):
        load_rules_from_path(path)


def test_missing_file_is_a_rules_error(tmp_path):
    with pytest.raises(RulesError, match="cannot read"):
        load_rules_from_path(tmp_path / "nope.toml")
