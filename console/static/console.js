// The console works without this file; it only adds confirmations and guards.
// Loaded from /static (the CSP allows no inline script).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Buttons with data-confirm ask first (revealing personal details is audited).
  document.querySelectorAll("button[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
  // "Correct" in the NLU inbox needs an intent chosen first.
  document.querySelectorAll("form.review").forEach(function (form) {
    var select = form.querySelector("select.intent");
    var correct = form.querySelector("button.correct");
    if (!select || !correct) { return; }
    var update = function () { correct.disabled = !select.value; };
    select.addEventListener("change", update);
    update();
  });
});
