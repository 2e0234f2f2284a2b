/* A field task report: pre-fills the reporter's position when the browser may give it.
   Moved out of the template: the Content-Security-Policy allows no inline scripts. */
(function () {
  "use strict";
  var form = document.querySelector("[data-report-form]");
  if (!form || !navigator.geolocation) return;
  navigator.geolocation.getCurrentPosition(function (pos) {
    form.querySelector("[name=lat]").value = pos.coords.latitude.toFixed(6);
    form.querySelector("[name=lng]").value = pos.coords.longitude.toFixed(6);
  }, function () {}, { timeout: 5000 });
})();
