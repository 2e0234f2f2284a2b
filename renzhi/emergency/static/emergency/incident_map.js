/* An incident's area and point on a tile-less Leaflet map.
   Moved out of the template: the Content-Security-Policy allows no inline scripts. */
(function () {
  "use strict";
  var el = document.getElementById("incident-map");
  if (!el || !window.L) return;
  var data = JSON.parse(JSON.parse(document.getElementById("incident-map-data").textContent));
  var map = L.map(el, { attributionControl: false });
  var layer = L.geoJSON(data, { style: { color: "#c62828", weight: 2, fillOpacity: 0.15 } }).addTo(map);
  if (data.point) { L.circleMarker(data.point, { radius: 7, color: "#c62828" }).addTo(map); }
  if (layer.getLayers().length) { map.fitBounds(layer.getBounds(), { padding: [10, 10] }); }
  else if (data.point) { map.setView(data.point, 14); }
  else { map.setView([39.9, 116.4], 11); }
})();
