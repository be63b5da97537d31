"""The dashboard's chart data: JSON endpoints the page draws with ECharts (and the tests call), one per chart, each
with a date range (``from`` / ``to``, city dates). Figures come from the owning domains' aggregate functions."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, jsonify

from app.community import stats as community_stats
from app.console import blp, rights_installed, security
from app.console.common import date_range
from app.records import queries as record_queries
from app.replica import replica_read
from app.reports import service as report_service
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
    Chart("reports-by-purpose", "个人信用报告（按用途）", 30, "按出具时间统计，含已撤销和已过期的报告",
          report_service.counts_by_purpose),
)}


def _rights_cases(date_from, date_to):
    """Objections and repairs per month: received, decided within the deadline, decided after it."""
    from app.rights import stats as rights_stats

    figures = rights_stats.rights_stats(date_from, date_to)
    months = sorted({item["month"] for kind in figures["kinds"] for item in kind["months"]})
    names = {"objection": "异议", "repair": "修复"}
    series = []
    for kind in figures["kinds"]:
        by_month = {item["month"]: item for item in kind["months"]}
        for metric, label in (("received", "受理"), ("decided_on_time", "按期办结"), ("decided_late", "超期办结")):
            counts = []
            for month in months:
                item = by_month.get(month, {})
                value = (item.get("decided", 0) - item.get("decided_on_time", 0)) if metric == "decided_late" \
                    else item.get(metric, 0)
                counts.append(value)
            series.append({"kind": kind["kind"], "metric": metric, "name": f"{names[kind['kind']]}{label}",
                           "counts": counts})
    return {"from": figures["from"], "to": figures["to"], "months": months, "series": series,
            "totals": {kind["kind"]: kind["total"] for kind in figures["kinds"]}}


if rights_installed():
    CHARTS["rights-cases"] = Chart("rights-cases", "异议与修复：受理、按期办结、超期办结（按月）", 365,
                                   "按受理月份统计受理数，按办结月份统计办结数", _rights_cases)


# 村社信用积分 (app/community): each scheme's entries made, posted and redeemed in the range.
CHARTS["community-schemes"] = Chart("community-schemes", "村社信用积分（各村、社区）", 90,
                                    "按登记、入账、兑换时间统计，取最活跃的 20 个", community_stats.scheme_activity)


@blp.route("/api/charts/<name>")
@security.login_required("staff")
@replica_read
def chart_data(name):
    chart = CHARTS.get(name)
    if chart is None:
        abort(404)
    date_from, date_to = date_range(chart.default_days)
    return jsonify(chart.build(date_from, date_to))
