// Live pages without reload: long-poll /changes; when the ledger changed, refresh. When the
// hub's waiting room for polls is full it answers at once with `retry_after` (seconds):
// the page then asks again that much later, spread out so turned-away pages do not return
// together.
// A page either passes its own redraw to follow(), or marks a region with data-live: that
// region is then re-read from the server's own (escaped) rendering of the same address.
"use strict";

window.hubLive = (() => {
  const root = document.querySelector('link[rel="stylesheet"]').href.replace(/static\/.*$/, "");

  // A region with a form someone is using (the focus is on one of its fields or buttons)
  // is not redrawn under them: that would take their typing and their place in the Tab
  // order. Its newest rendering waits until the focus leaves it.
  const waiting = new Map();

  function inUse(region) {
    const active = document.activeElement;
    return Boolean(active && region.contains(active) && active.closest("form"));
  }

  function swap(region, replacement) {
    waiting.delete(region.id);
    region.replaceWith(document.importNode(replacement, true));
  }

  function swapWhenLeft(region, replacement) {
    if (!waiting.has(region.id)) {
      region.addEventListener("focusout", function left(event) {
        if (event.relatedTarget && region.contains(event.relatedTarget)) return;
        region.removeEventListener("focusout", left);
        const newest = waiting.get(region.id);
        if (newest && region.isConnected) swap(region, newest);
      });
    }
    waiting.set(region.id, replacement);
  }

  async function swapLiveRegions() {
    const response = await fetch(window.location.href, { headers: { "X-Live": "1" } });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const region of document.querySelectorAll("[data-live]")) {
      const replacement = fresh.getElementById(region.id);
      if (!replacement) continue;
      if (inUse(region)) swapWhenLeft(region, replacement);
      else swap(region, replacement);
    }
    document.dispatchEvent(new Event("hub:redrawn"));
  }

  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function follow(redraw) {
    const state = document.getElementById("live-state");
    const shown = document.getElementById("version");
    let version = shown ? Number(shown.textContent) : 0;
    for (;;) {
      try {
        const changed = await (await fetch(`${root}changes?since=${version}`)).json();
        if (changed.version !== version) {
          await redraw();
          version = changed.version;
          if (shown) shown.textContent = String(version);
        }
        if (state) state.textContent = "connected";
        if (changed.retry_after) await pause(changed.retry_after * (500 + Math.random() * 1000));
      } catch (err) {
        if (state) state.textContent = "reconnecting…";
        await pause(2000);
      }
    }
  }

  if (document.querySelector("[data-live]")) follow(swapLiveRegions);
  return { follow, root };
})();
