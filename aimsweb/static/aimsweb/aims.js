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
