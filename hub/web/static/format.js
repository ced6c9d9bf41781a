// How the live updates write times and numbers: the same rules as hub/web/format.py (the
// site's time zone from <meta name="site-timezone">, relative times with the exact one on
// hover, thousands separators). Also keeps every <time data-relative> on the page current.
"use strict";

window.hubFormat = (() => {
  const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content;
  const zone = meta("site-timezone") || "UTC";
  const parts = (date, options) => Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", { timeZone: zone, hourCycle: "h23", ...options })
      .formatToParts(date).map((p) => [p.type, p.value]));

  function exact(date) {
    const p = parts(date, { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
      minute: "2-digit", second: "2-digit", timeZoneName: "short" });
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${p.timeZoneName}`;
  }

  function dayNumber(date) {  // days since 1970 in the site's zone, to compare calendar days
    const p = parts(date, { year: "numeric", month: "2-digit", day: "2-digit" });
    return Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day)) / 86400000;
  }

  function relative(date, now = new Date()) {
    const seconds = (now - date) / 1000;
    if (seconds >= 0 && seconds < 60) return `${Math.floor(seconds)} s ago`;
    if (seconds >= 0 && seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
    const days = dayNumber(now) - dayNumber(date);
    const p = parts(date, { hour: "2-digit", minute: "2-digit", weekday: "short",
      day: "numeric", month: "short", year: "numeric" });
    const clock = `${p.hour}:${p.minute}`;
    if (days === 0) return `today ${clock}`;
    if (days === 1) return `yesterday ${clock}`;
    if (days > 1 && days < 7) return `${p.weekday} ${clock}`;
    const thisYear = parts(now, { year: "numeric" }).year;
    if (p.year === thisYear) return `${p.day} ${p.month} ${clock}`;
    return `${p.day} ${p.month} ${p.year}`;
  }

  // A <time> element for an ISO time (or an empty text node when there is none).
  function when(iso) {
    if (!iso) return document.createTextNode("");
    const date = new Date(iso);
    const node = document.createElement("time");
    node.dateTime = date.toISOString().replace(/\.\d{3}Z$/, "Z");
    node.title = exact(date);
    node.dataset.relative = "";
    node.textContent = relative(date);
    return node;
  }

  function number(value) {
    if (value === null || value === undefined || value === "") return "";
    const n = Number(value);
    if (!Number.isFinite(n)) return String(value);
    const text = n.toLocaleString("en-US", { maximumFractionDigits: Number.isInteger(n) ? 0 : 2 });
    return text.replace("-", "\u2212");
  }

  function signed(value) {
    return (value > 0 ? "+" : "") + number(value);
  }

  function refresh() {
    for (const node of document.querySelectorAll("time[data-relative]")) {
      node.textContent = relative(new Date(node.dateTime));
    }
  }

  setInterval(refresh, 15000);
  return { exact, relative, when, number, signed, refresh };
})();
