/* Incidents on a tile-less Leaflet map; each marker links to its incident.
   Moved out of the template: the Content-Security-Policy allows no inline scripts. */
(function () {
  "use strict";
  var el = document.getElementById("incidents-map");
  if (!el || !window.L) return;
  var points = JSON.parse(document.getElementById("incidents-map-data").textContent);
  var colours = { 1: "#c62828", 2: "#ef6c00", 3: "#c9a400", 4: "#1f5fbf" };
  var map = L.map(el, { attributionControl: false });
  var group = L.featureGroup(points.map(function (p) {
    var marker = L.circleMarker([p.lat, p.lng], { radius: 9, color: colours[p.severity], fillOpacity: 0.6 });
    var link = document.createElement("a");
    link.href = p.url; link.textContent = p.title;
    return marker.bindPopup(link);
  })).addTo(map);
  map.fitBounds(group.getBounds(), { padding: [30, 30], maxZoom: 14 });
})();
