// The kiosk page: renders the core's snapshot, live from /events, and posts button presses.
// Text goes in with textContent only: barcodes are untrusted input.
"use strict";

const MODES = ["pack", "receive", "count", "move", "adjust", "returns", "assemble"];
const WORDS = { complete: "DONE", attention: "NEXT", ok: "OK" };
const READY = ["ready", "ok"];
// Why a held receipt was set aside, in words.
const SET_ASIDE = {
  not_on_po: "not on the PO",
  over_receipt: "more than ordered",
  expired_lot: "expired",
  lot_required: "no lot scanned",
};

const $ = (id) => document.getElementById(id);

function setText(id, text) {
  $(id).textContent = text;
}

function verdictWord(verdict) {
  if (verdict.name !== "ok") return verdict.name.replace(/_/g, " ");
  return WORDS[verdict.pattern] || "OK";
}

function renderVerdict(verdict) {
  const pattern = verdict ? verdict.pattern : "none";
  $("verdict").dataset.pattern = pattern;
  $("verdict").dataset.name = verdict ? verdict.name : "";
  $("verdict-shape").setAttribute("href", "#shape-" + (verdict ? pattern : "none"));
  setText("verdict-word", verdict ? verdictWord(verdict) : "READY");
  setText("verdict-message", verdict ? verdict.message : "Scan your badge");
  const next = verdict && verdict.next_step;
  $("verdict-next").hidden = !next;
  setText("verdict-next", next ? "→ " + next : "");
}

function plural(count, word) {
  return count + " " + (count === 1 ? word : word + "s");
}

function listItem(text, className) {
  const item = document.createElement("li");
  item.textContent = text;
  if (className) item.className = className;
  return item;
}

// The PO the receiver just closed: received against ordered, short and over, set aside.
function renderSummary(s) {
  const closed = !s.po && s.mode === "receive" ? s.po_closed : null;
  const box = $("po-summary");
  box.hidden = !closed;
  if (!closed) {
    box.replaceChildren();
    return;
  }
  const head = document.createElement("div");
  head.className = "total";
  head.textContent = "PO " + closed.po + " closed" + (closed.short ? " short" : "") +
    (closed.reason ? " (" + closed.reason.replace(/_/g, " ") + ")" : "") + ": " +
    closed.received + " of " + plural(closed.ordered, "unit") + " received";
  const items = [
    ...closed.lines_short.map((l) => listItem(
      "Short: " + l.sku + " " + l.received + " of " + l.ordered, "short")),
    ...closed.lines_over.map((l) => listItem("Over: " + l.sku + " " + l.received +
      (l.ordered ? " of " + l.ordered : " (not ordered)"), "over")),
    ...closed.set_aside.map((x) => listItem("Set aside: " + x.units + " × " + x.sku +
      " (" + (SET_ASIDE[x.reason] || x.reason.replace(/_/g, " ")) + ")", "aside")),
  ];
  if (!items.length) items.push(listItem("Every line as ordered", "even"));
  const list = document.createElement("ul");
  list.replaceChildren(...items);
  box.replaceChildren(head, list);
}

// What to do about a device that is not ready, in a few words.
function deviceAdvice(state) {
  if (state === "missing") return "plug it in again";
  if (state === "offline") return "switch it on, check the cable";
  if (state.startsWith("fault:")) return "fix it at the bench";
  return "look at it";
}

// The scale matters when something asks for it or something is on it; an empty scale
// ("0.00 g settling…") stays out of the way.
function scaleWanted(s) {
  if (s.weight_g == null) return false;
  const asked = s.phase === "weigh" || s.phase === "held" || s.weigh_next;
  return asked || Math.abs(Number(s.weight_g)) >= 1;
}

function subject(s) {
  if (s.rma) return "RMA " + s.rma + " · order " + s.order;
  if (s.kit) return (s.apart ? "Taking apart " : "Building ") + s.kit;
  if (s.order) return "Order " + s.order + (s.customer ? " · " + s.customer : "");
  if (s.po) return "PO " + s.po + (s.location ? " → " + s.location : "");
  if (s.task) return "Task " + s.task + " at " + s.location;
  if (s.location) return "Location " + s.location + (s.next ? " · " + s.next : "");
  return s.next || "";
}

function progress(line) {
  let text = line.ordered === undefined ? String(line.scanned) : line.scanned + " / " + line.ordered;
  if (line.short) text += " (short " + line.short + ")";
  if (line.lot) text += " · lot " + line.lot;
  return text;
}

function itemCell(line) {
  const cell = document.createElement("td");
  cell.textContent = line.sku;
  if (line.location) {
    // Where to pick it: the hub names the bin of the first-expiring stock.
    const pick = document.createElement("span");
    pick.className = "pick";
    pick.textContent = "pick " + line.location;
    cell.appendChild(pick);
  }
  if (line.parts && line.parts.length) {
    // A kit built from its parts at the bench: where each part is.
    const parts = document.createElement("span");
    parts.className = "pick";
    parts.textContent = "parts " + line.parts.map((p) => p.sku + " " + p.location).join(", ");
    cell.appendChild(parts);
  }
  return cell;
}

