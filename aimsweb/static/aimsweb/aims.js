// Shows whether the page's live connection is up (the htmx ws extension reconnects by itself).
document.addEventListener("htmx:wsOpen", (event) => {
  document.querySelectorAll("[data-live-indicator]").forEach((el) => { el.classList.add("connected"); el.textContent = "Live"; });
});
document.addEventListener("htmx:wsClose", (event) => {
  document.querySelectorAll("[data-live-indicator]").forEach((el) => { el.classList.remove("connected"); el.textContent = "Reconnecting…"; });
});

// A live update must not throw away what someone is doing: while a form of the incident's actions is open or has
// the focus, keep the actions as they are (the next update after it is closed brings them up to date).
document.addEventListener("htmx:oobBeforeSwap", (event) => {
  const target = event.detail.target;
  if (target && target.id === "incident-actions" && (target.contains(document.activeElement) || target.querySelector("details[open]"))) {
    event.detail.shouldSwap = false;
  }
});

// The page's behaviour lives here, not in inline handlers, which the Content-Security-Policy refuses.

// Inside [data-swap-bad-request], an action refused with 400 answers with the page's own partial showing why:
// swap it in like a success instead of dropping it.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.xhr.status === 400 && event.target.closest("[data-swap-bad-request]")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// A "select all" box ticks or clears every box of the form it names.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (box instanceof HTMLInputElement && box.dataset.selectAll) {
    document.querySelectorAll(`input[name=ids][form="${box.dataset.selectAll}"]`).forEach((other) => { other.checked = box.checked; });
  }
});
