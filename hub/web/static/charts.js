// Small hand-written SVG charts (no library, nothing fetched): a line of on hand over
// time and a Pareto chart (bars with a cumulative-share line). Labels use textContent.
"use strict";

const SVG = "http://www.w3.org/2000/svg";

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (parent) parent.appendChild(node);
  return node;
}

function label(parent, x, y, text, anchor) {
  const t = el("text", { x, y, "text-anchor": anchor || "start", class: "chart-label" }, parent);
  t.textContent = text;
  return t;
}

function frame(svg) {
  svg.replaceChildren();
  const width = svg.clientWidth || 640;
  const height = svg.clientHeight || 240;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  return { width, height, left: 56, right: 16, top: 12, bottom: 28 };
}

function scale(lo, hi, a, b) {
  const span = hi - lo || 1;
  return (v) => a + ((v - lo) / span) * (b - a);
}

// points: [{ts, on_hand}] oldest first; drawn as a step line (stock changes in jumps).
function lineChart(svg, points) {
  const f = frame(svg);
  if (!points.length) {
    label(svg, f.width / 2, f.height / 2, "No movements yet.", "middle");
    return;
  }
  const values = points.map((p) => p.on_hand);
  const lo = Math.min(0, ...values);
  const hi = Math.max(...values, 1);
  const x = scale(0, Math.max(points.length - 1, 1), f.left, f.width - f.right);
  const y = scale(lo, hi, f.height - f.bottom, f.top);
  el("line", { x1: f.left, x2: f.width - f.right, y1: y(0), y2: y(0), class: "chart-axis" }, svg);
  let d = `M${x(0)},${y(values[0])}`;
  values.forEach((v, i) => { if (i) d += ` H${x(i)} V${y(v)}`; });
  el("path", { d, class: "chart-line" }, svg);
  label(svg, f.left - 6, y(hi) + 4, String(hi), "end");
  label(svg, f.left - 6, y(lo) + 4, String(lo), "end");
  label(svg, f.left, f.height - 8, points[0].ts.slice(0, 16).replace("T", " "));
  label(svg, f.width - f.right, f.height - 8,
        points[points.length - 1].ts.slice(0, 16).replace("T", " "), "end");
  svg.dataset.points = String(points.length);
}

// items: [{label, value}] sorted by value, largest first.
function paretoChart(svg, items) {
  const f = frame(svg);
  if (!items.length) {
    label(svg, f.width / 2, f.height / 2, "Nothing to show.", "middle");
    return;
  }
  const total = items.reduce((sum, i) => sum + i.value, 0) || 1;
  const band = (f.width - f.left - f.right) / items.length;
  const y = scale(0, Math.max(...items.map((i) => i.value), 1), f.height - f.bottom, f.top);
  const share = scale(0, 1, f.height - f.bottom, f.top);
  let running = 0;
  let d = "";
  items.forEach((item, i) => {
    const x0 = f.left + i * band;
    const bar = el("rect", { x: x0 + band * 0.1, width: Math.max(band * 0.8, 1), y: y(item.value),
      height: f.height - f.bottom - y(item.value), class: "chart-bar" }, svg);
    el("title", {}, bar).textContent = `${item.label}: ${item.value}`;
    running += item.value;
    d += `${i ? " L" : "M"}${x0 + band / 2},${share(running / total)}`;
  });
  el("path", { d, class: "chart-line" }, svg);
  for (const cut of [0.8, 0.95]) {
    el("line", { x1: f.left, x2: f.width - f.right, y1: share(cut), y2: share(cut),
      class: "chart-cut" }, svg);
    label(svg, f.width - f.right, share(cut) - 3, `${cut * 100}%`, "end");
  }
  svg.dataset.points = String(items.length);
}

function drawAll() {
  for (const svg of document.querySelectorAll("svg[data-chart]")) {
    const source = document.getElementById(svg.dataset.source);
    if (!source) continue;
    const data = JSON.parse(source.textContent);
    if (svg.dataset.chart === "line") lineChart(svg, data);
    if (svg.dataset.chart === "pareto") paretoChart(svg, data);
  }
}

document.addEventListener("hub:redrawn", drawAll);
drawAll();
