// The company page: draws the Plotly charts from their json_script payloads, redraws the
// ones an htmx swap replaced, follows a click on a waterfall bar to its evidence row, puts
// the cursor back in the evidence form after a save, and lets Ctrl+Enter save from the
// note. A file, not inline code: the CSP forbids inline handlers.
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
      // A waterfall bar carries its evidence id: a click goes to that note's row.
      if (figure.data.length && figure.data[0].type === "waterfall") {
        el.on("plotly_click", function (event) {
          var bar = event.points && event.points[0];
          if (bar && bar.customdata) showEvidence(bar.customdata);
        });
      }
    });
  }

  function showEvidence(id) {
    var row = document.getElementById("evidence-" + id);
    if (!row) return;
    row.scrollIntoView({ behavior: "smooth", block: "center" });
    row.classList.remove("evidence-highlight");
    void row.offsetWidth; // restart the highlight when the same bar is clicked again
    row.classList.add("evidence-highlight");
    window.setTimeout(function () {
      row.classList.remove("evidence-highlight");
    }, 2500);
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
