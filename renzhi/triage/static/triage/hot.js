/* Hot issues on a Leaflet map: our own community/street boundaries, no tile layer (offline).
   The view is set before any layer is added: Leaflet cannot draw vectors on a map without one. */
(function () {
  "use strict";

  // Titles come from residents' appeals: tooltips get DOM nodes with text, never HTML strings.
  function textNode(tag, text, className) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    node.textContent = text;
    return node;
  }

  var data = JSON.parse(document.getElementById("hot-data").textContent);
  var node = document.querySelector("[data-hot-map]");
  if (!node || !window.L) return;
  var map = L.map(node, { attributionControl: false, zoomSnap: 0.25 });
  var layers = [];
  var bounds = L.latLngBounds([]);
  data.areas.forEach(function (area) {
    var layer = L.geoJSON(area.boundary, {
      style: { color: "#2f6fb5", weight: 1, fillOpacity: 0.06 }
    }).bindTooltip(textNode("span", area.name));
    var b = layer.getBounds();
    if (b.isValid()) bounds.extend(b);
    layers.push(layer);
  });
  data.issues.forEach(function (issue) {
    issue.points.forEach(function (p) {
      layers.push(L.circleMarker([p[0], p[1]],
        { radius: 4, color: "#c2413b", weight: 1, fillOpacity: 0.5 }));
      bounds.extend([p[0], p[1]]);
    });
    var label = L.divIcon({ className: "hot-label", html: textNode("span", String(issue.rank)),
                            iconSize: [24, 24] });
    layers.push(L.marker([issue.lat, issue.lng], { icon: label, title: issue.title })
      .bindTooltip(textNode("span", issue.rank + ". " + issue.title + " · " + data.text.heat + " " +
                            issue.heat)));
    bounds.extend([issue.lat, issue.lng]);
  });
  if (bounds.isValid()) {
    map.fitBounds(bounds, { padding: [16, 16], maxZoom: 16 });
  } else {
    map.setView([39.9, 116.4], 11);
  }
  layers.forEach(function (layer) { layer.addTo(map); });
})();
