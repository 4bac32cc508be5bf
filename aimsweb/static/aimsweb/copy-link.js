// "Copy link" buttons ([data-copy-link]): copy the full URL, show "Copied" for a moment. Where the clipboard is
// refused (an http page, an old browser), show the link in a field, selected, for the person to copy by hand.
(() => {
  function showSelected(button, url) {
    let field = button.nextElementSibling;
    if (!(field instanceof HTMLInputElement) || !field.classList.contains("copy-link-field")) {
      field = document.createElement("input");
      field.type = "text";
      field.readOnly = true;
      field.className = "copy-link-field";
      field.setAttribute("aria-label", "Link to copy");
      button.after(field);
    }
    field.value = url;
    field.focus();
    field.select();
  }
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-copy-link]") : null;
    if (!button) return;
    event.preventDefault();
    const url = new URL(button.dataset.copyLink, window.location.href).href;
    const done = () => {
      const label = button.textContent;
      button.textContent = "Copied";
      button.classList.add("copied");
      window.setTimeout(() => { button.textContent = label === "Copied" ? "Copy link" : label; button.classList.remove("copied"); }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(url).then(done, () => showSelected(button, url));
    } else {
      showSelected(button, url);
    }
  });
})();
