// The three charts (Chart.js, vendored in /dashboard/vendor/). Created once, then updated
// in place with animation off, so a new report redraws in one frame.

import { COLORS } from "./catalogue.js";
import { KIND_FORMAT } from "./format.js";

const Chart = window.Chart;
const charts = {};

function baseOptions(extra = {}) {
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    interaction: { mode: "index", intersect: false },
    plugins: { legend: { position: "bottom", labels: { boxWidth: 14 } } },
    ...extra,
  };
}

function chart(id, config) {
  if (!charts[id]) {
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.font.size = window.innerWidth >= 1800 ? 15 : 12; // legible on a wallboard
    Chart.defaults.color = "#222";
    charts[id] = new Chart(document.getElementById(id), config);
  }
  return charts[id];
}

const MAX_AXIS_LABEL = 22;

function shorten(label) {
  return label.length > MAX_AXIS_LABEL ? `${label.slice(0, MAX_AXIS_LABEL - 1)}…` : label;
}

function describe(canvas, text) {
  canvas.setAttribute("aria-label", text);
}

// Stacked bars: calls by outcome (or, for agents' time, seconds by state) in each bucket.
export function drawOutcomes(labels, series, kind = "count", title = "Calls by outcome") {
  const c = chart("chart-outcomes", {
    type: "bar",
    data: { labels: [], datasets: [] },
    options: baseOptions({
      scales: { x: { stacked: true, ticks: { autoSkipPadding: 8 } },
        y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
    }),
  });
  c.data.labels = labels;
  c.data.datasets = series.map(({ label, color, data }) => ({
    label, data, backgroundColor: color, borderWidth: 0,
  }));
  const stacked = labels.map((_, i) => series.reduce((sum, s) => sum + (s.data[i] || 0), 0));
  setFormat(c, "y", kind, Math.max(0, ...stacked));
  c.update("none");
  describe(c.canvas, `${title} per bucket: ${series.map((s) => s.label).join(", ")}`);
}

// One line over the buckets (service level, wait, ...).
export function drawLine(labels, { label, kind, data }) {
  const c = chart("chart-line", {
    type: "line",
    data: { labels: [], datasets: [] },
    options: baseOptions({
      scales: { y: { beginAtZero: true, ticks: {} } },
      plugins: { legend: { display: false } },
    }),
  });
  c.data.labels = labels;
  c.data.datasets = [{
    label, data, borderColor: COLORS.blue, backgroundColor: COLORS.blue,
    pointRadius: data.length > 60 ? 0 : 3, borderWidth: 2, tension: 0,
  }];
  const fmt = KIND_FORMAT[kind];
  c.options.scales.y.ticks.callback = (v) => fmt(v);
  c.options.scales.y.ticks.stepSize = kind === "time" ? timeStep(Math.max(0, ...data)) : undefined;
  c.options.scales.y.suggestedMax = kind === "percent" ? 100 : undefined;
  c.options.plugins.tooltip = { callbacks: { label: (ctx) => `${label}: ${fmt(ctx.parsed.y)}` } };
  c.update("none");
  describe(c.canvas, `${label} per bucket`);
}

// Seconds between axis ticks for a span of up to `max` seconds: whole minutes or hours.
const TIME_STEPS = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
function timeStep(max) {
  const wanted = max / 6;
  const step = TIME_STEPS.find((s) => s >= wanted);
  return step || Math.ceil(wanted / 360000) * 360000; // 100 h multiples beyond
}

// Axis ticks and tooltips in the metric's own words (counts stay whole numbers, spans of
// time tick at whole minutes or hours).
function setFormat(c, axis, kind, max = 0) {
  const fmt = KIND_FORMAT[kind];
  const ticks = c.options.scales[axis].ticks;
  ticks.callback = kind === "count" ? undefined : (v) => fmt(v);
  ticks.stepSize = kind === "time" && max > 0 ? timeStep(max) : undefined;
  c.options.plugins.tooltip = kind === "count" ? {} : {
    callbacks: { label: (ctx) => `${ctx.dataset.label}: ${fmt(ctx.parsed[axis])}` },
  };
}

// Horizontal bars: entities ranked by one metric (largest first).
export function drawRanked(labels, { label, kind = "count", data }) {
  const c = chart("chart-ranked", {
    type: "bar",
    data: { labels: [], datasets: [] },
    options: baseOptions({
      indexAxis: "y",
      plugins: { legend: { display: false } },
      scales: {
        x: { beginAtZero: true, ticks: { precision: 0 } },
        // long names are cut on the axis (a phone has no room); the tooltip has them whole
        y: { ticks: { autoSkip: false, callback(value) { return shorten(this.getLabelForValue(value)); } } },
      },
    }),
  });
  // tall enough for every name; on a wide screen the card may give it more
  c.canvas.parentElement.style.minHeight = `${Math.max(160, 28 * labels.length + 60)}px`;
  c.data.labels = labels;
  c.data.datasets = [{
    label, data, backgroundColor: COLORS.orange, borderWidth: 0, maxBarThickness: 36,
  }];
  setFormat(c, "x", kind, Math.max(0, ...data));
  c.resize();
  c.update("none");
  describe(c.canvas, `${label}, ranked`);
}

// Resolves at the next frame, the one that puts what was drawn on screen.
export function nextFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}
