/* Depots on a tile-less Leaflet map, coloured by stock status, over our own outlines.
   Moved out of the template: the Content-Security-Policy allows no inline scripts. */
(function () {
  "use strict";
  var el = document.getElementById("depot-map");
  if (!el || !window.L) return;
  var data = JSON.parse(document.getElementById("depot-map-data").textContent);
  var colours = { low: "#c62828", expiring: "#ef8f00", ok: "#2e7d32" };
  var map = L.map(el, { attributionControl: false });
  var outlines = L.geoJSON(data.outlines, { style: { color: "#8795a1", weight: 1.5, fillOpacity: 0.06 }, interactive: false }).addTo(map);
  function text(tag, value, cls) { var n = document.createElement(tag); n.textContent = value; if (cls) n.className = cls; return n; }
  var depots = L.geoJSON(data.depots, {
    pointToLayer: function (f, latlng) {
      return L.circleMarker(latlng, { radius: 9, weight: 2, color: "#fff", fillColor: colours[f.properties.status] || "#607080", fillOpacity: 0.95 });
    },
    onEachFeature: function (f, layer) {
      var p = f.properties, box = document.createElement("div");
      var link = text("a", p.name); link.href = p.url; link.style.fontWeight = "600";
      box.appendChild(link);
      box.appendChild(text("div", p.kind + " · " + p.place, "small muted"));
      box.appendChild(text("div", p.status_label));
      layer.bindPopup(box);
      layer.bindTooltip(text("span", p.name));
    }
  }).addTo(map);
  var bounds = depots.getLayers().length ? depots.getBounds() : null;
  if (outlines.getLayers().length) { bounds = bounds ? bounds.extend(outlines.getBounds()) : outlines.getBounds(); }
  if (bounds) { map.fitBounds(bounds, { padding: [16, 16], maxZoom: 16 }); } else { map.setView([39.9, 116.4], 11); }
})();
