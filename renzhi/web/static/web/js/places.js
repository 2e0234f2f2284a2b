/* The place browser: grid and community boundaries from our own GeoJSON API on a Leaflet map
   without any tile layer (nothing is fetched from the internet), plus point lookup. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("map-config").textContent);
  var T = config.text;
  var mapNode = document.querySelector("[data-map]");
  var statusNode = document.querySelector("[data-map-status]");
  var legendNode = document.querySelector("[data-map-legend]");
  var form = document.querySelector("[data-locate-form]");
  var resultNode = document.querySelector("[data-locate-result]");
  var panel = document.querySelector("[data-place-panel]");

  // Distinct, print-friendly colours; a community keeps its colour by code order.
  var PALETTE = ["#2f6fb5", "#d9822b", "#3d9a5b", "#c2413b", "#7f5bb0", "#8c6a4f",
                 "#c9579c", "#6b7785", "#a8a13a", "#2aa3b3", "#e0a21b", "#4a5fc1"];

  var map = L.map(mapNode, { attributionControl: false, zoomControl: false, zoomSnap: 0.25,
                             minZoom: 3, maxZoom: 19 });
  L.control.zoom({ zoomInTitle: T.zoomIn, zoomOutTitle: T.zoomOut }).addTo(map);
  map.setView([39.9, 116.4], 11);
  var colours = {};
  var communityNames = {};
  var gridLayers = {};
  var selectedLayer = null;
  var marker = null;
  var labelZoom = null;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) {
            var detail = (body && body.detail) || [];
            var message = detail.map(function (d) { return d.message; }).join(" ") || T.locateFailed;
            throw new Error(message);
          }
          return body;
        });
      });
  }

  function colourFor(communityCode) {
    if (!(communityCode in colours)) {
      colours[communityCode] = PALETTE[Object.keys(colours).length % PALETTE.length];
    }
    return colours[communityCode];
  }

  function tooltip(name, code) {
    var node = el("div");
    node.appendChild(el("strong", {}, name));
    node.appendChild(el("br"));
    node.appendChild(el("span", { class: "tooltip-code" }, code));
    return node;
  }

  function gridStyle(feature) {
    var colour = colourFor(feature.properties.parent_code);
    return { className: "rz-grid", color: colour, weight: 1.2, opacity: 0.9,
             fillColor: colour, fillOpacity: 0.28 };
  }

  function setStatus(text) { statusNode.textContent = text || ""; }

  function drawLegend(features) {
    legendNode.textContent = "";
    features.forEach(function (f) {
      var item = el("li");
      var swatch = el("span", { class: "swatch" });
      swatch.style.background = colourFor(f.properties.code);
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(f.properties.name));
      legendNode.appendChild(item);
    });
  }

  function draw(communities, grids) {
    communities.features.forEach(function (f) {
      colourFor(f.properties.code);
      communityNames[f.properties.code] = f.properties.name;
    });
    var gridLayer = L.geoJSON(grids, {
      style: gridStyle,
      onEachFeature: function (feature, layer) {
        gridLayers[feature.properties.code] = layer;
        layer.bindTooltip(tooltip(feature.properties.name, feature.properties.code), { sticky: true });
      },
    }).addTo(map);
    var communityLayer = L.geoJSON(communities, {
      style: { className: "rz-community", color: "#263645", weight: 2.4, opacity: 0.85, fill: false },
      interactive: false,
    }).addTo(map);
    communityLayer.eachLayer(function (layer) {
      var point = config.labelPoints[layer.feature.properties.code] || layer.getBounds().getCenter();
      L.tooltip({ permanent: true, direction: "center", className: "place-label", interactive: false })
        .setLatLng(point)
        .setContent(el("span", {}, layer.feature.properties.name))
        .addTo(map);
    });
    var bounds = gridLayer.getBounds();
    if (!bounds.isValid()) bounds = communityLayer.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [12, 12], animate: false });
      // On a narrow map the labels of a whole district crowd; show them once zoomed in.
      var crowded = mapNode.clientWidth < 600 && communities.features.length > 4;
      labelZoom = map.getZoom() + (crowded ? 0.75 : -0.5);
      updateLabels();
    }
    drawLegend(communities.features);
    setStatus(grids.features.length ? "" : T.noGrids);
    mapNode.setAttribute("data-grids", String(grids.features.length));
  }

  function updateLabels() {
    if (labelZoom === null) return;
    mapNode.classList.toggle("map-labels-hidden", map.getZoom() < labelZoom);
  }

  map.on("zoomend", updateLabels);

  setStatus(T.loading);
  Promise.all([
    getJSON(config.geojsonUrl + "?level=community"),
    getJSON(config.geojsonUrl + "?level=grid"),
  ]).then(function (layers) { draw(layers[0], layers[1]); })
    .catch(function () { setStatus(T.loadFailed); });

  // --- point lookup ------------------------------------------------------------------------

  function select(code) {
    if (selectedLayer) gridStyleReset(selectedLayer);
    selectedLayer = gridLayers[code] || null;
    if (selectedLayer) {
      selectedLayer.setStyle({ weight: 3.5, fillOpacity: 0.5 });
      selectedLayer.bringToFront();
    }
  }

  function gridStyleReset(layer) { layer.setStyle(gridStyle(layer.feature)); }

  function showPanel(result) {
    var grid = result.grid;
    panel.hidden = false;
    panel.querySelector("[data-place-name]").textContent = grid.name;
    var facts = panel.querySelector("[data-place-facts]");
    facts.textContent = "";
    [[T.code, grid.code], [T.level, grid.level_label],
     [T.community, result.community ? result.community.name : "—"],
     [T.population, String(grid.population)]].forEach(function (pair) {
      facts.appendChild(el("dt", {}, pair[0]));
      facts.appendChild(el("dd", {}, pair[1]));
    });
  }

  function showResult(result) {
    resultNode.textContent = "";
    if (!result.inside) {
      resultNode.appendChild(el("p", { class: "outside", "data-outside": "" }, result.message));
      panel.hidden = true;
      select(null);
      return;
    }
    resultNode.appendChild(el("p", {}, T.inside));
    var list = el("ol", { class: "path", "data-path": "" });
    ["district", "street", "community", "grid"].forEach(function (level) {
      var place = result[level];
      if (!place) return;
      var item = el("li");
      item.appendChild(el("span", { class: "level-tag level-" + level }, T.levels[level]));
      item.appendChild(document.createTextNode(" " + place.name + " "));
      item.appendChild(el("code", {}, place.code));
      list.appendChild(item);
    });
    resultNode.appendChild(list);
    select(result.grid.code);
    showPanel(result);
  }

  function fail(message) {
    resultNode.textContent = "";
    resultNode.appendChild(el("p", { class: "field-error" }, message));
  }

  function locate(lat, lng) {
    if (!isFinite(lat) || lat < -90 || lat > 90) return fail(T.badLat);
    if (!isFinite(lng) || lng < -180 || lng > 180) return fail(T.badLng);
    if (marker) marker.remove();
    marker = L.circleMarker([lat, lng], { className: "rz-marker", radius: 7, color: "#b8262b",
                                          weight: 2, fillColor: "#fff", fillOpacity: 1 }).addTo(map);
    resultNode.textContent = T.locating;
    var query = "?lat=" + encodeURIComponent(lat) + "&lng=" + encodeURIComponent(lng);
    getJSON(config.locateUrl + query).then(showResult).catch(function (error) { fail(error.message); });
  }

  function parse(value) {
    var text = String(value || "").trim();
    return text === "" ? NaN : Number(text);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    locate(parse(form.elements.lat.value), parse(form.elements.lng.value));
  });

  map.on("click", function (event) {
    form.elements.lat.value = event.latlng.lat.toFixed(6);
    form.elements.lng.value = event.latlng.lng.toFixed(6);
    locate(event.latlng.lat, event.latlng.lng);
  });
})();
