/* Shell behaviour: the phone menu button, confirmation of destructive forms, and filters that
   submit on change (`data-autosubmit` on a field; the CSP forbids inline onchange handlers). */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-menu-toggle]");
    if (!toggle) return;
    var header = toggle.closest(".site-header");
    var open = header.classList.toggle("menu-open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // Menu sections: one drop-down open at a time, closed by a click elsewhere; in the phone menu
  // the section holding the current page starts open.
  document.addEventListener("toggle", function (event) {
    var opened = event.target;
    if (!opened.matches || !opened.matches("[data-nav-group]") || !opened.open) return;
    if (document.querySelector(".site-header.menu-open")) return;
    document.querySelectorAll("[data-nav-group][open]").forEach(function (other) {
      if (other !== opened) other.open = false;
    });
  }, true);

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-nav-group]")) return;
    if (document.querySelector(".site-header.menu-open")) return;
    document.querySelectorAll("[data-nav-group][open]").forEach(function (group) {
      group.open = false;
    });
  });

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-menu-toggle]");
    if (!toggle || !toggle.closest(".site-header").classList.contains("menu-open")) return;
    document.querySelectorAll("[data-nav-group][data-current]").forEach(function (group) {
      group.open = true;
    });
  });

  document.addEventListener("change", function (event) {
    var field = event.target;
    if (!field.matches || !field.matches("[data-autosubmit]") || !field.form) return;
    if (field.form.requestSubmit) field.form.requestSubmit(); else field.form.submit();
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
