// Live overview: wait for a ledger change (long poll), then redraw from /api/overview.
// Everything is written with textContent, never innerHTML: station data is not trusted.
"use strict";

function cell(row, text, className, href) {
  const td = row.insertCell();
  const value = text === null || text === undefined ? "" : String(text);
  if (href) {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = value;
    td.appendChild(a);
  } else {
    td.textContent = value;
  }
  if (className) td.className = className;
  return td;
}

function fill(tableId, items, columns, emptyText) {
  const body = document.querySelector(`#${tableId} tbody`);
  body.replaceChildren();
  if (items.length === 0) {
    const td = cell(body.insertRow(), emptyText);
    td.colSpan = columns.length;
    return;
  }
  for (const item of items) {
    const row = body.insertRow();
    for (const [value, className, href] of columns.map((c) => c(item))) {
      cell(row, value, className, href);
    }
  }
}

function devices(d) {
  return Object.entries(d || {}).map(([name, state]) => `${name}: ${state}`).join(", ");
}

const enc = encodeURIComponent;

function render(data) {
  fill("stations", data.stations, [
    (s) => [s.station, "", `stations/${enc(s.station)}`], (s) => [s.state, `state ${s.state}`],
    (s) => [s.mode], (s) => [s.operator], (s) => [`${s.last_scan || ""} ${s.last_verdict || ""}`],
    (s) => [devices(s.devices)], (s) => [s.unacked, "num"], (s) => [s.last_seen],
  ], "No station has connected yet.");
  fill("movements", data.movements, [
    (m) => [m.id], (m) => [m.type], (m) => [m.sku, "", `products/${enc(m.sku)}`],
    (m) => [m.location], (m) => [m.lot], (m) => [(m.delta > 0 ? "+" : "") + m.delta, "num"],
    (m) => [m.station], (m) => [m.hub_ts],
  ], "No movements yet.");
  const alerts = document.getElementById("alerts");
  alerts.replaceChildren();
  for (const a of data.alerts.length ? data.alerts : [{ message: "None.", severity: "" }]) {
    const li = document.createElement("li");
    li.textContent = a.message;
    li.className = a.severity;
    alerts.appendChild(li);
  }
  for (const dd of document.querySelectorAll("[data-kpi]")) {
    dd.textContent = String(data.kpis[dd.dataset.kpi]);
  }
  document.getElementById("version").textContent = data.version;
}

window.hubLive.follow(async () => render(await (await fetch("api/overview")).json()));
