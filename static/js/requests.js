// Every htmx request, on every page: its form's submit buttons are disabled while it is in
// flight (a double click sends one request), and a failure is said out loud — a refusal,
// a server error or a lost connection — instead of nothing happening. htmx does not swap a
// failed response, so whatever the user typed stays in the form to try again.
(function () {
  "use strict";

  var MESSAGES = {
    400: "The server could not accept this input. Check the fields and try again.",
    403: "You are not allowed to do this (your role may have changed). Reload the page.",
    404: "This record no longer exists; someone may have deleted it. Reload the page.",
    409: "Someone else saved this record in the meantime. Reload the page to see their version.",
    413: "This is too large to send. Split it up and try again.",
    429: "Too many requests in a short time. Wait a moment and try again.",
    503: "The service is briefly unavailable. Nothing was saved; try again in a moment."
  };
  var SERVER_ERROR = "The server failed to answer this request. Nothing was saved; " +
    "what you typed is still here — try again, or copy it somewhere safe.";
  var OFFLINE = "The server could not be reached (connection lost?). Nothing was saved; " +
    "what you typed is still here — try again when you are back online.";

  function banner() {
    var box = document.getElementById("request-error");
    if (!box) {
      box = document.createElement("div");
      box.id = "request-error";
      box.className = "request-error";
      box.setAttribute("role", "alert");
      var text = document.createElement("p");
      var close = document.createElement("button");
      close.type = "button";
      close.className = "link";
      close.textContent = "Dismiss";
      close.addEventListener("click", function () { box.hidden = true; });
      box.appendChild(text);
      box.appendChild(close);
      document.body.insertBefore(box, document.body.firstChild);
    }
    return box;
  }

  function show(message) {
    var box = banner();
    box.firstChild.textContent = message;
    box.hidden = false;
  }

  function plainText(xhr) {
    // A short plain-text answer (an export that cannot be made) says best what went wrong.
    var type = xhr.getResponseHeader("Content-Type") || "";
    var body = (xhr.responseText || "").trim();
    return type.indexOf("text/plain") === 0 && body && body.length < 400 ? body : "";
  }

  function submitButtons(elt) {
    var form = elt.closest ? elt.closest("form") : null;
    if (!form) return [];
    return Array.prototype.slice.call(
      form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]")
    );
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    // The parameters are already collected: disabling now does not drop the submitter.
    submitButtons(event.detail.elt).forEach(function (button) {
      if (!button.disabled) {
        button.disabled = true;
        button.setAttribute("data-in-flight", "true");
      }
    });
    var box = document.getElementById("request-error");
    if (box) box.hidden = true;
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    submitButtons(event.detail.elt).forEach(function (button) {
      if (button.getAttribute("data-in-flight")) {
        button.disabled = false;
        button.removeAttribute("data-in-flight");
      }
    });
  });

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    show(plainText(xhr) || MESSAGES[xhr.status] || (xhr.status >= 500 ? SERVER_ERROR : MESSAGES[400]));
  });

  document.addEventListener("htmx:sendError", function () { show(OFFLINE); });
  document.addEventListener("htmx:timeout", function () { show(OFFLINE); });
})();
