/* The portfolio map: draws the figure that each htmx fragment carries as JSON,
   opens a company's page on click, and ties the as-of slider to the date field.
   A file (not inline script) because the CSP allows only our own scripts. */
(function () {
  "use strict";

  // Elements already wired up (a WeakSet, not a data attribute, because htmx's history
  // snapshots copy attributes but not listeners).
  var bound = new WeakSet();
  var drawn = null;

  function region() { return document.getElementById("map-region"); }

  function draw() {
    var payload = document.getElementById("map-figure");
    var chart = document.getElementById("map-chart");
    if (!payload || !chart || !window.Plotly || payload === drawn) { return; }
    drawn = payload;
    var figure = JSON.parse(payload.textContent);
    window.Plotly.react(chart, figure.data, figure.layout, figure.config).then(function () {
      if (bound.has(chart)) { return; }
      bound.add(chart);
      chart.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        if (point && point.customdata) { openCompany(point.customdata[0]); }
      });
    });
  }

  function openCompany(companyId) {
    var here = region();
    if (!here) { return; }
    window.location.assign(here.dataset.companyUrl.replace("/0/", "/" + companyId + "/"));
  }

  function bindSlider() {
    var slider = document.getElementById("as-of-slider");
    var field = document.getElementById("as-of");
    if (!slider || !field || bound.has(slider)) { return; }
    bound.add(slider);
    var months = slider.dataset.months.split(",");
    function syncSlider() {
      var index = months.length - 1;
      for (var i = 0; i < months.length; i++) {
        if (months[i] >= field.value) { index = i; break; }
      }
      slider.value = String(index);
    }
    syncSlider();
    // "input" runs before the "change" that bubbles to the form, so the request
    // htmx sends on that change already carries the new date.
    slider.addEventListener("input", function () { field.value = months[Number(slider.value)]; });
    field.addEventListener("change", syncSlider);
  }

  // A date typed digit by digit fires "change" at every complete date: only the last of a
  // quick run reaches the form, whose trigger answers every other change (a select) at once.
  // (A delay in hx-trigger would hold back selects too; a filter in it needs eval, which the
  // CSP forbids.)
  function bindDates() {
    var fields = document.querySelectorAll("#map-filters input[type=date]");
    Array.prototype.forEach.call(fields, function (field) {
      if (bound.has(field)) { return; }
      bound.add(field);
      var timer = null;
      field.addEventListener("change", function (event) {
        if (event.detail === "settled") { return; }
        event.stopPropagation();
        window.clearTimeout(timer);
        timer = window.setTimeout(function () {
          field.dispatchEvent(new CustomEvent("change", { bubbles: true, detail: "settled" }));
        }, 150);
      });
    });
  }

  function init() { bindSlider(); bindDates(); draw(); }

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", draw);
  // Back and forward restore the page from htmx's history cache: redraw what it restored.
  document.addEventListener("htmx:historyRestore", init);
  window.addEventListener("resize", function () {
    var chart = document.getElementById("map-chart");
    if (chart && window.Plotly && chart.data) { window.Plotly.Plots.resize(chart); }
  });
})();
