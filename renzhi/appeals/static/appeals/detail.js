/* The case page: bring a step whose form came back with errors into view. */
(function () {
  "use strict";
  var failed = document.querySelector(".steps .has-error, .steps .alert-error");
  if (failed) {
    var step = failed.closest("details");
    if (step) step.open = true;
    failed.scrollIntoView({ block: "center" });
  }
})();
