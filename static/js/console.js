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
    bar.querySelectorAll("[data-for-action]").forEach((el) => {
      el.hidden = action && el.dataset.forAction !== action.value;
      // An added action's value box (one per action, all named "extra"): only the shown one is sent.
      if (el.name === "extra") el.disabled = el.hidden;
    });
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

  // A click anywhere on a queue row opens its case; Ctrl/⌘/Shift-click or a middle click opens it in
  // a new tab, as a link would. The checkbox, the links and the controls in a row keep their own click,
  // and selecting text in a row does not navigate.
  function rowTarget(e) {
    const row = e.target.closest("[data-queue] tbody tr[data-href]");
    if (!row || e.target.closest("a, input, button, label, select, textarea, td.sel")) return null;
    if (String(window.getSelection() || "")) return null;
    return row.dataset.href;
  }
  document.addEventListener("click", (e) => {
    const href = e.button === 0 && rowTarget(e);
    if (!href) return;
    if (e.ctrlKey || e.metaKey || e.shiftKey) window.open(href, "_blank", "noopener");
    else window.location.href = href;
  });
  document.addEventListener("auxclick", (e) => {
    const href = e.button === 1 && rowTarget(e);
    if (href) { e.preventDefault(); window.open(href, "_blank", "noopener"); }
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
    const focused = document.activeElement;  // autofocus ran before this file did
    if (focused && focused.matches("[data-select-on-focus]")) focused.select();
  });
  // Type to search in a long people dropdown (select[data-searchable], grouped by team): a search box
  // before it hides the options that do not match (name or username) and picks the first that does.
  // Enter or ↓ in the box moves to the dropdown; nothing is submitted from the box itself.
  function searchable(root) {
    root.querySelectorAll("select[data-searchable]:not([data-enhanced])").forEach((select) => {
      select.dataset.enhanced = "1";
      const box = document.createElement("input");
      box.type = "search";
      box.className = "input select-search";
      box.placeholder = "Type to find…";
      const label = select.getAttribute("aria-label") || (select.labels && select.labels[0] ? select.labels[0].textContent.trim() : "a person");
      box.setAttribute("aria-label", "Find " + label.toLowerCase());
      if (select.id) box.setAttribute("aria-controls", select.id);
      select.before(box);
      box.addEventListener("input", () => {
        const words = box.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
        let first = null;
        select.querySelectorAll("option").forEach((o) => {
          const text = (o.textContent + " " + o.value + " " + (o.title || "")).toLowerCase();
          const hit = !o.value || words.every((w) => text.includes(w));
          o.hidden = !hit;
          if (hit && o.value && !first) first = o;
        });
        select.querySelectorAll("optgroup").forEach((g) => { g.hidden = !g.querySelector("option:not([hidden])"); });
        if (first && words.length && select.selectedOptions[0] !== first) { first.selected = true; select.dispatchEvent(new Event("change", { bubbles: true })); }
      });
      box.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === "ArrowDown") { e.preventDefault(); e.stopPropagation(); select.focus(); }
      });
    });
  }

  // The saved view that is the queue's current address is marked, also after filtering in place
  // (#view-query holds the clean query of what is shown; the sidebar's items theirs).
  function markCurrentView() {
    const input = document.getElementById("view-query");
    if (!input) return;
    document.querySelectorAll("[data-view-query]").forEach((li) => li.classList.toggle("current", li.dataset.viewQuery === input.value));
  }

  // Flash messages fade after a while, also those a swap adds.
  function fadeFlashes() {
    document.querySelectorAll(".flash:not([data-fading])").forEach((f) => { f.dataset.fading = "1"; setTimeout(() => f.remove(), 6000); });
  }

  document.addEventListener("DOMContentLoaded", () => { refreshBulkBar(); searchable(document); fadeFlashes(); });
  document.addEventListener("htmx:load", (e) => searchable(e.detail.elt.parentNode || document));
  // After HTMX swaps the results, keep the keyboard position sane and the bulk bar in sync.
  document.addEventListener("htmx:afterSwap", () => { current = -1; refreshBulkBar(); });
  document.addEventListener("htmx:afterSettle", () => { markCurrentView(); fadeFlashes(); searchable(document); });

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
})();
