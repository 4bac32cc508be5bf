// List pages and the header: the narrow screens' menu button, and the Pause toggle of live lists.
(() => {
  // The menu button (narrow screens) opens and closes the nav and the user's links.
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-menu-toggle]") : null;
    if (!button) return;
    const bar = button.closest(".topbar");
    const open = !bar.classList.contains("menu-open");
    bar.classList.toggle("menu-open", open);
    button.setAttribute("aria-expanded", String(open));
  });

  // Pause: while pressed, live updates pushed over the websocket are not swapped in (they are counted, and the
  // button says how many wait); Resume reloads the list's results so nothing missed stays hidden.
  let paused = false;
  let waiting = 0;
  function label(button) {
    button.textContent = paused ? (waiting ? `Resume (${waiting} new)` : "Resume") : "Pause";
    button.setAttribute("aria-pressed", String(paused));
  }
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-live-pause]") : null;
    if (!button) return;
    paused = !paused;
    document.querySelectorAll("[data-live-indicator]").forEach((el) => el.classList.toggle("paused", paused));
    if (!paused && waiting) {
      waiting = 0;
      const results = document.querySelector("[data-live-results]");
      if (results && window.htmx) {
        window.htmx.ajax("GET", window.location.href, { target: results, swap: "outerHTML", select: `#${results.id}` });
      }
    }
    waiting = 0;
    label(button);
  });
  document.addEventListener("htmx:wsBeforeMessage", (event) => {
    if (!paused) return;
    event.preventDefault();
    waiting += 1;
    document.querySelectorAll("[data-live-pause]").forEach(label);
  });
})();
