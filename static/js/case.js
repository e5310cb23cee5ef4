// The case page: the timeline opened at its end (oldest-first order), a file dropped on the reply
// box attached to the reply, and flash messages of in-place updates fading like the page's own.
(function () {
  "use strict";

  function scrollToEnd(root) {
    (root || document).querySelectorAll("[data-scroll-end]").forEach((box) => { box.scrollTop = box.scrollHeight; });
  }

  function showFileName(input) {
    const zone = input.closest("[data-dropzone]");
    const label = zone && zone.querySelector("[data-file-name]");
    if (!label) return;
    const file = input.files && input.files[0];
    label.textContent = file ? file.name : "or drop one on the reply box";
    label.classList.toggle("has-file", Boolean(file));
  }

  function composerOf(event) {
    const zone = event.target.closest && event.target.closest("[data-dropzone]");
    return zone ? { zone: zone, box: zone.closest(".composer") || zone } : null;
  }

  const hasFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types || []).includes("Files");

  document.addEventListener("dragover", (e) => {
    const c = composerOf(e);
    if (!c || !hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
    c.box.classList.add("drag-over");
  });
  document.addEventListener("dragleave", (e) => {
    const c = composerOf(e);
    if (c && !c.box.contains(e.relatedTarget)) c.box.classList.remove("drag-over");
  });
  document.addEventListener("drop", (e) => {
    const c = composerOf(e);
    if (!c || !e.dataTransfer || !e.dataTransfer.files.length) return;
    e.preventDefault();
    c.box.classList.remove("drag-over");
    const input = c.zone.querySelector("input[type=file]");
    if (!input) return;
    const one = new DataTransfer(); // the reply takes one file; the first one dropped
    one.items.add(e.dataTransfer.files[0]);
    input.files = one.files;
    showFileName(input);
  });
  document.addEventListener("change", (e) => {
    if (e.target.matches("[data-dropzone] input[type=file]")) showFileName(e.target);
  });

  document.addEventListener("DOMContentLoaded", () => scrollToEnd());
  document.addEventListener("htmx:afterSettle", (e) => {
    // After the timeline or the reply box changed, not after the SLA panel's minute poll (that
    // would pull an agent reading further up back down).
    const t = e.target;
    if (t.matches && (t.matches("#timeline, #composer, #actions") || t.querySelector("[data-scroll-end]"))) scrollToEnd();
    document.querySelectorAll("#messages .flash:not([data-fading])").forEach((f) => {
      f.dataset.fading = "1";
      setTimeout(() => f.remove(), 6000);
    });
  });
})();
