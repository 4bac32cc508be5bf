// Relative times ("2 min ago") drawn by the relative_time template filter keep ticking: every 30 s, and after each
// htmx swap, each <time data-relative> is redrawn from its datetime attribute with the server's words.
(() => {
  const JUST_NOW = 45;
  function words(iso) {
    const moment = new Date(iso);
    if (Number.isNaN(moment.getTime())) return null;
    let seconds = Math.round((Date.now() - moment.getTime()) / 1000);
    const ahead = seconds < 0;
    seconds = Math.abs(seconds);
    if (seconds < JUST_NOW) return "just now";
    let amount;
    if (seconds < 3600) amount = `${Math.max(1, Math.round(seconds / 60))} min`;
    else if (seconds < 86400) amount = `${Math.floor(seconds / 3600)} h`;
    else if (seconds < 7 * 86400) amount = `${Math.floor(seconds / 86400)} d`;
    else return null; // a date: the server's text stays
    return ahead ? `in ${amount}` : `${amount} ago`;
  }
  function tick(root) {
    (root || document).querySelectorAll("time[data-relative]").forEach((el) => {
      const text = words(el.getAttribute("datetime"));
      if (text !== null && el.textContent !== text) el.textContent = text;
    });
  }
  window.setInterval(() => tick(document), 30000);
  document.addEventListener("htmx:afterSettle", () => tick(document));
  document.addEventListener("DOMContentLoaded", () => tick(document));
})();
