/* The portfolio map: draws the figure that each htmx fragment carries as JSON into the one
   chart element the swaps keep (no taller than the window leaves room for, so the whole
   chart is on the first screen), opens a company's page on click, and ties the as-of
   slider and its shortcuts to the date field.
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
    fit(chart, figure.layout);
    var small = narrow(chart, figure.layout);
    window.Plotly.react(chart, figure.data, figure.layout, figure.config).then(function () {
      if (small) { fitNarrow(chart); }
      if (bound.has(chart)) { return; }
      bound.add(chart);
      chart.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        if (point && point.customdata) { openCompany(point.customdata[0]); }
      });
    });
  }

  // The figure's own height where the window has room for it below the chart's top, else
  // what is left (never under MIN_HEIGHT: a shorter square would crowd the bubbles). A
  // legend below the plot keeps its distance from the axis in pixels, not as a fraction
  // of the now shorter plot, so it stays clear of the axis title.
  var MIN_HEIGHT = 440;
  function fit(chart, layout) {
    var top = chart.getBoundingClientRect().top + window.scrollY;
    var room = Math.floor(window.innerHeight - top - 8);
    var height = Math.max(MIN_HEIGHT, Math.min(layout.height || room, room));
    var margin = layout.margin || {};
    var plot = function (h) { return h - (margin.t || 0) - (margin.b || 0); };
    if (layout.height && height < layout.height && layout.legend && layout.legend.y < 0 && plot(height) > 0) {
      layout.legend.y = layout.legend.y * plot(layout.height) / plot(height);
    }
    layout.height = height;
  }

  // On a phone the plot is a fifth as wide as the one the figure was laid out for: the
  // axis titles keep their words before the bracket, and the quadrants' names fold onto
  // two lines in a smaller size, so neither runs past the plot nor into its neighbour.
  var NARROW = 640;
  function narrow(chart, layout) {
    if (chart.clientWidth >= NARROW) { return false; }
    ["xaxis", "yaxis"].forEach(function (name) {
      var title = layout[name] && layout[name].title;
      if (title && title.text) { title.text = title.text.split(" (")[0]; }
    });
    (layout.annotations || []).forEach(function (note) {
      if (note.name !== "quadrant") { return; }
      note.text = note.text.replace(" ", "<br>");
      note.font = Object.assign({}, note.font, { size: 11 });
    });
    return true;
  }

  // Once drawn on a phone: the lines' legend goes below the x-axis' title and wrapped into
  // more rows, so the bubbles' legend goes below however many it took and the chart grows
  // by as much (the plot keeps its size); and a label placed for a wider plot that would
  // run off the chart, or onto a quadrant's name or an earlier label, is left out (hover
  // and the table name every bubble).
  var GAP = 6;
  function fitNarrow(chart) {
    var layout = chart._fullLayout;
    var lines = chart.querySelector(".legend");
    var bubbles = chart.querySelector(".legend2");
    if (!layout) { return; }
    var update = {};
    var title = chart.querySelector(".g-xtitle .xtitle");
    if (lines && bubbles && title) {
      var plot = layout._size.h;
      // The x-axis' ticks stand upright on a narrow plot and push its title down.
      var y1 = Math.min(layout.legend.y,
        layout.legend.y - (title.getBoundingClientRect().bottom + GAP - lines.getBoundingClientRect().top) / plot);
      var y2 = y1 - (lines.getBoundingClientRect().height + GAP) / plot;
      var bottom = Math.ceil(-y2 * plot + bubbles.getBoundingClientRect().height + GAP);
      var grow = Math.max(0, bottom - layout.margin.b);
      update["legend.y"] = y1;
      update["legend2.y"] = y2;
      update["margin.b"] = layout.margin.b + grow;
      update.height = layout.height + grow;
    }
    var frame = chart.getBoundingClientRect();
    var notes = [];
    Array.prototype.forEach.call(chart.querySelectorAll("g.annotation[data-index]"), function (g) {
      var index = Number(g.getAttribute("data-index"));
      var text = g.querySelector(".annotation-text");
      if (!text) { return; }
      notes.push({ index: index, note: layout.annotations[index] || {}, box: text.getBoundingClientRect() });
    });
    var kept = notes.filter(function (n) { return n.note.name === "quadrant"; });
    notes.forEach(function (n) {
      if (!/^label /.test(n.note.name || "")) { return; }  // charts/base.py names them
      var off = n.box.left < frame.left || n.box.right > frame.right;
      if (off || kept.some(function (k) { return overlap(k.box, n.box); })) {
        update["annotations[" + n.index + "].visible"] = false;
      } else {
        kept.push(n);
      }
    });
    window.Plotly.relayout(chart, update);
  }

  function overlap(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }

  function openCompany(companyId) {
    var here = region();
    if (!here) { return; }
    window.location.assign(here.dataset.companyUrl.replace("/0/", "/" + companyId + "/"));
  }

  // The slider moves by day from the first evidence to today; the date field beside it
  // always shows the exact date, and is what the form sends.
  var DAY = 86400000;
  function bindSlider() {
    var slider = document.getElementById("as-of-slider");
    var field = document.getElementById("as-of");
    if (!slider || !field || bound.has(slider)) { return; }
    bound.add(slider);
    var first = Date.parse(slider.dataset.first + "T00:00:00Z");
    function syncSlider() {
      var day = field.value ? Math.round((Date.parse(field.value + "T00:00:00Z") - first) / DAY) : Number(slider.max);
      slider.value = String(Math.max(0, Math.min(Number(slider.max), day)));
    }
    syncSlider();
    // "input" runs before the "change" that bubbles to the form, so the request
    // htmx sends on that change already carries the new date.
    slider.addEventListener("input", function () {
      field.value = new Date(first + Number(slider.value) * DAY).toISOString().slice(0, 10);
    });
    field.addEventListener("change", syncSlider);
  }

  // "A year ago" and "Today" set the date in one click. (Without JavaScript they submit
  // the form themselves.)
  function bindJumps() {
    var field = document.getElementById("as-of");
    var buttons = document.querySelectorAll("#map-filters .as-of-jump");
    Array.prototype.forEach.call(buttons, function (button) {
      if (!field || bound.has(button)) { return; }
      bound.add(button);
      button.addEventListener("click", function (event) {
        event.preventDefault();
        field.value = button.value;
        field.dispatchEvent(new CustomEvent("change", { bubbles: true, detail: "settled" }));
      });
    });
  }

  // "More filters (n)": how many of the folded filters are set, kept current as they change.
  function countFolded() {
    var folded = document.querySelector("#map-filters .more-filters");
    if (!folded) { return; }
    var set = 0;
    Array.prototype.forEach.call(folded.querySelectorAll("select, input"), function (input) {
      if (input.tagName === "SELECT" ? input.selectedIndex > 0 : input.value) { set += 1; }
    });
    folded.querySelector("summary").textContent = "More filters" + (set ? " (" + set + ")" : "");
    if (set) { folded.dataset.set = String(set); } else { delete folded.dataset.set; }
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

  function init() { bindSlider(); bindJumps(); bindDates(); countFolded(); draw(); }

  document.addEventListener("DOMContentLoaded", init);
  // After the settle, when htmx has finished with the page: the chart's element is kept
  // through the swap (hx-preserve), so plotly.js redraws in place what it already owns.
  document.addEventListener("htmx:afterSettle", draw);
  document.addEventListener("change", function (event) {
    if (event.target.closest && event.target.closest(".more-filters")) { countFolded(); }
  });
  // Back and forward: htmx fetches the page again (no copy is kept, see base.html) and swaps
  // it in; draw what it brought.
  document.addEventListener("htmx:historyRestore", init);
  window.addEventListener("resize", function () {
    var chart = document.getElementById("map-chart");
    if (chart && window.Plotly && chart.data) { window.Plotly.Plots.resize(chart); }
  });
})();
