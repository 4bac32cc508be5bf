// Retry badges and cards count down to their attempt's time in the browser: each [data-retry-at] (an ISO time) gets
// "retry 2/3 in 0:42" from its data-retry-label ("retry 2/3"), then "retrying…" once the time has come. The server
// renders the same words for a page without JavaScript.
(() => {
  function clock(seconds) {
    const hours = Math.floor(seconds / 3600);
    const minutes = Math.floor((seconds % 3600) / 60);
    const rest = String(seconds % 60).padStart(2, "0");
    return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
  }

  function tick() {
    const now = Date.now();
    document.querySelectorAll("[data-retry-at]").forEach((el) => {
      const at = Date.parse(el.dataset.retryAt);
      if (Number.isNaN(at)) { return; }
      const left = Math.ceil((at - now) / 1000);
      const text = left > 0 ? `${el.dataset.retryLabel} in ${clock(left)}` : "retrying…";
      if (el.textContent !== text) { el.textContent = text; }
    });
  }

  // A live update of the runs table must not take away a retry confirmation someone is reading.
  document.addEventListener("htmx:oobBeforeSwap", (event) => {
    const target = event.detail.target;
    if (target && target.id === "incident-runs-table" && target.querySelector("[data-testid=retry-confirm]")) {
      event.detail.shouldSwap = false;
    }
  });

  document.addEventListener("DOMContentLoaded", () => { tick(); window.setInterval(tick, 1000); });
  document.addEventListener("htmx:load", tick);
})();
