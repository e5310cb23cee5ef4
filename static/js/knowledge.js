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
})();
