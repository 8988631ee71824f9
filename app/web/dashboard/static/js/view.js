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

export function renderTiles(container, view, totals, threshold) {
  container.replaceChildren(...view.tiles.map((m) => {
    const label = m === "service_level" ? `Service level (≤ ${threshold} s)` : view.metrics[m].label;
    const value = totals[m];
    return el("div", { class: "tile", "data-metric": m, "data-value": String(value ?? "") },
      el("span", { class: "tile-label", text: label }),
      el("span", { class: "tile-value", text: value === undefined ? "—" : formatValue(view, m, value) }));
  }));
}

function sparkline(values) {
  const w = 96, h = 24;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("class", "spark");
  svg.setAttribute("aria-hidden", "true");
  if (values.length < 2) return svg;
  const max = Math.max(...values, 1);
  const step = w / (values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`);
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("points", points.join(" "));
  svg.append(line);
  return svg;
}

// rows: [{id, name, totals: {metric: value}, trend: [numbers]}]; total: {metric: value}
export function renderTable(table, view, rows, total, sort, onSort) {
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
  const cells = (totals) => view.columns.map((m) => el("td", {
    "data-metric": m, "data-value": String(totals[m] ?? ""), class: "num",
    text: totals[m] === undefined ? "—" : formatValue(view, m, totals[m]),
  }));
  table.tBodies[0].replaceChildren(...sorted.map((r) => {
    const name = el("th", { scope: "row", class: "name" }, el("span", { text: r.name }));
    if (r.name !== r.id) name.append(el("small", { class: "id", text: r.id }));
    return el("tr", { "data-id": r.id }, name, el("td", { class: "trend" }, sparkline(r.trend)),
      ...cells(r.totals));
  }));
  table.tFoot.replaceChildren(el("tr", { "data-id": "total" },
    el("th", { scope: "row", text: "All" }), el("td"), ...cells(total)));
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
