// An agent's day as a timeline: one strip per agent over the day's wall clock (0–24 h),
// coloured by state with the stacked bars' palette, from the agent_intervals report. Hover
// or focus shows an interval; arrow keys walk a strip's intervals; a click or Enter opens
// the records panel on that agent's intervals of that state that day.

import { COLORS, VIEWS } from "./catalogue.js";
import { wallClock } from "./format.js";
import { intervalLines, stateLabel } from "./record-rows.js";
import { metricOfState } from "./records.js";
import { el } from "./view.js";

const DAY = 86400;
const STATES = ["logged_in", "ready", "ringing", "talking", "wrapup", "paused", "outbound"];

// A state's colour: its metric's in the stacked bars ("logged in, not ready" has no bar).
export function stateColor(state) {
  const found = VIEWS.agent_states.outcomes.find(([m]) => m === metricOfState(state));
  return found ? found[1] : COLORS.grey;
}

// Where a row lies on its day's wall clock, in seconds [from, to] (a row cut at the day's
// end runs to 24 h).
export function place(row, day) {
  const [fromDay, from] = wallClock(row.from);
  const [toDay, to] = wallClock(row.to);
  return [fromDay < day ? 0 : from, toDay > day ? DAY : to];
}

const pct = (s) => `${((100 * s) / DAY).toFixed(3)}%`;

function axis() {
  const hours = el("div", { class: "tl-hours", "aria-hidden": "true" });
  for (let h = 0; h <= 24; h += 1) {
    const size = h % 6 === 0 ? "major" : h % 3 === 0 ? "mid" : "minor";
    const tick = el("span", { class: `tl-tick ${size}`, text: `${String(h).padStart(2, "0")}` });
    tick.style.left = pct(h * 3600);
    hours.append(tick);
  }
  return el("div", { class: "tl-row tl-axis" }, el("span", { class: "tl-name" }), hours);
}

export function legend() {
  return el("ul", { class: "tl-legend", "aria-label": "States" }, ...STATES.map((s) => {
    const swatch = el("span", { class: "tl-swatch" });
    swatch.style.background = stateColor(s);
    return el("li", {}, swatch, el("span", { text: stateLabel(s) }));
  }));
}

// rows: the day's agent_intervals rows; agents: [{id, name}] in the order to show them;
// now: where the day is now (seconds on its wall clock) when it is today, else null: the
// rest of the strip is still to come. open(agentId, state, opener): list that agent's
// intervals of that state that day.
export function renderTimeline(container, tip,
  { day, dayLabel, rows, agents, nameOf, now = null, open }) {
  const byAgent = new Map(agents.map((a) => [a.id, []]));
  for (const row of rows) {
    if (!byAgent.has(row.agent_id)) byAgent.set(row.agent_id, []);
    byAgent.get(row.agent_id).push(row);
  }
  const strips = [...byAgent].map(([id, own]) => {
    const name = nameOf(id);
    const strip = el("div", {
      class: "tl-strip", tabindex: "0", role: "group", "data-agent": id,
      "aria-label": `${name}, ${dayLabel}: ${own.length ? `${own.length} intervals` : "not logged in"}.`
        + (own.length ? " Left and right arrows go through them, Enter lists the records." : ""),
    });
    for (const row of own) {
      const [from, to] = place(row, day);
      const seg = el("span", { class: "tl-seg", "data-state": row.state, "data-row": JSON.stringify(row) });
      seg.style.left = pct(from);
      seg.style.width = pct(Math.max(0, to - from));
      seg.style.background = stateColor(row.state);
      strip.append(seg);
    }
    if (!own.length) strip.append(el("span", { class: "tl-none", text: "not logged in" }));
    if (now !== null) {
      const later = el("span", { class: "tl-later", title: "still to come" });
      later.style.left = pct(now);
      strip.append(later);
    }
    wire(strip, tip, container, nameOf, open);
    return el("div", { class: "tl-row" }, el("span", { class: "tl-name", text: name }), strip);
  });
  const head = axis();
  if (now !== null) {
    const mark = el("span", { class: "tl-now", text: "now" });
    mark.style.left = pct(now);
    head.querySelector(".tl-hours").append(mark);
  }
  container.replaceChildren(head, ...strips);
}

function wire(strip, tip, container, nameOf, open) {
  const segs = () => [...strip.querySelectorAll(".tl-seg")];
  let at = 0; // the interval the keys are on
  const show = (seg) => {
    const row = JSON.parse(seg.dataset.row);
    tip.replaceChildren(...intervalLines(row, nameOf).map((line, i) => el(i ? "span" : "strong", { text: line })));
    tip.hidden = false;
    const box = container.getBoundingClientRect();
    const r = seg.getBoundingClientRect();
    const x = Math.min(Math.max(0, r.left + r.width / 2 - box.left - tip.offsetWidth / 2),
      box.width - tip.offsetWidth);
    tip.style.left = `${x}px`;
    tip.style.top = `${r.bottom - box.top + 6}px`;
    for (const s of strip.querySelectorAll(".tl-seg.active")) s.classList.remove("active");
    seg.classList.add("active");
    strip.setAttribute("aria-description", intervalLines(row, nameOf).join(", "));
  };
  const hide = () => {
    tip.hidden = true;
    for (const s of strip.querySelectorAll(".tl-seg.active")) s.classList.remove("active");
  };
  const openSeg = (seg) => open(strip.dataset.agent, seg.dataset.state, strip);
  strip.addEventListener("pointerover", (e) => {
    if (e.target.classList.contains("tl-seg")) show(e.target);
  });
  strip.addEventListener("pointerleave", () => { if (document.activeElement !== strip) hide(); });
  strip.addEventListener("click", (e) => {
    if (!e.target.classList.contains("tl-seg")) return;
    at = segs().indexOf(e.target);
    openSeg(e.target);
  });
  strip.addEventListener("focus", () => {
    const all = segs();
    if (all.length) show(all[Math.max(0, Math.min(at, all.length - 1))]);
  });
  strip.addEventListener("blur", hide);
  strip.addEventListener("keydown", (e) => {
    const all = segs();
    if (!all.length) return;
    const moves = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: all.length - 1 };
    if (e.key in moves) {
      e.preventDefault();
      at = Math.max(0, Math.min(all.length - 1, moves[e.key]));
      show(all[at]);
    } else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      openSeg(all[Math.min(at, all.length - 1)]);
    }
  });
}