function lineRow(line, mode) {
  const row = document.createElement("tr");
  row.dataset.sku = line.sku;
  if (line.done) row.className = "done";
  row.appendChild(itemCell(line));
  const count = document.createElement("td");
  count.textContent = progress(line);
  row.appendChild(count);
  const action = document.createElement("td");
  if (mode === "pack" && !line.done) {
    action.appendChild(button("Short", "short", line.sku + ":out_of_stock"));
  }
  row.appendChild(action);
  return row;
}

function renderLines(s) {
  const lines = s.lines || [];
  $("lines").hidden = !lines.length;
  $("lines").querySelector("tbody").replaceChildren(...lines.map((line) => lineRow(line, s.mode)));
}

function renderSide(s) {
  $("scale").hidden = !scaleWanted(s);
  setText("weight", s.weight_g == null ? "—" : s.weight_g + " g");
  setText("weight-state", s.weight_g == null ? "" : s.scale_stable ? "stable" : "settling…");
  const pending = [];
  if (s.next_qty) pending.push("Next scan × " + s.next_qty);
  if (s.weigh_next) pending.push("Next scan counts by weight");
  if (s.held) {
    pending.push("Held for supervisor: " + s.held.sku + " (" + s.held.reason.replace(/_/g, " ") + ")");
  }
  if (s.short_armed) pending.push("Short armed: scan the missing item");
  if (s.phase === "weigh") pending.push("Put the parcel on the scale");
  if (s.phase === "held") pending.push("Weight held: re-weigh or override");
  if ((s.mode === "returns" || s.mode === "assemble") && s.prompt) pending.push(s.prompt);
  if (s.print_problem) pending.push(s.print_problem);
  setText("pending", pending.join(" · "));
  // Only what needs attention: a ready device says nothing.
  const devices = Object.entries(s.devices || {})
    .filter(([, state]) => !READY.includes(state))
    .map(([name, state]) => {
      const item = listItem(name + ": " + state + " — " + deviceAdvice(state));
      item.dataset.state = state;
      return item;
    });
  $("devices").replaceChildren(...devices);
  setText("last-code", s.last_code || "—");
}

function renderHeader(s) {
  setText("station", s.station || "station");
  setText("mode", s.mode || "-");
  setText("operator", s.operator || "no operator");
  const online = s.connection === "online";
  $("connection").dataset.state = online ? "online" : "offline";
  $("conn-shape").setAttribute("href", online ? "#shape-online" : "#shape-offline");
  setText("connection-text", online ? "hub online" : "hub offline");
  setText("unacked", String(s.unacked ?? 0));
}

function renderButtons(s) {
  for (const b of document.querySelectorAll("#commands button[data-only]")) {
    b.hidden = b.dataset.only !== s.mode;
  }
  const modes = (s.modes || MODES).map((mode) => {
    const b = button(mode, "mode", mode);
    if (mode === s.mode) b.className = "current";
    return b;
  });
  $("modes").replaceChildren(...modes);
  // A returned item's reason codes (the station's configured list), once its condition is said.
  const reasons = s.mode === "returns" && s.condition ? s.return_reasons || [] : [];
  $("choices").replaceChildren(...reasons.map((r) => button(r.replace(/_/g, " "), "return", r)));
}

function render(s) {
  renderHeader(s);
  renderVerdict(s.verdict);
  setText("subject", subject(s));
  renderSummary(s);
  renderLines(s);
  renderSide(s);
  renderButtons(s);
  document.body.dataset.version = String((Number(document.body.dataset.version) || 0) + 1);
}

function button(label, command, arg) {
  const b = document.createElement("button");
  b.textContent = label;
  b.dataset.command = command;
  if (arg) b.dataset.arg = arg;
  return b;
}

async function touch(command, arg) {
  const response = await fetch("/touch", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ command, arg: arg || null }),
  });
  if (!response.ok) setText("verdict-message", "Button not accepted: " + response.status);
}

function listen() {
  const events = new EventSource("/events");
  events.onopen = () => {
    $("link").dataset.state = "live";
    setText("link", "live");
  };
  events.onerror = () => {
    $("link").dataset.state = "lost";
    setText("link", "screen disconnected: retrying");
  };
  events.onmessage = (event) => render(JSON.parse(event.data));
}

document.addEventListener("click", (event) => {
  const b = event.target.closest("button[data-command]");
  if (b) touch(b.dataset.command, b.dataset.arg);
});

document.addEventListener("DOMContentLoaded", () => {
  const initial = JSON.parse($("initial").textContent || "{}");
  if (initial && Object.keys(initial).length) render(initial);
  else renderButtons({});
  listen();
});
