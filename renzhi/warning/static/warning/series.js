/* Series chart: observed counts (bars), expected and upper bound (lines), signals (red dots). */
(function () {
  "use strict";
  var node = document.querySelector("[data-series-chart]");
  if (!node || !window.echarts) return;
  var data = JSON.parse(document.getElementById("series-data").textContent);
  // Legend names from data attributes (escaped by the template), not hand-written JSON.
  var T = { observed: node.dataset.textObserved, expected: node.dataset.textExpected,
            upper: node.dataset.textUpper, signals: node.dataset.textSignals };
  var signalDays = {};
  data.signals.forEach(function (s) { signalDays[s.day] = s.observed; });
  var marks = data.dates.map(function (d) { return d in signalDays ? signalDays[d] : null; });
  var chart = echarts.init(node);
  chart.setOption({
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 40, right: 12, top: 36, bottom: 40 },
    xAxis: { type: "category", data: data.dates, axisLabel: { formatter: function (v) { return v.slice(5); } } },
    yAxis: { type: "value", minInterval: 1 },
    dataZoom: [{ type: "inside" }],
    series: [
      { name: T.observed, type: "bar", data: data.observed, itemStyle: { color: "#90a4ae" } },
      { name: T.expected, type: "line", data: data.expected, showSymbol: false, lineStyle: { color: "#2f6fb5" }, itemStyle: { color: "#2f6fb5" } },
      { name: T.upper, type: "line", data: data.upperbound, showSymbol: false, lineStyle: { type: "dashed", color: "#ef6c00" }, itemStyle: { color: "#ef6c00" } },
      { name: T.signals, type: "scatter", data: marks, symbolSize: 12, itemStyle: { color: "#c62828" } }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
