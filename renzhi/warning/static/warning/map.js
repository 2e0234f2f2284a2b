/* Current warnings on a tile-less Leaflet map: our own boundaries, filled by warning colour. */
(function () {
  "use strict";
  var node = document.querySelector("[data-warning-map]");
  if (!node || !window.L) return;
  var data = JSON.parse(document.getElementById("map-data").textContent);
  var COLOURS = { red: "#c62828", orange: "#ef6c00", yellow: "#f2c200", blue: "#1565c0" };
  var map = L.map(node, { attributionControl: false, zoomSnap: 0.25 });
  var outline = L.geoJSON(data.outline, { style: { color: "#78909c", weight: 1, fillColor: "#fff", fillOpacity: 0.6 } }).addTo(map);
  var areas = L.geoJSON(data.areas, {
    style: function (f) { var c = COLOURS[f.properties.colour] || "#666"; return { color: c, weight: 2, fillColor: c, fillOpacity: 0.45 }; },
    onEachFeature: function (f, layer) {
      var box = document.createElement("div");
      var strong = document.createElement("strong");
      strong.textContent = f.properties.level + " · " + f.properties.place;
      box.appendChild(strong);
      box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode(f.properties.headline));
      layer.bindTooltip(box);
      layer.on("click", function () { window.location.href = "../" + f.properties.warning + "/"; });
    }
  }).addTo(map);
  var bounds = outline.getBounds();
  if (areas.getLayers().length) bounds.extend(areas.getBounds());
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [10, 10] }); else map.setView([39.95, 116.45], 12);
})();
