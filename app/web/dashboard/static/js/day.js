// The Agents' time view's day: which day of the range, its agent_intervals read page after
// page, drawn as the timeline (timeline.js); a strip's interval opens the records panel.

import { fetchAllRecords } from "./api.js";
import { wallParts } from "./buckets.js";
import { bucketLabel } from "./format.js";
import { openRecords } from "./panel.js";
import { stateLabel } from "./record-rows.js";
import { splitTotals } from "./report-items.js";
import { addDays, todayIn } from "./state.js";
import { renderTimeline } from "./timeline.js";
import { el } from "./view.js";

const $ = (id) => document.getElementById(id);
let controller = null;
let drawn = 0;

// The days of the range for the timeline's picker; the chosen one (s.day, the link's) stays
// while in range, else the range's last.
function timelineDays(s) {
  const select = $("timeline-day");
  const days = [];
  for (let d = s.start; d <= s.end && days.length < 400; d = addDays(d, 1)) days.push(d);
  const chosen = days.includes(s.day) ? s.day : days.at(-1);
  select.replaceChildren(...days.map((d) => el("option", {
    value: d, text: bucketLabel(d.replaceAll("-", ""), "daily") + ` ${d.slice(0, 4)}`,
  })));
  select.value = chosen;
  return chosen;
}

// Draw the chosen day of the range for the agents of `report`. ctx: {account, nameOf,
// learnNames, onError}. body's data-timeline counts the days drawn.
export async function showDay(s, report, { account, nameOf, learnNames, onError }) {
  const day = timelineDays(s);
  controller?.abort();
  controller = new AbortController();
  const { signal } = controller;
  const key = day.replaceAll("-", "");
  const data = {
    report: "agent_intervals", start_date: s.start, end_date: s.end, timezone: s.tz,
    period: "daily", bucket: key, ...(s.ids.length ? { identifiers: s.ids } : {}),
  };
  $("timeline-status").textContent = "Loading the day…";
  try {
    const rows = await fetchAllRecords(account, data, signal);
    await learnNames(rows.map((r) => r.queue_id).filter(Boolean), signal).catch(() => {});
    if (signal.aborted) return;
    const { entities } = splitTotals(report.report);
    const agents = entities.map((e) => ({ id: e.id, name: nameOf(e.id) }))
      .sort((a, b) => a.name.localeCompare(b.name));
    const dayLabel = bucketLabel(key, "daily");
    const today = todayIn(s.tz) === day;
    renderTimeline($("timeline"), $("timeline-tip"), {
      day, dayLabel, rows, agents, nameOf, now: today ? wallParts(s.tz).seconds : null,
      open: (agent, st, opener) => openRecords({
        account,
        data: { ...data, identifiers: [agent], states: [st] },
        title: `${nameOf(agent)} · ${dayLabel} · ${stateLabel(st)}`,
        what: `Intervals in this state that day (times in ${s.tz})`,
        opener, nameOf, onError,
      }),
    });
    $("timeline-status").textContent = `${rows.length} intervals`
      + (today ? " · today, so far" : "");
    document.body.dataset.timeline = String(++drawn);
  } catch (e) {
    if (e.name === "AbortError") return;
    $("timeline-status").textContent = e.message;
    onError(e);
  }
}
