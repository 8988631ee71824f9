// DOM output: tiles, the table with its trend sparklines, pickers. Every id and name from
// the database is set with textContent or as an attribute value, never parsed as HTML.

import { KIND_FORMAT } from "./format.js";

const SVG = "http://www.w3.org/2000/svg";

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "text") node.textContent = v;
    else if (k === "class") node.className = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

export function formatValue(view, metric, value) {
  return KIND_FORMAT[view.metrics[metric].kind](value);
}

// `open(metric, entity, bucket, opener)`: a number was chosen, list its records (or null:
// the numbers are plain text).
export function renderTiles(container, view, totals, threshold, open = null) {
  container.replaceChildren(...view.tiles.map((m) => {
    const label = m === "service_level" ? `Service level (≤ ${threshold} s)` : view.metrics[m].label;
    const value = totals[m];
    const tile = el(open ? "button" : "div", {
      class: "tile", "data-metric": m, "data-value": String(value ?? ""),
    }, el("span", { class: "tile-label", text: label }),
    el("span", { class: "tile-value", text: value === undefined ? "—" : formatValue(view, m, value) }));
    if (open) {
      tile.type = "button";
      tile.addEventListener("click", () => open(m, "total", "total", tile));
    }
    return tile;
  }));
}

// Save a downloaded file under its name (the token travels in a header, never a link).
export function saveFile(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// A trend in a table row: null values (no value in that bucket) are gaps, and the bucket
// still running (`partial`, its index) is drawn dashed into a hollow point: so far.
function sparkline(values, partial = -1) {
  const w = 96, h = 24;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("class", "spark");
  svg.setAttribute("aria-hidden", "true");
  if (values.length < 2) return svg;
  const max = Math.max(...values.filter((v) => v !== null), 1);
  const step = w / (values.length - 1);
  const at = (i) => [(i * step).toFixed(1), (h - 2 - (values[i] / max) * (h - 4)).toFixed(1)];
  const add = (tag, attrs) => {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    svg.append(node);
  };
  const end = partial >= 0 ? partial : values.length;
  let run = [];
  const flush = () => {
    if (run.length === 1) add("circle", { cx: at(run[0])[0], cy: at(run[0])[1], r: 1.2 });
    if (run.length > 1) add("polyline", { points: run.map((i) => at(i).join(",")).join(" ") });
    run = [];
  };
  for (let i = 0; i < end; i++) {
    if (values[i] === null) flush();
    else run.push(i);
  }
  flush();
  if (partial >= 0 && values[partial] !== null) {
    const [x, y] = at(partial);
    if (partial > 0 && values[partial - 1] !== null) {
      const [x0, y0] = at(partial - 1);
      add("polyline", { points: `${x0},${y0} ${x},${y}`, class: "so-far" });
    }
    add("circle", { cx: x, cy: y, r: 2, class: "so-far" });
  }
  return svg;
}

// rows: [{id, name, totals: {metric: value}, trend: [numbers or null]}]; total: {metric:
// value}; `partial`: the index of the bucket still running in the trends (or -1).
export function renderTable(table, view, rows, total, sort, onSort, open, partial = -1) {
  const [sortKey, dir] = (sort || `${view.rankBy}:desc`).split(":");
  const sorted = [...rows].sort((a, b) => {
    const x = sortKey === "name" ? a.name.toLowerCase() : a.totals[sortKey] ?? 0;
    const y = sortKey === "name" ? b.name.toLowerCase() : b.totals[sortKey] ?? 0;
    const c = x < y ? -1 : x > y ? 1 : 0;
    return dir === "asc" ? c : -c;
  });
  const header = (key, label) => {
    const active = key === sortKey;
    const th = el("th", { scope: "col" });
    if (active) th.setAttribute("aria-sort", dir === "asc" ? "ascending" : "descending");
    const arrow = active ? (dir === "asc" ? " ▲" : " ▼") : "";
    const button = el("button", { type: "button", class: "sort", "data-sort": key, text: label + arrow });
    button.addEventListener("click", () => {
      onSort(`${key}:${active && dir === "desc" ? "asc" : "desc"}`);
    });
    th.append(button);
    return th;
  };
  table.tHead.rows[0].replaceChildren(
    header("name", view.nouns.replace(/s$/, "")),
    el("th", { scope: "col", text: "Trend" }),
    ...view.columns.map((m) => header(m, view.metrics[m].label)),
  );
  const cells = (totals, id) => view.columns.map((m) => {
    const text = totals[m] === undefined ? "—" : formatValue(view, m, totals[m]);
    const td = el("td", { "data-metric": m, "data-value": String(totals[m] ?? ""), class: "num" });
    if (!open || totals[m] === undefined) {
      td.textContent = text;
      return td;
    }
    const button = el("button", { type: "button", class: "cell", text });
    button.addEventListener("click", () => open(m, id, "total", button));
    td.append(button);
    return td;
  });
  table.tBodies[0].replaceChildren(...sorted.map((r) => {
    const name = el("th", { scope: "row", class: "name" }, el("span", { text: r.name }));
    if (r.name !== r.id) name.append(el("small", { class: "id", text: r.id }));
    return el("tr", { "data-id": r.id }, name,
      el("td", { class: "trend" }, sparkline(r.trend, partial)), ...cells(r.totals, r.id));
  }));
  table.tFoot.replaceChildren(el("tr", { "data-id": "total" },
    el("th", { scope: "row", class: "name", text: "All" }), el("td"), ...cells(total, "total")));
}

// A list of checkboxes, one per known entity, labelled with its name.
export function renderPicker(list, entries, chosen, onChange) {
  list.replaceChildren(...entries.map(({ id, name }) => {
    const box = el("input", { type: "checkbox", value: id });
    box.checked = chosen.includes(id);
    box.addEventListener("change", () => {
      const now = [...list.querySelectorAll("input:checked")].map((b) => b.value);
      onChange(now);
    });
    return el("li", {}, el("label", {}, box, el("span", { text: name })));
  }));
}

// A table wider than its box says so: a shadow on the side that has more (data-more="left",
// "right" or "both"), kept up to date as it scrolls or the window changes.
export function showScrollCue(wrap) {
  const update = () => {
    const left = wrap.scrollLeft > 1;
    const right = wrap.scrollLeft + wrap.clientWidth < wrap.scrollWidth - 1;
    wrap.parentElement.dataset.more = left && right ? "both" : left ? "left" : right ? "right" : "";
  };
  wrap.addEventListener("scroll", update, { passive: true });
  new ResizeObserver(update).observe(wrap);
  return update;
}
