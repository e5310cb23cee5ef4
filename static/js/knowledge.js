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
