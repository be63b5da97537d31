// The citizen file's score history chart, from the JSON the page carries (no inline script runs).
(function () {
  "use strict";
  var source = document.getElementById("history-data");
  var element = document.getElementById("history-chart");
  if (!source || !element) { return; }
  var history = JSON.parse(source.textContent);
  var chart = echarts.init(element, null, { renderer: "svg" });
  chart.setOption({
    animation: false,
    textStyle: { fontFamily: "Noto Sans CJK SC, Microsoft YaHei, sans-serif" },
    grid: { left: 48, right: 24, top: 24, bottom: 40, containLabel: true },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: history.map(function (h) { return h.at.slice(0, 10); }) },
    yAxis: { type: "value", name: "信用分", min: function (v) { return Math.max(0, v.min - 50); } },
    series: [{ name: "信用分", type: "line", step: "end", data: history.map(function (h) { return h.total; }) }]
  });
  element.setAttribute("data-state", "ready");
})();
