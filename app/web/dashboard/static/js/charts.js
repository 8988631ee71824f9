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

// A label cut to `px` pixels of the axis font, with an ellipsis (the tooltip has it whole).
function fitLabel(ctx, label, px) {
  if (ctx.measureText(label).width <= px) return label;
  let n = label.length;
  while (n > 1 && ctx.measureText(`${label.slice(0, n)}…`).width > px) n -= 1;
  return `${label.slice(0, n)}…`;
}

function describe(canvas, text) {
  canvas.setAttribute("aria-label", `${text}. Arrow keys choose one, Enter lists its records.`);
}

// A bar of the bucket still running is drawn lighter: its figures are so far.
function lighter(color) {
  return `${color}73`;
}

// Stacked bars: calls by outcome (or, for agents' time, seconds by state) in each bucket.
// `partial`: the index of the bucket still running (or -1); `empty`: what a bucket with
// nothing in it means, said on hover.
export function drawOutcomes(labels, series, kind = "count", title = "Calls by outcome",
  { partial = -1, empty = "" } = {}) {
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
    label, data, borderWidth: 0,
    backgroundColor: partial < 0 ? color : data.map((_, i) => (i === partial ? lighter(color) : color)),
  }));
  const stacked = labels.map((_, i) => series.reduce((sum, s) => sum + (s.data[i] || 0), 0));
  setFormat(c, "y", kind, Math.max(0, ...stacked));
  const fmt = KIND_FORMAT[kind];
  c.options.plugins.tooltip = { callbacks: {
    ...(kind === "count" ? {} : { label: (ctx) => `${ctx.dataset.label}: ${fmt(ctx.parsed.y)}` }),
    footer: (items) => {
      const i = items[0]?.dataIndex;
      if (i === undefined) return "";
      if (stacked[i] === 0 && empty) return empty;
      return i === partial ? "So far: this bucket is still running" : "";
    },
  } };
  c.update("none");
  describe(c.canvas, `${title} per bucket: ${series.map((s) => s.label).join(", ")}`);
  return c;
}

// One line over the buckets (service level, wait, ...). A null is a bucket with no value
// (no calls): a gap in the line, under a light band whose tooltip says why (`gap`); the
// bucket still running (`partial`) is reached by a dashed stretch and a hollow point.
export function drawLine(labels, { label, kind, data, gap = "", partial = -1 }) {
  const c = chart("chart-line", {
    type: "line",
    data: { labels: [], datasets: [] },
    options: baseOptions({
      scales: { y: { beginAtZero: true, ticks: {} } },
      plugins: { legend: { display: false } },
    }),
  });
  const values = data.filter((v) => v !== null);
  const top = kind === "percent" ? 100 : Math.max(1, ...values);
  c.data.labels = labels;
  c.data.datasets = [{
    label, data, borderColor: COLORS.blue, backgroundColor: COLORS.blue, order: 1,
    pointRadius: data.length > 60 ? 0 : 3, borderWidth: 2, tension: 0, spanGaps: false,
    pointBackgroundColor: data.map((_, i) => (i === partial ? "#fff" : COLORS.blue)),
    segment: { borderDash: (ctx) => (ctx.p1DataIndex === partial ? [5, 4] : undefined) },
  }, {
    type: "bar", label: "no value", order: 2, data: data.map((v) => (v === null ? top : null)),
    backgroundColor: "rgba(107, 107, 107, 0.13)", borderWidth: 0, barPercentage: 1,
    categoryPercentage: 1,
  }];
  if (partial >= 0 && data.length > 60) {
    c.data.datasets[0].pointRadius = data.map((_, i) => (i === partial ? 3 : 0));
  }
  const fmt = KIND_FORMAT[kind];
  c.options.scales.y.ticks.callback = (v) => fmt(v);
  c.options.scales.y.ticks.stepSize = kind === "time" ? timeStep(Math.max(0, ...values)) : undefined;
  c.options.scales.y.suggestedMax = kind === "percent" ? 100 : undefined;
  c.options.plugins.tooltip = { callbacks: { label: (ctx) => {
    if (ctx.datasetIndex === 1) return gap;
    return `${label}: ${fmt(ctx.parsed.y)}${ctx.dataIndex === partial ? " (so far)" : ""}`;
  } } };
  c.update("none");
  describe(c.canvas, `${label} per bucket`);
  return c;
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
        // long names are cut to the room the axis has (Chart.js gives the labels at most
        // half the chart's width, and draws a longer one past the canvas's left edge);
        // the tooltip has them whole
        y: { ticks: { autoSkip: false, callback(value) {
          const ctx = this.chart.ctx;
          ctx.save();
          ctx.font = labelFont(this.chart);
          const room = Math.max(40, this.chart.width * 0.42 - 12);
          const text = fitLabel(ctx, this.getLabelForValue(value), room);
          ctx.restore();
          return text;
        } } },
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
  return c;
}

function labelFont(c) {
  const f = Chart.defaults.font;
  return `${f.style || "normal"} ${f.weight || "normal"} ${f.size}px ${f.family}`;
}

// Resolves at the next frame, the one that puts what was drawn on screen.
export function nextFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}
