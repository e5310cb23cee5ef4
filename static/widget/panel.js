/*
 * The help panel's own script (inside the console's iframe). Fills the contact form's hidden page
 * facts from the iframe URL's fragment (set by widget.js) and from postMessage updates of the host
 * page — accepted only from the parent window and only from the widget's allowed origins
 * (body[data-parent-origins]) — and lists them read-only under "Attached from this page".
 * Tells the host page when the panel is ready, when it should close, and the key of a filed case.
 */
(function () {
  "use strict";
  var body = document.body;
  var origins = (body.getAttribute("data-parent-origins") || "").split(" ").filter(Boolean);
  var inFrame = window.parent && window.parent !== window;

  function toParent(message) {
    if (!inFrame) { return; }
    origins.forEach(function (origin) {  // delivered only where the parent's origin matches
      window.parent.postMessage(message, origin);
    });
  }

  var form = document.querySelector("[data-widget-form]");
  var LABELS = {
    error_ids: "Error IDs",
    trace_links: "Trace links",
    page_url: "Page",
    browser: "Browser",
    app_version: "App version"
  };

  function field(name) {
    return form ? form.querySelector('input[type="hidden"][name="' + name + '"]') : null;
  }

  function lines(value) {
    return (value || "").split("\n").map(function (s) { return s.trim(); }).filter(Boolean);
  }

  function render() {
    var section = form && form.querySelector("[data-widget-attached]");
    var list = form && form.querySelector("[data-widget-attached-list]");
    if (!section || !list) { return; }
    while (list.firstChild) { list.removeChild(list.firstChild); }
    var any = false;
    Object.keys(LABELS).forEach(function (name) {
      var input = field(name);
      var values = input ? lines(input.value) : [];
      if (!values.length) { return; }
      any = true;
      var dt = document.createElement("dt");
      dt.textContent = LABELS[name];
      list.appendChild(dt);
      values.forEach(function (value) {
        var dd = document.createElement("dd");
        dd.textContent = value;
        dd.title = value;
        dd.setAttribute("data-attached", name);
        list.appendChild(dd);
      });
    });
    section.hidden = !any;
  }

  function set(name, value, merge) {
    var input = field(name);
    if (!input || value === undefined || value === null) { return; }
    if (merge) {
      var current = lines(input.value);
      lines(value).forEach(function (v) { if (current.indexOf(v) < 0) { current.push(v); } });
      input.value = current.join("\n");
    } else {
      input.value = String(value);
    }
  }

  if (form) {
    var params = new URLSearchParams(window.location.hash.slice(1));
    Object.keys(LABELS).forEach(function (name) {
      if (params.has(name)) { set(name, params.get(name), false); }
    });
    render();
    form.addEventListener("submit", function () {
      var button = form.querySelector("[data-widget-submit]");
      if (button) {  // one case per click
        button.disabled = true;
        button.textContent = "Sending…";
      }
    });
    window.addEventListener("message", function (event) {
      if (event.source !== window.parent || origins.indexOf(event.origin) < 0) { return; }
      var message = event.data || {};
      if (message.type !== "companyos:attach") { return; }
      if (Array.isArray(message.errorIds)) { set("error_ids", message.errorIds.map(String).join("\n"), true); }
      if (Array.isArray(message.traceLinks)) { set("trace_links", message.traceLinks.map(String).join("\n"), true); }
      if (typeof message.appVersion === "string" && message.appVersion) { set("app_version", message.appVersion, false); }
      render();
    });
  }

  document.querySelectorAll("[data-widget-close]").forEach(function (button) {
    if (!inFrame) { button.hidden = true; return; }
    button.addEventListener("click", function () { toParent({ type: "companyos:close" }); });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { toParent({ type: "companyos:close" }); }
  });

  var filed = body.getAttribute("data-filed-key");
  if (filed) { toParent({ type: "companyos:filed", key: filed }); }
  toParent({ type: "companyos:ready" });
})();
