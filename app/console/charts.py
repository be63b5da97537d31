"""The dashboard's chart data: JSON endpoints the page draws with ECharts (and the tests call), one per chart, each
with a date range (``from`` / ``to``, city dates). Figures come from the owning domains' aggregate functions."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, jsonify

from app.console import blp, security
from app.console.common import date_range
from app.records import queries as record_queries
from app.scoring import stats as score_stats
from benefits import stats as benefit_stats


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    default_days: int
    range_note: str
    build: object


def _score_distribution(date_from, date_to):
    return {"from": date_from.isoformat(), "to": date_to.isoformat(), **score_stats.score_distribution(date_to)}


CHARTS: dict[str, Chart] = {chart.name: chart for chart in (
    Chart("score-distribution", "信用分分布与等级占比", 30, "按结束日期当天的最新分值统计",
          _score_distribution),
    Chart("levels-monthly", "各等级人数（按月）", 365, "每月月末的等级人数", score_stats.levels_by_month),
    Chart("redemptions-by-scene", "信易+ 核销（按场景）", 30, "不含已撤销的核销",
          benefit_stats.redemptions_by_scene),
    Chart("redemptions-by-day", "信易+ 核销（按日）", 30, "不含已撤销的核销", benefit_stats.redemptions_by_day),
    Chart("records-by-department", "各部门归集记录数（按周）", 84, "按记录首次报送时间统计",
          record_queries.records_per_department_week),
)}


@blp.route("/api/charts/<name>")
@security.login_required("staff")
def chart_data(name):
    chart = CHARTS.get(name)
    if chart is None:
        abort(404)
    date_from, date_to = date_range(chart.default_days)
    return jsonify(chart.build(date_from, date_to))
