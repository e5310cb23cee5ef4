/*
 * CompanyOS in-app help widget — the host page's side.
 *
 *   <script src="https://support.example.com/static/widget/widget.js"
 *           data-tenant-context="v1.wk_….….…"          (signed by the host's backend: README)
 *           data-app-version="4.2.1"                   (optional)
 *           data-error-ids="ERR-5XX-1042 ERR-TIMEOUT"  (optional; spaces or commas)
 *           data-trace-links="https://traces.example/t/4bf9…"  (optional; spaces)
 *           data-label="Help" defer></script>
 *
 * Adds a "Help" button; it opens the console's help panel in an iframe. What the page knows (error
 * ids, trace links, its URL, the browser, the app version) goes in the iframe URL's fragment, which is
 * never sent to a server, and later additions by postMessage to the console's origin only.
 *
 * Script API (window.CompanyOSWidget): open(), close(), attach({errorIds, traceLinks, appVersion}),
 * setContext(signedContext), onFiled(function (caseKey) {…}).
 *
 * CSP-safe: no eval, no inline script or style attributes (styles are set through the CSSOM), no
 * third-party code. The host page's own CSP needs the console's origin in script-src and frame-src.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.CompanyOSWidget) {
    return;
  }
  var consoleOrigin = new URL(script.src, window.location.href).origin;
  var data = script.dataset;

  function words(text, pattern) {
    return (text || "").split(pattern).map(function (s) { return s.trim(); }).filter(Boolean);
  }
  function addAll(list, items) {
    (items || []).forEach(function (item) {
      item = String(item).trim();
      if (item && list.indexOf(item) < 0) {
        list.push(item);
      }
    });
  }

  var state = {
    context: data.tenantContext || "",
    appVersion: data.appVersion || "",
    errorIds: words(data.errorIds, /[\s,]+/),
    traceLinks: words(data.traceLinks, /\s+/)
  };
  var filedCallbacks = [];
  var launcher, container, frame;

  function css(el, styles) {
    Object.keys(styles).forEach(function (name) { el.style[name] = styles[name]; });
    return el;
  }

  function pageUrl() {
    var url = new URL(window.location.href);
    url.hash = "";
    return url.toString();
  }

  function fragment() {
    var params = new URLSearchParams();
    if (state.errorIds.length) { params.set("error_ids", state.errorIds.join("\n")); }
    if (state.traceLinks.length) { params.set("trace_links", state.traceLinks.join("\n")); }
    params.set("page_url", pageUrl());
    params.set("browser", navigator.userAgent);
    if (state.appVersion) { params.set("app_version", state.appVersion); }
    return params.toString();
  }

  function panelUrl() {
    return consoleOrigin + "/widget/panel/?ctx=" + encodeURIComponent(state.context) + "#" + fragment();
  }

  function build() {
    launcher = css(document.createElement("button"), {
      position: "fixed", right: "20px", bottom: "20px", zIndex: "2147483000",
      padding: "10px 16px", border: "0", borderRadius: "20px", background: "#3358d4", color: "#fff",
      font: "600 14px system-ui, sans-serif", cursor: "pointer", boxShadow: "0 2px 8px rgba(0,0,0,.25)"
    });
    launcher.type = "button";
    launcher.textContent = data.label || "Help";
    launcher.setAttribute("aria-haspopup", "dialog");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("data-companyos-widget", "launcher");
    launcher.addEventListener("click", function () {
      if (container && container.style.display !== "none") { close(); } else { open(); }
    });
    document.body.appendChild(launcher);
  }

  function open() {
    if (!launcher) { build(); }
    if (!state.context && window.console) {  // the panel refuses it, and a refusal naming no widget cannot be framed
      window.console.warn("CompanyOS widget: no data-tenant-context (signed by your backend); the panel will refuse.");
    }
    if (!container) {
      container = css(document.createElement("div"), {
        position: "fixed", right: "20px", bottom: "70px", width: "380px", maxWidth: "calc(100vw - 40px)",
        height: "600px", maxHeight: "calc(100vh - 100px)", zIndex: "2147483000", background: "#fff",
        borderRadius: "10px", overflow: "hidden", boxShadow: "0 6px 24px rgba(0,0,0,.3)"
      });
      container.setAttribute("role", "dialog");
      container.setAttribute("aria-label", "Help and support");
      container.setAttribute("data-companyos-widget", "panel");
      frame = css(document.createElement("iframe"), { width: "100%", height: "100%", border: "0" });
      frame.title = "Help and support";
      frame.src = panelUrl();
      container.appendChild(frame);
      document.body.appendChild(container);
    }
    container.style.display = "block";
    launcher.setAttribute("aria-expanded", "true");
    frame.focus();
  }

  function close() {
    if (container) { container.style.display = "none"; }
    if (launcher) {
      launcher.setAttribute("aria-expanded", "false");
      launcher.focus();
    }
  }

  function send(message) {
    if (frame && frame.contentWindow) {
      frame.contentWindow.postMessage(message, consoleOrigin);  // to the console's origin only
    }
  }

  function attach(facts) {
    facts = facts || {};
    addAll(state.errorIds, facts.errorIds);
    addAll(state.traceLinks, facts.traceLinks);
    if (facts.appVersion) { state.appVersion = String(facts.appVersion); }
    send({ type: "companyos:attach", errorIds: state.errorIds, traceLinks: state.traceLinks, appVersion: state.appVersion });
  }

  function setContext(token) {
    state.context = String(token || "");
    if (container) {  // a fresh context: reopen the panel with it
      container.parentNode.removeChild(container);
      container = frame = null;
    }
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== consoleOrigin || !frame || event.source !== frame.contentWindow) {
      return;
    }
    var message = event.data || {};
    if (message.type === "companyos:close") {
      close();
    } else if (message.type === "companyos:ready") {
      attach({});
    } else if (message.type === "companyos:filed" && typeof message.key === "string") {
      filedCallbacks.forEach(function (callback) { callback(message.key); });
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && container && container.style.display !== "none") { close(); }
  });

  window.CompanyOSWidget = {
    open: open,
    close: close,
    attach: attach,
    setContext: setContext,
    onFiled: function (callback) { filedCallbacks.push(callback); }
  };
  if (document.body) { build(); } else { document.addEventListener("DOMContentLoaded", build); }
})();
