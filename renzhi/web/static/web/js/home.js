/* The home page chart: places in scope per level (counts come from the server). */
(function () {
  "use strict";
  var node = document.getElementById("scope-chart");
  var data = JSON.parse(document.getElementById("scope-chart-data").textContent);
  if (!node || !window.echarts) return;
  var font = getComputedStyle(document.body).fontFamily;
  var chart = window.echarts.init(node, null, { renderer: "svg" });
  chart.setOption({
    textStyle: { fontFamily: font },
    grid: { left: 48, right: 16, top: 16, bottom: 32 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: data.labels, axisTick: { alignWithLabel: true },
             axisLabel: { interval: 0 } },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "bar", data: data.values, barMaxWidth: 48, itemStyle: { color: "#1d4f91" },
               label: { show: true, position: "top" } }],
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
