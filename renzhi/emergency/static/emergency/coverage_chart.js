/* The emergency dashboard: days of reserve coverage per depot (red below the threshold).
   Moved out of the template: the Content-Security-Policy allows no inline scripts. */
(function () {
  "use strict";
  var el = document.getElementById("coverage-chart");
  if (!el || !window.echarts) return;
  var d = JSON.parse(document.getElementById("coverage-data").textContent);
  var chart = echarts.init(el);
  chart.setOption({
    grid: { left: 90, right: 20, top: 10, bottom: 30 },
    xAxis: { type: "value" },
    yAxis: { type: "category", data: d.labels },
    series: [{ type: "bar", data: d.days.map(function (v) { return { value: v, itemStyle: { color: v !== null && v < d.threshold ? "#c62828" : "#1f5fbf" } }; }),
      markLine: { symbol: "none", data: [{ xAxis: d.threshold }], lineStyle: { color: "#c62828", type: "dashed" } } }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
