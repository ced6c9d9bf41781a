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

function frame(svg, bottom = 28) {
  svg.replaceChildren();
  const width = svg.clientWidth || 640;
  const height = svg.clientHeight || 240;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  return { width, height, left: 56, right: 16, top: 12, bottom };
}

function scale(lo, hi, a, b) {
  const span = hi - lo || 1;
  return (v) => a + ((v - lo) / span) * (b - a);
}

// points: [{ts, on_hand}] oldest first; drawn as a step line (stock changes in jumps).
// levels: [{label, value}] drawn as dashed lines across (reorder point, par level).
function lineChart(svg, points, levels) {
  const f = frame(svg);
  if (!points.length) {
    label(svg, f.width / 2, f.height / 2, "No movements yet.", "middle");
    return;
  }
  const values = points.map((p) => p.on_hand);
  const marks = (levels || []).filter((l) => l.value !== null && l.value !== undefined);
  const lo = Math.min(0, ...values);
  const hi = Math.max(...values, ...marks.map((l) => l.value), 1);
  const x = scale(0, Math.max(points.length - 1, 1), f.left, f.width - f.right);
  const y = scale(lo, hi, f.height - f.bottom, f.top);
  el("line", { x1: f.left, x2: f.width - f.right, y1: y(0), y2: y(0), class: "chart-axis" }, svg);
  let d = `M${x(0)},${y(values[0])}`;
  values.forEach((v, i) => { if (i) d += ` H${x(i)} V${y(v)}`; });
  el("path", { d, class: "chart-line" }, svg);
  for (const level of marks) {
    el("line", { x1: f.left, x2: f.width - f.right, y1: y(level.value), y2: y(level.value),
      class: `chart-level ${level.kind || ""}` }, svg);
    label(svg, f.width - f.right, y(level.value) - 3,
          `${level.label} ${hubFormat.number(level.value)}`, "end");
  }
  const fmt = window.hubFormat;
  label(svg, f.left - 6, y(hi) + 4, fmt.number(hi), "end");
  label(svg, f.left - 6, y(lo) + 4, fmt.number(lo), "end");
  label(svg, f.left, f.height - 8, fmt.relative(new Date(points[0].ts)));
  label(svg, f.width - f.right, f.height - 8,
        fmt.relative(new Date(points[points.length - 1].ts)), "end");
  svg.dataset.points = String(points.length);
}

// items: [{label, value}] sorted by value, largest first.
function paretoChart(svg, items) {
  const f = frame(svg, 64);
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
    el("title", {}, bar).textContent = `${item.label}: ${hubFormat.number(item.value)}`;
    if (band >= 14) {  // room for the SKU under its bar, turned to fit
      const x = x0 + band / 2;
      const t = label(svg, x, f.height - f.bottom + 10, item.label, "end");
      t.setAttribute("transform", `rotate(-45 ${x} ${f.height - f.bottom + 10})`);
      t.classList.add("chart-bar-label");
    }
    running += item.value;
    d += `${i ? " L" : "M"}${x0 + band / 2},${share(running / total)}`;
  });
  el("path", { d, class: "chart-line" }, svg);
  const top = Math.max(...items.map((i) => i.value), 1);
  label(svg, f.left - 6, y(top) + 4, hubFormat.number(top), "end");
  label(svg, f.left - 6, y(0) + 4, "0", "end");
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
    const levels = document.getElementById(svg.dataset.levels || "");
    if (svg.dataset.chart === "line") lineChart(svg, data, levels ? JSON.parse(levels.textContent) : []);
    if (svg.dataset.chart === "pareto") paretoChart(svg, data);
  }
}

document.addEventListener("hub:redrawn", drawAll);
drawAll();
