// Comment drafts: a half-typed comment survives the page's other actions (the textarea is hx-preserve'd across their
// swaps) and a reload (kept per incident in localStorage under its data-draft-key), until it is posted.
(() => {
  const PREFIX = "aims:draft:";
  const store = {
    get(key) { try { return window.localStorage.getItem(PREFIX + key) || ""; } catch (error) { return ""; } },
    set(key, value) {
      try {
        if (value.trim()) { window.localStorage.setItem(PREFIX + key, value); } else { window.localStorage.removeItem(PREFIX + key); }
      } catch (error) { /* storage full or refused: the draft stays on the page only */ }
    },
  };

  function restore(root) {
    root.querySelectorAll("textarea[data-draft-key]").forEach((area) => {
      if (!area.value) { area.value = store.get(area.dataset.draftKey); }
    });
  }

  document.addEventListener("DOMContentLoaded", () => restore(document));
  document.addEventListener("htmx:load", (event) => restore(event.target));

  document.addEventListener("input", (event) => {
    const area = event.target;
    if (area instanceof HTMLTextAreaElement && area.dataset.draftKey) { store.set(area.dataset.draftKey, area.value); }
  });

  // Posted and accepted: the draft is done with (a refused post keeps it). Cleared before the swap, while the posted
  // form is still in the page (its events no longer reach the document once the answer has replaced it).
  document.addEventListener("htmx:beforeSwap", (event) => {
    const form = event.detail.requestConfig && event.detail.requestConfig.elt;
    const status = event.detail.xhr.status;
    if (!(form instanceof HTMLFormElement) || !form.dataset.draftFor || status < 200 || status > 299) { return; }
    const area = document.getElementById(form.dataset.draftFor);
    if (area instanceof HTMLTextAreaElement) {
      area.value = "";
      if (area.dataset.draftKey) { store.set(area.dataset.draftKey, ""); }
    }
  });
})();
