// Live overview: wait for a ledger change (long poll), then redraw from /overview.json.
// Everything is written with textContent, never innerHTML: station data is not trusted.
"use strict";

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  return td;
}

function fill(tableId, items, columns, emptyText) {
  const body = document.querySelector(`#${tableId} tbody`);
  body.replaceChildren();
  if (items.length === 0) {
    const row = body.insertRow();
    const td = cell(row, emptyText);
    td.colSpan = columns.length;
    return;
  }
  for (const item of items) {
    const row = body.insertRow();
    for (const [value, className] of columns.map((c) => c(item))) cell(row, value, className);
  }
}

function devices(d) {
  return Object.entries(d || {}).map(([name, state]) => `${name}: ${state}`).join(", ");
}

function render(data) {
  fill("stations", data.stations, [
    (s) => [s.station], (s) => [s.state, `state ${s.state}`], (s) => [s.mode], (s) => [s.operator],
    (s) => [`${s.last_scan || ""} ${s.last_verdict || ""}`], (s) => [devices(s.devices)],
    (s) => [s.unacked], (s) => [s.last_seen],
  ], "No station has connected yet.");
  fill("movements", data.movements, [
    (m) => [m.id], (m) => [m.type], (m) => [m.sku], (m) => [m.location], (m) => [m.lot],
    (m) => [(m.delta > 0 ? "+" : "") + m.delta, "num"], (m) => [m.station], (m) => [m.hub_ts],
  ], "No movements yet.");
  fill("stock", data.stock, [
    (s) => [s.sku], (s) => [s.on_hand, s.on_hand < 0 ? "num negative" : "num"],
  ], "No stock recorded.");
  const alerts = document.getElementById("alerts");
  alerts.replaceChildren();
  for (const a of data.alerts.length ? data.alerts : [{ message: "None.", severity: "" }]) {
    const li = document.createElement("li");
    li.textContent = a.message;
    li.className = a.severity;
    alerts.appendChild(li);
  }
  document.getElementById("version").textContent = data.version;
}

async function follow() {
  let version = Number(document.getElementById("version").textContent);
  const state = document.getElementById("live-state");
  for (;;) {
    try {
      const changed = await (await fetch(`changes?since=${version}`)).json();
      if (changed.version !== version) {
        const data = await (await fetch("overview.json")).json();
        render(data);
        version = data.version;
      }
      state.textContent = "connected";
    } catch (err) {
      state.textContent = "reconnecting…";
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

follow();
