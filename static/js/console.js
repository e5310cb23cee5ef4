// Keyboard use and small conveniences. The console works without this file; it only makes it faster.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  const rows = () => Array.from(document.querySelectorAll("[data-queue] tbody tr"));
  let current = -1;

  function mark(i) {
    const all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(i, all.length - 1));
    all.forEach((r, n) => r.classList.toggle("current", n === current));
    all[current].scrollIntoView({ block: "nearest" });
  }

  function refreshBulkBar() {
    const bar = document.querySelector("[data-bulk-bar]");
    if (!bar) return;
    const action = bar.querySelector("[data-bulk-action]");
    bar.querySelectorAll("[data-for-action]").forEach((el) => { el.hidden = action && el.dataset.forAction !== action.value; });
    const n = document.querySelectorAll("[data-queue] tbody input[name=id]:checked").length;
    bar.classList.toggle("has-selection", n > 0);
    const label = bar.querySelector("[data-selected-count]");
    if (label) label.textContent = n + " selected";
  }

  document.addEventListener("keydown", (e) => {
    if (e.metaKey || e.ctrlKey || e.altKey) return;
    const help = document.getElementById("shortcuts");
    if (e.key === "Escape") {
      if (help) help.hidden = true;
      document.querySelectorAll("details[open]").forEach((d) => d.removeAttribute("open"));
      if (typing(document.activeElement)) document.activeElement.blur();
      return;
    }
    if (typing(e.target)) return;
    if (e.key === "/") {
      e.preventDefault();
      const q = document.getElementById("id_q") || document.getElementById("global-search");
      if (q) { q.focus(); q.select(); }
    } else if (e.key === "?") {
      if (help) help.hidden = !help.hidden;
    } else if (e.key === "j") {
      mark(current + 1);
    } else if (e.key === "k") {
      mark(current - 1);
    } else if (e.key === "Enter" && current >= 0 && rows()[current]) {
      window.location.href = rows()[current].dataset.href;
    } else if (e.key === "x" && current >= 0 && rows()[current]) {
      const box = rows()[current].querySelector("input[name=id]");
      if (box) { box.checked = !box.checked; refreshBulkBar(); }
    } else if (e.key === "a") {
      const take = document.querySelector("button[name=owner][value=me]");
      if (take) take.click();
    }
  });

  document.addEventListener("change", (e) => {
    if (e.target.matches("[data-select-all]")) {
      rows().forEach((r) => { const b = r.querySelector("input[name=id]"); if (b) b.checked = e.target.checked; });
    }
    if (e.target.closest("[data-queue]") || e.target.matches("[data-bulk-action]")) refreshBulkBar();
  });

  document.addEventListener("click", (e) => {
    const row = e.target.closest("[data-queue] tbody tr");
    if (row && !e.target.closest("a, input, button, label")) { mark(rows().indexOf(row)); }
  });

  // Behaviour declared in the templates by data- attributes (the Content-Security-Policy allows no
  // inline script, so no onclick="" or hx-on): one delegated listener each, so swapped-in HTML works too.
  //   data-confirm="…"        on a form or a submit button: ask before submitting
  //   data-autosubmit         on a select: submit its form when it changes
  //   data-dismiss="#id"      on a Cancel link inside an HTMX-loaded dialog: empty the dialog instead
  //   data-select-on-focus    on an input: select its text when focused
  //   data-copy="#id"         on a button: copy that input's value to the clipboard
  //   data-drop-empty         on an hx-get form: leave empty fields out of the URL
  document.addEventListener("submit", (e) => {
    const message = e.target.dataset.confirm || (e.submitter && e.submitter.dataset.confirm);
    if (message && !window.confirm(message)) { e.preventDefault(); e.stopImmediatePropagation(); }
  }, true);
  document.addEventListener("change", (e) => {
    if (e.target.matches("select[data-autosubmit]") && e.target.form) {
      if (e.target.form.requestSubmit) e.target.form.requestSubmit(); else e.target.form.submit();
    }
  });
  document.addEventListener("click", (e) => {
    const dismiss = e.target.closest("[data-dismiss]");
    if (dismiss) {
      const box = dismiss.closest(dismiss.dataset.dismiss) || document.querySelector(dismiss.dataset.dismiss);
      if (box && window.htmx) { box.innerHTML = ""; e.preventDefault(); }
    }
    const copy = e.target.closest("[data-copy]");
    if (copy) {
      const field = document.querySelector(copy.dataset.copy);
      if (field) {
        field.select();
        if (navigator.clipboard) navigator.clipboard.writeText(field.value);
        copy.textContent = "Copied";
      }
    }
  });
  document.addEventListener("focusin", (e) => { if (e.target.matches("[data-select-on-focus]")) e.target.select(); });
  document.addEventListener("htmx:configRequest", (e) => {
    if (!e.target.matches || !e.target.matches("[data-drop-empty]")) return;
    const data = e.detail.formData;
    if (data) { for (const key of [...data.keys()]) { if (!data.get(key)) data.delete(key); } }
  });

  document.addEventListener("DOMContentLoaded", () => {
    refreshBulkBar();
    const focused = document.activeElement;  // autofocus ran before this file did
    if (focused && focused.matches("[data-select-on-focus]")) focused.select();
  });
  // After HTMX swaps the results, keep the keyboard position sane and the bulk bar in sync.
  document.addEventListener("htmx:afterSwap", () => { current = -1; refreshBulkBar(); });
  // Flash messages fade after a while.
  setTimeout(() => document.querySelectorAll(".flash").forEach((f) => f.remove()), 6000);

  // Relative times: the same words as companyos/timefmt.py `relative` ("9 min ago", "in 2 h").
  function relative(seconds) {
    const s = Math.abs(Math.trunc(seconds));
    if (s < 60) return seconds >= 0 ? "just now" : "in a moment";
    const [unit, size] = [["d", 86400], ["h", 3600], ["min", 60]].find(([, n]) => s >= n);
    const text = Math.floor(s / size) + " " + unit;
    return seconds >= 0 ? text + " ago" : "in " + text;
  }
  // A panel's "updated 3 min ago" (the tenant console) stays true while the page is open.
  setInterval(() => {
    document.querySelectorAll(".tpanel-fresh time[datetime]").forEach((t) => {
      t.textContent = relative((Date.now() - Date.parse(t.getAttribute("datetime"))) / 1000);
    });
  }, 30000);
  // Agent collision: typing in the composer tells colleagues on the same case (at most every 3 s);
  // leaving the page says so at once instead of after the heartbeat expires.
  let typedAt = 0;
  const presenceUrl = () => { const el = document.getElementById("presence"); return el && el.dataset.presenceUrl; };
  const csrf = () => { const el = document.querySelector("input[name=csrfmiddlewaretoken]"); return el ? el.value : ""; };
  document.addEventListener("input", (e) => {
    const url = presenceUrl();
    if (!url || !e.target.closest("#composer") || Date.now() - typedAt < 3000) return;
    typedAt = Date.now();
    fetch(url, { method: "POST", headers: { "X-CSRFToken": csrf() }, credentials: "same-origin" });
  });
  window.addEventListener("pagehide", () => {
    const url = presenceUrl();
    if (!url || !navigator.sendBeacon) return;
    const form = new FormData();
    form.append("leave", "1");
    form.append("csrfmiddlewaretoken", csrf());
    navigator.sendBeacon(url, form);
  });
  // A menu's form that answered in place (e.g. Merge into… → its review) closes its menu.
  document.addEventListener("htmx:afterRequest", (e) => {
    const menu = e.target.closest && e.target.closest("details.inline-menu[open]");
    if (menu && e.detail.successful) menu.open = false;
  });
  // A dialog's Cancel link (data-dismiss="#target"): with HTMX, empty the dialog in place;
  // without it, the link's href is the way back.
  document.addEventListener("click", (e) => {
    const link = e.target.closest("[data-dismiss]");
    if (!link || !window.htmx) return;
    const target = document.querySelector(link.dataset.dismiss);
    if (!target) return;
    e.preventDefault();
    target.innerHTML = "";
  });
})();
