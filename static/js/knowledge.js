// The case page's Knowledge card: "m" opens the macro palette (focuses its search box, which loads
// the macros); Escape is console.js's. Configured by data- attributes only (CSP: no inline script).
(function () {
  "use strict";
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  document.addEventListener("keydown", (e) => {
    if (e.metaKey || e.ctrlKey || e.altKey || typing(e.target)) return;
    if (e.key === "m") {
      const palette = document.querySelector("[data-palette]");
      if (palette) { e.preventDefault(); palette.focus(); palette.select(); }
    }
  });
  // In the palette, ArrowDown moves into the results; Enter on a result opens its preview.
  document.addEventListener("keydown", (e) => {
    if (!e.target.matches("[data-palette]") || e.key !== "ArrowDown") return;
    const first = document.querySelector("#palette-results a");
    if (first) { e.preventDefault(); first.focus(); }
  });
  // "Insert a knowledge-base link": the article's title and address go into the reply box at the cursor.
  document.addEventListener("click", (e) => {
    const button = e.target.closest("[data-insert-link]");
    const box = document.getElementById("id_body");
    if (!button || !box) return;
    const text = `${button.dataset.insertTitle}: ${button.dataset.insertLink}`;
    const start = box.selectionStart ?? box.value.length;
    const end = box.selectionEnd ?? box.value.length;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.focus();
    box.selectionStart = box.selectionEnd = start + text.length;
    box.dispatchEvent(new Event("input", { bubbles: true }));
  });
})();

// The macro editor's action rows (runbooks.forms.ActionFormSet). Without JavaScript the form works on
// its own ("Add an action" and "Update rows" re-render it; Position and Remove are plain inputs); here
// the same happens in the page: the type select shows its fields, rows are added from the <template>,
// removed (their DELETE box checked, so the server drops them) and moved, Position renumbered.
(function () {
  "use strict";
  const form = document.querySelector("[data-macro-form]");
  if (!form) return;
  const rows = form.querySelector("[data-action-rows]");
  const total = form.querySelector("input[name='actions-TOTAL_FORMS']");
  const template = document.getElementById("action-row-template");
  form.querySelectorAll("[data-nojs]").forEach((el) => { el.hidden = true; });
  const MAX = 12;

  function live() {
    return [...rows.querySelectorAll("[data-action-row]")].filter((row) => !row.hidden);
  }
  function showFields(row) {
    const type = row.querySelector("[data-action-type]").value;
    row.querySelectorAll("[data-for]").forEach((el) => {
      el.hidden = !el.dataset.for.split(" ").includes(type);
    });
  }
  function renumber() {
    live().forEach((row, i) => {
      row.querySelector("[data-action-number]").textContent = String(i + 1);
      const order = row.querySelector("input[name$='-ORDER']");
      if (order) order.value = String(i + 1);
      row.querySelectorAll("[data-move-action], [data-remove-action]").forEach((b) => {
        b.setAttribute("aria-label", b.dataset.label.replace("#", String(i + 1)));
      });
    });
    const empty = rows.querySelector("[data-no-actions]");
    if (empty) empty.hidden = live().length > 0;
    const add = form.querySelector("[data-add-action]");
    if (add) add.disabled = live().length >= MAX;
  }
  function enhance(row) {
    row.querySelectorAll(".js-only").forEach((el) => { el.hidden = false; });
    row.querySelectorAll("[data-nojs]").forEach((el) => { el.hidden = true; });
    const removed = row.querySelector("input[name$='-DELETE']");
    if (removed && removed.checked) row.hidden = true;
    showFields(row);
  }
  rows.querySelectorAll("[data-action-row]").forEach(enhance);
  renumber();

  form.addEventListener("change", (e) => {
    if (e.target.matches("[data-action-type]")) showFields(e.target.closest("[data-action-row]"));
  });
  form.addEventListener("click", (e) => {
    const add = e.target.closest("[data-add-action]");
    if (add) {
      e.preventDefault();
      if (live().length >= MAX) return;
      const n = Number(total.value);
      const html = template.innerHTML.replace(/__prefix__/g, String(n));
      rows.insertAdjacentHTML("beforeend", html);
      total.value = String(n + 1);
      const row = rows.lastElementChild;
      enhance(row);
      renumber();
      row.querySelector("[data-action-type]").focus();
      return;
    }
    const remove = e.target.closest("[data-remove-action]");
    if (remove) {
      const row = remove.closest("[data-action-row]");
      const next = live()[live().indexOf(row) + 1] || live()[live().indexOf(row) - 1];
      row.querySelector("input[name$='-DELETE']").checked = true;
      row.hidden = true;
      renumber();
      (next ? next.querySelector("[data-action-type]") : form.querySelector("[data-add-action]")).focus();
      return;
    }
    const move = e.target.closest("[data-move-action]");
    if (move) {
      const row = move.closest("[data-action-row]");
      const list = live();
      const i = list.indexOf(row);
      if (move.dataset.moveAction === "up" && i > 0) list[i - 1].before(row);
      if (move.dataset.moveAction === "down" && i < list.length - 1) list[i + 1].after(row);
      renumber();
      move.focus();
    }
  });
})();
