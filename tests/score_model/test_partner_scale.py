"""A partner city's native scale mapped onto the common L1–L5 ladder (pure, like the rest of score_model)."""

from __future__ import annotations

import pytest

from score_model import load_rules
from score_model.partners import Cutoff, ScaleError, build_scale, scale_of_rules

QIANJIANG = [{"level": 1, "min": 0, "name": "待提高"}, {"level": 2, "min": 550, "name": "一般"},
             {"level": 3, "min": 600, "name": "良好"}, {"level": 4, "min": 700, "name": "优秀"},
             {"level": 5, "min": 750, "name": "极好"}]


@pytest.mark.parametrize(("score", "level"), [
    (0, 1), (549, 1), (550, 2), (599, 2), (600, 3), (699, 3), (700, 4), (749, 4), (750, 5), (1000, 5)])
def test_qianjiang_tiers_at_every_boundary(score, level):
    assert build_scale(0, 1000, QIANJIANG).level_for(score) == level


def test_cutoffs_may_come_in_any_order_and_show_their_ranges():
    scale = build_scale(0, 1000, list(reversed(QIANJIANG)))
    assert scale.as_list()[0] == {"level": 1, "name": "待提高", "min": 0, "max": 549}
    assert scale.as_list()[-1] == {"level": 5, "name": "极好", "min": 750, "max": 1000}
    assert scale.level_name(3) == "良好"


def test_a_scale_other_than_a_thousand_points():
    scale = build_scale(350, 950, [Cutoff(1, 350), Cutoff(2, 600), Cutoff(3, 650), Cutoff(4, 700), Cutoff(5, 800)])
    assert [scale.level_for(s) for s in (350, 599, 600, 799, 950)] == [1, 1, 2, 4, 5]
    with pytest.raises(ScaleError):
        scale.level_for(300)
    with pytest.raises(ScaleError):
        scale.level_for(951)


@pytest.mark.parametrize("bad", [
    [],
    QIANJIANG[:4],
    [*QIANJIANG[:4], {"level": 4, "min": 800}],
    [{**QIANJIANG[0], "min": 10}, *QIANJIANG[1:]],
    [QIANJIANG[0], {**QIANJIANG[1], "min": 650}, *QIANJIANG[2:]],
    [*QIANJIANG[:4], {"level": 5, "min": 1200}],
    [*QIANJIANG[:4], {"level": 5, "min": "750"}],
    [*QIANJIANG[:4], {"level": True, "min": 750}],
    ["L5>=750", *QIANJIANG[1:]],
])
def test_inconsistent_cutoffs_are_refused(bad):
    with pytest.raises(ScaleError):
        build_scale(0, 1000, bad)


def test_scale_bounds_are_checked():
    with pytest.raises(ScaleError):
        build_scale(1000, 0, QIANJIANG)
    with pytest.raises(ScaleError):
        build_scale(0, 1000, QIANJIANG).level_for(600.5)


def test_our_own_ladder_as_partners_see_it():
    scale = scale_of_rules(load_rules("v1"))
    assert [(c["level"], c["min"], c["max"]) for c in scale.as_list()] == [
        (1, 0, 559), (2, 560, 639), (3, 640, 719), (4, 720, 799), (5, 800, 1000)]


def test_an_instance_running_as_hangzhou_uses_qianjiang_cutoffs_on_the_shared_catalog():
    hangzhou, v1 = load_rules("hangzhou-v1"), load_rules("v1")
    assert [(c.level, c.min) for c in scale_of_rules(hangzhou).cutoffs] == [(c["level"], c["min"]) for c in QIANJIANG]
    assert hangzhou.catalog.keys() == v1.catalog.keys() and hangzhou.max_total == 1000
    # A clean adult (655) is 良好 in both; 555 is 一般 under 钱江分's tiers but 待提高 under ours; 760 is
    # 极好 there, 优秀 here.
    assert (hangzhou.level_for(655), v1.level_for(655)) == (3, 3)
    assert (hangzhou.level_for(555), v1.level_for(555)) == (2, 1)
    assert (hangzhou.level_for(760), v1.level_for(760)) == (5, 4)
