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

  // --- The evidence form: which way the note pushes, and the date picker ----------------

  var directionTable = null;

  function directions() {
    if (directionTable === null) {
      var payload = document.getElementById("factor-directions");
      directionTable = payload ? JSON.parse(payload.textContent) : {};
    }
    return directionTable;
  }

  // What the note does to the moat, in the server's own words (directions.table(), the same
  // parts as templates/assessments/_direction.html): the script only picks the entry.
  function describeDirection(form) {
    var out = form.querySelector("[data-direction]");
    var factor = form.querySelector("[data-direction-factor]");
    var stance = form.querySelector("[data-direction-stance]:checked");
    if (!out || !factor || !stance) return;
    var info = directions()[factor.value];
    var said = info && info[stance.value];
    var badge = out.querySelector("[data-moat-effect]");
    if (!said || !badge) return;
    badge.className = "moat-effect moat-" + said.effect;
    badge.querySelector("[data-moat-arrow]").textContent = said.arrow;
    badge.querySelector("[data-moat-words]").textContent = said.words;
    out.querySelector("[data-direction-said]").textContent = said.said;
    var detail = out.querySelector("[data-direction-detail]");
    if (detail) detail.textContent = "· " + said.detail;
  }

  function describeAllDirections() {
    document.querySelectorAll("form.evidence-form").forEach(describeDirection);
  }

  function onDirectionInput(event) {
    var target = event.target;
    if (!target.closest || !target.matches("[data-direction-factor], [data-direction-stance]")) {
      return;
    }
    var form = target.closest("form.evidence-form");
    if (form) describeDirection(form);
  }

  // The date is one text field (one tab stop); the calendar button sits outside the tab
  // order and fills the text field from a native picker.
  function onDatePick(event) {
    var button = event.target.closest && event.target.closest("[data-date-pick]");
    if (!button) return;
    var picker = button.parentElement.querySelector("[data-date-picker]");
    var text = button.parentElement.querySelector("[data-date-text]");
    if (!picker || !text) return;
    if (/^\d{4}-\d{2}-\d{2}$/.test(text.value)) picker.value = text.value;
    if (typeof picker.showPicker === "function") picker.showPicker();
    else picker.focus();
  }

  function onDatePicked(event) {
    var picker = event.target;
    if (!picker.matches || !picker.matches("[data-date-picker]") || !picker.value) return;
    var text = picker.parentElement.querySelector("[data-date-text]");
    if (text) {
      text.value = picker.value;
      text.focus();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw();
    describeAllDirections();
  });
  document.addEventListener("htmx:afterSettle", function () {
    draw();
    describeAllDirections();
    focusRequested();
  });
  document.addEventListener("change", onDirectionInput);
  document.addEventListener("input", onDirectionInput);
  document.addEventListener("click", onDatePick);
  document.addEventListener("change", onDatePicked);
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    var form = event.target.closest && event.target.closest("form.evidence-form");
    if (form) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
})();
