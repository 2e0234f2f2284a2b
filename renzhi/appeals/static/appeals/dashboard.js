/* The leader dashboard: figures from our own data endpoint drawn with ECharts, grids from our
   own GeoJSON on a Leaflet map without tiles (nothing is fetched from the internet). Every
   string shown comes translated from the server (config.text). */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("dashboard-config").textContent);
  var T = config.text;
  var escapeHtml = window.Renzhi.escapeHtml;
  var form = document.querySelector("[data-filters]");
  var statusNode = document.querySelector("[data-status]");
  var panels = document.querySelector("[data-panels]");
  var charts = {};
  var map = null;
  var gridLayer = null;
  var geojsonCache = {};
  var request = 0;

  var BLUE = "#1d4f91";
  var RATE_COLOURS = { response_rate: "#d9822b", resolution_rate: "#1e7b4a",
                       satisfaction_rate: "#7f5bb0" };
  var HEAT = ["#f1f4f8", "#fde0c5", "#facba6", "#f8b58b", "#f59e72", "#f2855d", "#e4574a",
              "#b8262b"];

  var FIGURE_COLUMNS = [
    ["received", "int"], ["dispatched", "int"], ["response_rate", "rate"],
    ["resolution_rate", "rate"], ["satisfaction_rate", "rate"], ["overdue", "int"],
    ["avg_handling_hours", "hours"], ["reopen_rate", "rate"]
  ];

  // --- helpers ------------------------------------------------------------------------------

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function fmt(value, kind) {
    if (value === null || value === undefined || value === "") return "—";
    if (kind === "rate") return (value * 100).toFixed(1) + "%";
    if (kind === "hours") return Number(value).toFixed(1);
    if (kind === "int") return Number(value).toLocaleString();
    return String(value);
  }

  function interpolate(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_m, key) {
      return values[key] === undefined ? "" : values[key];
    });
  }

  function params() {
    var data = new URLSearchParams();
    new FormData(form).forEach(function (value, key) { if (value) data.set(key, value); });
    return data;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) {
            var detail = (body && body.detail) || [];
            throw new Error(detail.map(function (d) { return d.message; }).join(" ") || T.failed);
          }
          return body;
        });
      });
  }

  function chart(name) {
    if (!charts[name]) {
      var node = document.querySelector('[data-chart="' + name + '"]');
      charts[name] = echarts.init(node, null, { renderer: "canvas" });
    }
    return charts[name];
  }

  function rateValue(v) { return v === null || v === undefined ? null : +(v * 100).toFixed(1); }

  // --- tables -------------------------------------------------------------------------------

  function table(name, columns, rows) {
    var holder = document.querySelector('[data-table="' + name + '"]');
    holder.textContent = "";
    if (!rows.length) {
      holder.appendChild(el("p", { class: "muted small" }, T.noData));
      return;
    }
    var tbl = el("table", { class: "table dash-table" });
    var head = el("tr");
    columns.forEach(function (c) {
      var numeric = c[1] && c[1] !== "text" && c[1] !== "nowrap";
      head.appendChild(el("th", { scope: "col", class: numeric ? "num" : "" },
                          c[2] || T[c[0]] || c[0]));
    });
    tbl.appendChild(el("thead")).appendChild(head);
    var body = el("tbody");
    rows.forEach(function (row) {
      var tr = el("tr");
      columns.forEach(function (c) {
        var kind = c[1];
        var cls = kind === "nowrap" ? "nowrap" : kind && kind !== "text" ? "num nowrap" : "";
        tr.appendChild(el("td", { class: cls }, fmt(row[c[0]], kind === "nowrap" ? "text" : kind)));
      });
      body.appendChild(tr);
    });
    tbl.appendChild(body);
    holder.appendChild(tbl);
  }

  // --- panels -------------------------------------------------------------------------------

  function drawKpis(s) {
    var holder = document.querySelector("[data-kpis]");
    holder.textContent = "";
    var cards = [
      ["received", "int", null],
      ["response_rate", "rate", [s.signed_in_time, s.dispatched]],
      ["resolution_rate", "rate", [s.resolved_ok, s.due]],
      ["satisfaction_rate", "rate", [s.satisfied, s.rated]],
      ["overdue", "int", null],
      ["avg_handling_hours", "hours", null],
      ["reopen_rate", "rate", [s.reopened, s.finished]],
      ["dispatched", "int", null]
    ];
    cards.forEach(function (c) {
      var card = el("div", { class: "stat" });
      card.appendChild(el("span", { class: "stat-value" }, fmt(s[c[0]], c[1])));
      card.appendChild(el("span", { class: "stat-label" }, T[c[0]]));
      if (c[2]) card.appendChild(el("span", { class: "stat-sub" }, c[2][0] + " / " + c[2][1]));
      holder.appendChild(card);
    });
  }

  function drawTrend(rows) {
    var labels = rows.map(function (r) { return r.label; });
    var series = [
      { name: T.received, type: "bar", data: rows.map(function (r) { return r.received; }),
        itemStyle: { color: "#9db7da" }, barMaxWidth: 28 },
      { name: T.dispatched, type: "line", data: rows.map(function (r) { return r.dispatched; }),
        itemStyle: { color: BLUE }, symbolSize: 4 }
    ];
    ["response_rate", "resolution_rate", "satisfaction_rate"].forEach(function (key) {
      series.push({ name: T[key], type: "line", yAxisIndex: 1, connectNulls: false, symbolSize: 4,
                    itemStyle: { color: RATE_COLOURS[key] },
                    data: rows.map(function (r) { return rateValue(r[key]); }) });
    });
    chart("trend").setOption({
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: labels },
      yAxis: [{ type: "value", name: T.count, minInterval: 1 },
              { type: "value", name: "%", min: 0, max: 100, splitLine: { show: false } }],
      series: series
    }, true);
    table("trend", [["label", "text", T.period]].concat(FIGURE_COLUMNS), rows);
  }

  function drawRanking(name, rows, order) {
    var key = order + "_rate";
    var top = rows.slice(0, 15);
    var node = document.querySelector('[data-chart="' + name + '"]');
    node.style.height = Math.max(220, 40 + top.length * 26) + "px";
    var c = chart(name);
    c.resize();
    c.setOption({
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" },
                 formatter: function (items) {  // ECharts renders this as HTML: escape
                   var r = top[items[0].dataIndex];
                   return [r.label, T[key] + ": " + fmt(r[key], "rate"),
                           T.dispatched + ": " + fmt(r.dispatched, "int")].map(escapeHtml).join("<br>");
                 } },
      grid: { left: 8, right: 48, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", inverse: true,
               data: top.map(function (r) { return r.label; }),
               axisLabel: { width: 110, overflow: "truncate" } },
      series: [{ type: "bar", name: T[key], barMaxWidth: 18,
                 data: top.map(function (r) { return rateValue(r[key]); }),
                 itemStyle: { color: RATE_COLOURS[key] || BLUE },
                 label: { show: true, position: "right", formatter: "{c}%" } }]
    }, true);
    table(name, [["rank", "int", T.rank],
                 ["label", "text", name === "units" ? T.unitName : T.communityName]]
      .concat(FIGURE_COLUMNS), rows);
  }

  function drawCategories(mix) {
    var narrow = document.querySelector('[data-chart="categoryPie"]').clientWidth < 420;
    chart("categoryPie").setOption({
      tooltip: { trigger: "item", formatter: function (item) {
        return escapeHtml(item.name + ": " + item.value + " (" + item.percent + "%)");
      } },
      legend: narrow ? { type: "scroll", bottom: 0 } : { show: false },
      series: [{ type: "pie", radius: narrow ? ["28%", "55%"] : ["35%", "70%"],
                 center: ["50%", narrow ? "45%" : "50%"], avoidLabelOverlap: true,
                 label: narrow ? { show: false } : { formatter: "{b}\n{d}%", fontSize: 11 },
                 data: mix.top.map(function (r) { return { name: r.label, value: r.received }; }) }]
    }, true);
    var subs = mix.sub.slice(0, 12);
    chart("categoryBar").setOption({
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: subs.map(function (r) { return r.label; }),
               axisLabel: { width: 110, overflow: "truncate" } },
      series: [{ type: "bar", name: T.received, barMaxWidth: 16, itemStyle: { color: BLUE },
                 label: { show: true, position: "right" },
                 data: subs.map(function (r) { return r.received; }) }]
    }, true);
    var rows = mix.top.map(function (r) { return Object.assign({ level: T.firstLevel }, r); })
      .concat(mix.sub.map(function (r) { return Object.assign({ level: T.secondLevel }, r); }));
    table("categories", [["level", "text", T.firstLevel + " / " + T.secondLevel],
                         ["label", "text", T.categories]].concat(FIGURE_COLUMNS), rows);
  }

  // Classes spread between the smallest and the largest non-zero grid, so differences show
  // even when every grid has many appeals; 0 keeps its own pale class.
  function heatClass(count, lo, hi) {
    if (!count) return 0;
    if (hi <= lo) return HEAT.length - 1;
    var steps = HEAT.length - 1;
    return Math.min(steps, 1 + Math.floor(((count - lo) / (hi - lo)) * steps));
  }

  function drawMap(grids, ungridded) {
    var legend = document.querySelector("[data-map-legend]");
    var note = document.querySelector("[data-map-note]");
    var byCode = {};
    var max = 0;
    var min = Infinity;
    grids.forEach(function (g) {
      byCode[g.code] = g;
      max = Math.max(max, g.received);
      if (g.received) min = Math.min(min, g.received);
    });
    if (min === Infinity) min = 0;
    table("grids", [["code", "text", T.code], ["label", "text", T.grids]]
      .concat(FIGURE_COLUMNS), grids);
    note.textContent = ungridded ? interpolate(T.ungridded, { n: ungridded }) : "";
    if (!map) {
      map = L.map(document.querySelector("[data-map]"),
                  { attributionControl: false, zoomSnap: 0.25, minZoom: 3, maxZoom: 19 });
      map.setView([39.99, 116.47], 12);
    }
    var within = params().get("place") || "";
    var url = config.geojsonUrl + "?level=grid" + (within ? "&within=" + encodeURIComponent(within) : "");
    var load = geojsonCache[url] ? Promise.resolve(geojsonCache[url]) : getJSON(url);
    return load.then(function (collection) {
      geojsonCache[url] = collection;
      if (gridLayer) map.removeLayer(gridLayer);
      if (!collection.features.length) {
        note.textContent = T.mapEmpty;
        return;
      }
      gridLayer = L.geoJSON(collection, {
        style: function (feature) {
          var g = byCode[feature.properties.code];
          var count = g ? g.received : 0;
          return { color: "#5b6775", weight: 0.8, opacity: 0.8,
                   fillColor: HEAT[heatClass(count, min, max)], fillOpacity: 0.85 };
        },
        onEachFeature: function (feature, layer) {
          var g = byCode[feature.properties.code] || {};
          var tip = el("div");
          tip.appendChild(el("strong", {}, feature.properties.name));
          tip.appendChild(el("br"));
          tip.appendChild(document.createTextNode(T.received + ": " + fmt(g.received || 0, "int")));
          tip.appendChild(el("br"));
          tip.appendChild(document.createTextNode(T.overdue + ": " + fmt(g.overdue || 0, "int")));
          layer.bindTooltip(tip, { sticky: true });
        }
      }).addTo(map);
      map.fitBounds(gridLayer.getBounds(), { padding: [8, 8] });
      legend.textContent = "";
      legend.appendChild(el("li", {}, T.mapLegend + ":"));
      var steps = HEAT.length - 1;
      var seen = {};
      for (var i = 0; i <= steps; i++) {
        var low = i === 0 ? 0 : Math.ceil(min + ((i - 1) / steps) * (max - min));
        if (i > 0 && (seen[low] || low > max)) continue;  // few distinct counts: fewer classes
        seen[low] = true;
        var item = el("li");
        var swatch = el("span");
        swatch.style.background = HEAT[i === 0 ? 0 : heatClass(Math.max(low, 1), min, max)];
        item.appendChild(swatch);
        item.appendChild(document.createTextNode(i === 0 ? "0" : "≥ " + low));
        legend.appendChild(item);
      }
    });
  }

  function drawOverdue(overdue) {
    var note = document.querySelector("[data-overdue-note]");
    note.textContent = overdue.count
      ? interpolate(T.overdueShown, { shown: overdue.shown, count: overdue.count })
      : T.noOverdue;
    table("overdue", [["tracking_no", "nowrap"], ["title", "text"], ["category", "text"],
                      ["community", "text"], ["unit", "text"], ["state", "nowrap"],
                      ["resolve_deadline", "nowrap"], ["days_overdue", "hours"]], overdue.rows);
  }

  // --- load ---------------------------------------------------------------------------------

  function exportLinks(query) {
    document.querySelectorAll("[data-export]").forEach(function (link) {
      var q = new URLSearchParams(query);
      q.set("format", "xlsx");
      q.set("table", link.getAttribute("data-export"));
      link.setAttribute("href", config.dataUrl + "?" + q.toString());
    });
  }

  function load() {
    var query = params();
    var mine = ++request;
    exportLinks(query);
    history.replaceState(null, "", "?" + query.toString());
    statusNode.textContent = T.loading;
    panels.classList.add("is-loading");
    getJSON(config.dataUrl + "?" + query.toString()).then(function (data) {
      if (mine !== request) return;
      var p = data.period;
      var end = new Date(p.end + "T00:00:00");
      end.setDate(end.getDate() - 1);
      var last = end.getFullYear() + "-" + String(end.getMonth() + 1).padStart(2, "0") + "-" +
        String(end.getDate()).padStart(2, "0");
      statusNode.textContent = interpolate(T.periodLabel, { start: p.start, end: last }) + " · " +
        interpolate(T.generatedAt, { at: data.generated_at.replace("T", " ").slice(0, 16) });
      drawKpis(data.summary);
      drawTrend(data.trend);
      drawRanking("units", data.units, data.order);
      drawRanking("communities", data.communities, data.order);
      drawCategories(data.categories);
      drawOverdue(data.overdue);
      return drawMap(data.grids, data.ungridded);
    }).catch(function (error) {
      if (mine === request) statusNode.textContent = error.message || T.failed;
    }).then(function () {
      if (mine === request) panels.classList.remove("is-loading");
    });
  }

  // Restore the filters from the address (a reload or a shared link shows the same view).
  Object.keys(config.params).forEach(function (key) {
    var field = form.elements.namedItem(key);
    var value = config.params[key];
    if (field && value && Array.prototype.some.call(field.options, function (o) {
      return o.value === value;
    })) field.value = value;
  });
  form.addEventListener("change", load);
  form.addEventListener("submit", function (event) { event.preventDefault(); load(); });
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      Object.keys(charts).forEach(function (k) { charts[k].resize(); });
      if (map) map.invalidateSize();
    }, 150);
  });
  load();
})();
