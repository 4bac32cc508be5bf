// Shows whether the page's live connection is up (the htmx ws extension reconnects by itself).
document.addEventListener("htmx:wsOpen", (event) => {
  document.querySelectorAll("[data-live-indicator]").forEach((el) => { el.classList.add("connected"); el.textContent = "Live"; });
});
document.addEventListener("htmx:wsClose", (event) => {
  document.querySelectorAll("[data-live-indicator]").forEach((el) => { el.classList.remove("connected"); el.textContent = "Reconnecting…"; });
});
