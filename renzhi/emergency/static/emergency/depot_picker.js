/* The depot form: pick the position on a tile-less map within the chosen place.
   Moved out of the template: the Content-Security-Policy allows no inline scripts. */
(function () {
  "use strict";
  var el = document.getElementById("depot-picker");
  if (!el || !window.L) return;
  var data = JSON.parse(document.getElementById("depot-picker-data").textContent) || {};
  var lat = document.getElementById("id_lat"), lng = document.getElementById("id_lng");
  var place = document.getElementById("id_place");
  var map = L.map(el, { attributionControl: false });
  var outline = null, marker = null;
  function mark() {
    var a = parseFloat(lat.value), b = parseFloat(lng.value);
    if (isNaN(a) || isNaN(b)) { if (marker) { map.removeLayer(marker); marker = null; } return; }
    if (marker) { marker.setLatLng([a, b]); } else { marker = L.circleMarker([a, b], { radius: 8, color: "#1f5fbf", fillOpacity: 0.8 }).addTo(map); }
  }
  function show() {
    if (outline) { map.removeLayer(outline); outline = null; }
    var p = (data.places || {})[place.value];
    if (p && p.boundary) {
      outline = L.geoJSON(p.boundary, { style: { color: "#607080", weight: 2, fillOpacity: 0.08 } }).addTo(map);
      map.fitBounds(outline.getBounds(), { padding: [10, 10] });
    } else if (p && p.centre) { map.setView(p.centre, 15); }
    else if (!isNaN(parseFloat(lat.value))) { map.setView([parseFloat(lat.value), parseFloat(lng.value)], 15); }
    else { map.setView([39.9, 116.4], 11); }
  }
  map.on("click", function (e) {
    lat.value = e.latlng.lat.toFixed(6); lng.value = e.latlng.lng.toFixed(6); mark();
  });
  place.addEventListener("change", show);
  lat.addEventListener("change", mark); lng.addEventListener("change", mark);
  show(); mark();
})();
