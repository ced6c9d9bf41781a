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
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
})();
