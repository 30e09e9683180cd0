// The company page: draws the Plotly charts from their json_script payloads, redraws the
// ones an htmx swap replaced, puts the cursor back in the evidence form after a save, and
// lets Ctrl+Enter save from the note. A file, not inline code: the CSP forbids inline handlers.
(function () {
  "use strict";

  function draw() {
    if (typeof Plotly === "undefined") return;
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      var payload = document.getElementById(el.dataset.figure);
      // A swapped-in chart is a new, empty element; one already drawn keeps its figure.
      if (!payload || el.dataset.drawn === "true") return;
      var figure = JSON.parse(payload.textContent);
      Plotly.react(el, figure.data, figure.layout, { displaylogo: false, responsive: true });
      el.dataset.drawn = "true";
    });
  }

  function focusRequested() {
    var el = document.querySelector("[data-autofocus]");
    if (!el) return;
    el.removeAttribute("data-autofocus");
    el.focus();
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", function () {
    draw();
    focusRequested();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    var form = event.target.closest && event.target.closest("form.evidence-form");
    if (form) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
})();
