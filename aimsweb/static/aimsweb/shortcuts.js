// Keyboard shortcuts of the list pages (the sheet: "?"): j/k move a visible focus between the rows of
// [data-shortcut-rows], x ticks the focused row's checkbox, a acknowledges and r resolves the ticked rows (or the
// focused one), / goes to the search box, Enter or o opens the focused row. Never while typing in a field.
(() => {
  let focusedId = null;

  function rows() {
    const body = document.querySelector("[data-shortcut-rows]");
    return body ? Array.from(body.querySelectorAll(":scope > tr[id]")) : [];
  }
  function focused() {
    return focusedId ? document.getElementById(focusedId) : null;
  }
  function focusRow(row) {
    document.querySelectorAll("tr.kb-focus").forEach((other) => other.classList.remove("kb-focus"));
    if (!row) return;
    focusedId = row.id;
    row.classList.add("kb-focus");
    row.setAttribute("tabindex", "-1");
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }
  function move(step) {
    const all = rows();
    if (!all.length) return;
    const index = all.indexOf(focused());
    const next = index < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(Math.max(index + step, 0), all.length - 1);
    focusRow(all[next]);
  }
  function box(row) {
    return row ? row.querySelector("input[type=checkbox][name=ids]") : null;
  }
  function act(action) {
    const button = document.querySelector(`#incident-bulk button[name=action][value=${action}]`);
    if (!button) return;
    const ticked = document.querySelectorAll('input[name=ids][form="incident-bulk"]:checked');
    if (!ticked.length) {
      const own = box(focused());
      if (!own) return;
      own.checked = true;
    }
    const matching = document.querySelector("#incident-bulk input[name=scope]");
    if (matching) matching.checked = false; // a shortcut acts on the rows, never on every match
    button.click(); // resolve asks for confirmation (hx-confirm)
  }
  function typing(target) {
    return target instanceof HTMLElement &&
      (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  }
  function openSheet() {
    const sheet = document.getElementById("shortcut-sheet");
    if (sheet instanceof HTMLDialogElement && !sheet.open) sheet.showModal();
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented || typing(event.target)) return;
    if (document.querySelector("dialog[open]") && event.key !== "?") return;
    const row = focused();
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "x": {
        const own = box(row);
        if (!own) return;
        own.checked = !own.checked;
        own.dispatchEvent(new Event("change", { bubbles: true }));
        break;
      }
      case "a": act("acknowledge"); break;
      case "r": act("resolve"); break;
      case "/": {
        const search = document.querySelector("[data-shortcut-search], main input[type=search]");
        if (!search) return;
        search.focus();
        break;
      }
      case "?": openSheet(); break;
      case "Enter":
      case "o": {
        if (!row || (event.key === "Enter" && event.target !== row)) return;
        const link = row.querySelector("[data-row-link], a[href]");
        if (!link) return;
        link.click();
        break;
      }
      default: return;
    }
    event.preventDefault();
  });

  // A swap (a live update, a bulk action's answer) replaces the rows: keep the focus on the same incident.
  document.addEventListener("htmx:afterSettle", () => {
    const row = focused();
    if (row && !row.classList.contains("kb-focus")) focusRow(row);
  });
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-shortcut-help]") : null;
    if (button) openSheet();
    const close = event.target instanceof Element ? event.target.closest("[data-dialog-close]") : null;
    if (close) close.closest("dialog").close();
  });
})();
