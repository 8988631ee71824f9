// A chart whose bars and points open their records: a click on one, or from the keyboard
// (the canvas takes focus; arrow keys move between bars or points, their tooltip showing,
// Enter or Space opens). What an element means is asked of `chart.$pick(datasetIndex,
// index)`, set again on every draw: {text, open(opener)} or null (nothing to list).

import { el } from "./view.js";

const KEYS_INDEX_X = { ArrowRight: [0, 1], ArrowLeft: [0, -1], ArrowUp: [1, 0], ArrowDown: [-1, 0] };
const KEYS_INDEX_Y = { ArrowDown: [0, 1], ArrowUp: [0, -1], ArrowRight: [1, 0], ArrowLeft: [-1, 0] };

// `mode`: how a click finds its element ("nearest" bar under the pointer, or the "index"
// under it for a line); `datasets`: how many datasets the keys move across (the others are
// decoration, e.g. the gap band).
export function drillable(chart, { mode = "nearest", datasets = Infinity, pick }) {
  chart.$pick = pick;
  chart.$drillDatasets = datasets;
  if (chart.$drill) return;
  chart.$drill = { d: 0, i: -1 };
  const canvas = chart.canvas;
  canvas.tabIndex = 0;
  const live = el("p", { class: "sr-only", "aria-live": "polite" });
  canvas.parentElement.after(live);

  const hit = (event) => {
    const intersect = mode !== "index";
    return chart.getElementsAtEventForMode(event, mode, { intersect }, false)
      .find((e) => e.datasetIndex < chart.$drillDatasets
        && chart.$pick(e.datasetIndex, e.index)?.open);
  };
  chart.options.onHover = (event) => {
    canvas.style.cursor = hit(event.native || event) ? "pointer" : "default";
  };
  chart.options.onClick = (event) => {
    const found = hit(event.native || event);
    if (!found) return;
    chart.$drill = { d: found.datasetIndex, i: found.index };
    chart.$pick(found.datasetIndex, found.index).open(canvas);
  };
  canvas.addEventListener("keydown", (event) => {
    const pos = chart.$drill;
    if (event.key === "Enter" || event.key === " ") {
      const chosen = pos.i >= 0 ? chart.$pick(pos.d, pos.i) : null;
      if (chosen?.open) {
        event.preventDefault();
        chosen.open(canvas);
      }
      return;
    }
    const horizontal = chart.options.indexAxis === "y";
    let step = (horizontal ? KEYS_INDEX_Y : KEYS_INDEX_X)[event.key];
    if (event.key === "Home" || event.key === "End") step = [0, 0];
    if (!step) return;
    event.preventDefault();
    const n = chart.data.labels.length;
    const sets = Math.min(chart.$drillDatasets, chart.data.datasets.length);
    if (!n || !sets) return;
    let { d, i } = pos;
    if (event.key === "Home") i = 0;
    else if (event.key === "End") i = n - 1;
    else if (i < 0) i = 0;
    else {
      i = Math.min(n - 1, Math.max(0, i + step[1]));
      d = Math.min(sets - 1, Math.max(0, d + step[0]));
    }
    show(chart, live, d, i);
  });
  canvas.addEventListener("focus", () => {
    const { d, i } = chart.$drill;
    if (i >= 0 && i < chart.data.labels.length) show(chart, live, d, i);
  });
  canvas.addEventListener("blur", () => {
    chart.setActiveElements([]);
    chart.tooltip.setActiveElements([], { x: 0, y: 0 });
    chart.update("none");
  });
}

function show(chart, live, d, i) {
  chart.$drill = { d, i };
  const element = chart.getDatasetMeta(d).data[i];
  if (!element) return;
  // a gap (no value) has no point of its own: the tooltip shows what else is there
  let active = [{ datasetIndex: d, index: i }];
  if (element.skip) {
    active = chart.data.datasets.map((_, k) => ({ datasetIndex: k, index: i }))
      .filter((a) => chart.getDatasetMeta(a.datasetIndex).data[i]?.skip === false);
  }
  chart.setActiveElements(active);
  chart.tooltip.setActiveElements(active, { x: element.x, y: element.y || 0 });
  chart.update("none");
  const chosen = chart.$pick(d, i);
  live.textContent = chosen ? `${chosen.text}. Enter lists the records.` : "";
}
