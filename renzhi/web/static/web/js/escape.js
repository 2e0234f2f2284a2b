/* window.Renzhi.escapeHtml: for the few places a library insists on an HTML string (ECharts
   tooltip formatters render what they return as HTML). Everywhere else, build the DOM with
   document.createElement and textContent; never pass data as HTML. */
(function () {
  "use strict";
  var ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  window.Renzhi = window.Renzhi || {};
  window.Renzhi.escapeHtml = function (value) {
    return String(value === null || value === undefined ? "" : value).replace(/[&<>"']/g, function (c) {
      return ENTITIES[c];
    });
  };
})();
