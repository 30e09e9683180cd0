// The review queue: "select all on this page" for the bulk verify. A file, not inline code:
// the CSP forbids inline handlers.
(function () {
  "use strict";

  function onSelectAll(event) {
    var box = event.target;
    if (!box.matches || !box.matches("[data-select-all]")) return;
    document.querySelectorAll('input[name="evidence"][form="bulk-form"]').forEach(function (el) {
      el.checked = box.checked;
    });
  }

  document.addEventListener("change", onSelectAll);
})();
