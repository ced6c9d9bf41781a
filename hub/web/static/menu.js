// The menu button of narrow screens, and the filters that submit when changed (no inline
// handlers: the pages run under a Content-Security-Policy without inline script).
"use strict";

(() => {
  const button = document.getElementById("menu-button");
  const menu = document.getElementById("menu");
  if (button && menu) {
    button.addEventListener("click", () => {
      const open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      menu.classList.toggle("open", open);
    });
  }
  // A filter chosen with the mouse applies at once; with the keyboard, the arrows change
  // the choice on every press, so it waits for the form's Filter button (or Enter).
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    let byKeyboard = false;
    select.addEventListener("keydown", (event) => {
      byKeyboard = true;
      if (event.key === "Enter") select.form.requestSubmit();
    });
    select.addEventListener("pointerdown", () => { byKeyboard = false; });
    select.addEventListener("change", () => { if (!byKeyboard) select.form.submit(); });
  }
})();
