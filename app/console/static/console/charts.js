// The dashboard: every card reads its JSON endpoint for its date range and draws it with ECharts (SVG renderer).
(function () {
  "use strict";
  var COLORS = ["#1f6fd1", "#36a3a1", "#f0a020", "#d94e4e", "#7a5cc7", "#5b8c3a", "#c26fa0", "#8a8f99"];
  var LEVEL_COLORS = ["#8a8f99", "#d94e4e", "#f0a020", "#36a3a1", "#1f6fd1", "#1a4f99"];

  function isoDate(date) {
    return date.toISOString().slice(0, 10);
  }

  function shift(isoDay, days) {
    var date = new Date(isoDay + "T00:00:00Z");
    date.setUTCDate(date.getUTCDate() + days);
    return isoDate(date);
  }

  function chartOf(element) {
    return echarts.getInstanceByDom(element) || echarts.init(element, null, { renderer: "svg" });
  }

  var base = {
    textStyle: { fontFamily: "Noto Sans CJK SC, Microsoft YaHei, sans-serif" },
    grid: { left: 48, right: 24, top: 40, bottom: 48, containLabel: true },
    tooltip: { trigger: "axis" },
    color: COLORS,
    animation: false
  };

  // A range with nothing in it says so, rather than showing bare axes (or, for a pie, nothing at all).
  var NO_DATA = {
    type: "text", left: "center", top: "middle", silent: true,
    style: { text: "所选时间段暂无数据", fontSize: 14, fill: "#8a8f99" }
  };

  function hasData(counts) {
    return counts.some(function (count) { return count > 0; });
  }

  function extend(option, counts) {
    var merged = {};
    Object.keys(base).forEach(function (key) { merged[key] = base[key]; });
    Object.keys(option).forEach(function (key) { merged[key] = option[key]; });
    merged.graphic = hasData(counts) ? [] : [NO_DATA];
    return merged;
  }

  function flat(lists) {
    return [].concat.apply([], lists);
  }

  var builders = {
    "score-distribution": function (card, data) {
      chartOf(card.querySelector("[data-part=bands]")).setOption(extend({
        title: { text: "信用分分布（每 50 分，共 " + data.citizens + " 人）", textStyle: { fontSize: 13 } },
        grid: { left: 48, right: 24, top: 56, bottom: 48, containLabel: true },
        xAxis: { type: "category", data: data.bands.map(function (b) { return b.label; }), axisLabel: { rotate: 45 } },
        yAxis: { type: "value", name: "人数" },
        series: [{ name: "人数", type: "bar", data: data.bands.map(function (b) { return b.count; }) }]
      }, data.bands.map(function (b) { return b.count; })), true);
      chartOf(card.querySelector("[data-part=levels]")).setOption(extend({
        title: { text: "等级占比", textStyle: { fontSize: 13 } },
        tooltip: { trigger: "item", formatter: "{b}：{c} 人（{d}%）" },
        legend: { orient: "vertical", right: 0, top: "middle" },
        color: LEVEL_COLORS,
        series: [{
          name: "等级", type: "pie", radius: ["35%", "65%"], center: ["40%", "55%"],
          label: { formatter: "{d}%" },
          data: data.levels.map(function (l) { return { name: "L" + l.level + " " + l.name, value: l.count }; })
        }]
      }, data.levels.map(function (l) { return l.count; })), true);
    },
    "levels-monthly": function (card, data) {
      chartOf(card.querySelector("[data-part=main]")).setOption(extend({
        legend: { top: 0 },
        color: LEVEL_COLORS,
        xAxis: { type: "category", data: data.months },
        yAxis: { type: "value", name: "人数" },
        series: data.series.map(function (s) {
          return { name: "L" + s.level + " " + s.name, type: "bar", stack: "levels", data: s.counts };
        })
      }, flat(data.series.map(function (s) { return s.counts; }))), true);
    },
    "redemptions-by-scene": function (card, data) {
      chartOf(card.querySelector("[data-part=main]")).setOption(extend({
        xAxis: { type: "category", data: data.scenes.map(function (s) { return s.name; }), axisLabel: { rotate: 30 } },
        yAxis: { type: "value", name: "次数", minInterval: 1 },
        series: [{ name: "核销次数", type: "bar", data: data.scenes.map(function (s) { return s.count; }) }]
      }, data.scenes.map(function (s) { return s.count; })), true);
    },
    "redemptions-by-day": function (card, data) {
      chartOf(card.querySelector("[data-part=main]")).setOption(extend({
        xAxis: { type: "category", data: data.days },
        yAxis: { type: "value", name: "次数", minInterval: 1 },
        series: [{ name: "核销次数", type: "line", areaStyle: {}, data: data.counts }]
      }, data.counts), true);
    },
    "rights-cases": function (card, data) {
      var palette = { received: "#1f6fd1", decided_on_time: "#36a3a1", decided_late: "#d94e4e" };
      chartOf(card.querySelector("[data-part=main]")).setOption(extend({
        legend: { top: 0, type: "scroll" },
        grid: { left: 48, right: 24, top: 56, bottom: 48, containLabel: true },
        xAxis: { type: "category", data: data.months },
        yAxis: { type: "value", name: "件数", minInterval: 1 },
        series: data.series.map(function (s) {
          return {
            name: s.name, type: "bar", stack: s.kind + (s.metric === "received" ? "-in" : "-out"), data: s.counts,
            itemStyle: { color: palette[s.metric], opacity: s.kind === "objection" ? 1 : 0.55 }
          };
        })
      }, flat(data.series.map(function (s) { return s.counts; }))), true);
    },
    "community-schemes": function (card, data) {
      chartOf(card.querySelector("[data-part=main]")).setOption(extend({
        legend: { top: 0 },
        xAxis: { type: "category", data: data.schemes, axisLabel: { rotate: 30 } },
        yAxis: { type: "value", minInterval: 1 },
        series: data.series.map(function (s) { return { name: s.name, type: "bar", data: s.counts }; })
      }, flat(data.series.map(function (s) { return s.counts; }))), true);
    },
    "reports-by-purpose": function (card, data) {
      var counts = data.purposes.map(function (p) { return p.count; });
      chartOf(card.querySelector("[data-part=main]")).setOption(extend({
        xAxis: { type: "category", data: data.purposes.map(function (p) { return p.name; }) },
        yAxis: { type: "value", name: "份数", minInterval: 1 },
        series: [{ name: "报告份数", type: "bar", data: counts, label: { show: true, position: "top" } }]
      }, counts), true);
    },
    "records-by-department": function (card, data) {
      chartOf(card.querySelector("[data-part=main]")).setOption(extend({
        legend: { top: 0, type: "scroll" },
        grid: { left: 48, right: 24, top: 56, bottom: 48, containLabel: true },
        xAxis: { type: "category", data: data.weeks.map(function (w) { return w + " 周"; }) },
        yAxis: { type: "value", name: "条数" },
        series: data.departments.map(function (d) {
          return { name: d.name, type: "bar", stack: "departments", data: d.counts };
        })
      }, flat(data.departments.map(function (d) { return d.counts; }))), true);
    }
  };

  function load(card) {
    var form = card.querySelector(".range-form");
    var params = new URLSearchParams(new FormData(form));
    var error = card.querySelector(".chart-error");
    card.setAttribute("data-state", "loading");
    fetch(card.getAttribute("data-url") + "?" + params.toString(), {
      credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (!result.ok) {
        var detail = result.body.errors ? Object.values(result.body.errors).join(" ") : "";
        throw new Error((result.body.message || "加载失败") + " " + detail);
      }
      error.hidden = true;
      builders[card.getAttribute("data-chart")](card, result.body);
      card.setAttribute("data-state", "ready");
    }).catch(function (problem) {
      error.textContent = problem.message || "图表数据加载失败，请稍后重试。";
      error.hidden = false;
      card.setAttribute("data-state", "error");
    });
  }

  var grid = document.querySelector(".chart-grid");
  var today = grid.getAttribute("data-today");
  document.querySelectorAll("[data-chart]").forEach(function (card) {
    var form = card.querySelector(".range-form");
    var days = parseInt(form.getAttribute("data-default-days"), 10);
    form.elements.to.value = today;
    form.elements.from.value = shift(today, 1 - days);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      load(card);
    });
    load(card);
  });
  window.addEventListener("resize", function () {
    document.querySelectorAll(".chart").forEach(function (element) {
      var chart = echarts.getInstanceByDom(element);
      if (chart) { chart.resize(); }
    });
  });
})();
