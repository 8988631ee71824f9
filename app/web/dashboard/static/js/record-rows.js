// How a record reads in the panel: the columns of each record report, as text. Times are
// the API's own (already in the chosen zone), durations read m:ss. Pure functions.

import { clock, wallTime } from "./format.js";

const STATE_LABELS = {
  logged_in: "Logged in", ready: "Ready", ringing: "Ringing", talking: "Talking",
  wrapup: "Wrap-up", paused: "Paused", outbound: "Outbound",
};
const RESULT_LABELS = {
  answered: "Answered", abandoned: "Abandoned", timeout: "Timed out", missed: "Missed",
  rejected: "Rejected",
};

const secs = (v) => (v === undefined ? "" : clock(v));
// a column: its header, its text from a row, whether it is a number, the request field
// that, naming one value, makes it the same on every row, and the states it has a value
// in (the panel leaves a column out where the request makes it the same, or empty)
const C = (label, text, num = false, given = "", only = null) => (
  { label, text, num, given, only });

export function stateLabel(state) {
  return STATE_LABELS[state] || state;
}

// "5:00 planned, 6:12 taken (1:12 over)": a pause or wrap-up against its plan.
export function plannedText(row) {
  if (row.planned === undefined) return "";
  const diff = row.seconds - row.planned;
  const how = diff === 0 ? "as planned" : `${clock(Math.abs(diff))} ${diff > 0 ? "over" : "under"}`;
  return `${clock(row.planned)} planned, ${clock(row.seconds)} taken (${how})`;
}

// The columns of a record request's rows, less those its filter fixes to one value.
export function recordColumns(data, nameOf) {
  const fixed = (c) => c.given && data[c.given]?.length === 1;
  const empty = (c) => c.only && data.states && !data.states.some((st) => c.only.includes(st));
  return allColumns(data.report, nameOf).filter((c) => !fixed(c) && !empty(c));
}

function allColumns(report, nameOf) {
  const name = (id) => (id === undefined ? "" : nameOf(id));
  if (report === "visits") {
    return [
      C("Entered", (r) => wallTime(r.entered)),
      C("Queue", (r) => name(r.queue_id), false, "identifiers"),
      C("Result", (r) => RESULT_LABELS[r.result] || r.result, false, "results"),
      C("Wait", (r) => secs(r.wait_time), true),
      C("Answered by", (r) => name(r.recipient_id)),
      C("Talk", (r) => secs(r.talk_time), true),
      C("Caller", (r) => [r.caller_id_name, r.caller_id_number].filter(Boolean).join(" · ")),
      C("Reason", (r) => r.abandoned_reason || ""),
      C("Source", (r) => r.source),
    ];
  }
  if (report === "offers") {
    return [
      C("Offered", (r) => wallTime(r.offered)),
      C("Agent", (r) => name(r.recipient_id), false, "identifiers"),
      C("Queue", (r) => name(r.queue_id)),
      C("Result", (r) => RESULT_LABELS[r.result] || r.result, false, "results"),
      C("Ring", (r) => secs(r.ring_time), true),
      C("Talk", (r) => secs(r.call_duration), true),
      C("Source", (r) => r.source),
    ];
  }
  return [
    C("Agent", (r) => name(r.agent_id), false, "identifiers"),
    C("State", (r) => stateLabel(r.state), false, "states"),
    C("From", (r) => wallTime(r.from)),
    C("To", (r) => wallTime(r.to) + (r.capped ? " (12 h cap)" : "")),
    C("Length", (r) => clock(r.seconds), true),
    C("Planned", (r) => plannedText(r), false, "", ["paused", "wrapup"]),
    C("Queue or pause", (r) => r.pause_alias || name(r.queue_id), false, "",
      ["ringing", "talking", "wrapup", "paused", "outbound"]),
  ];
}

// An agent interval in a few lines (the timeline's tooltip): state, from – to, length,
// queue or pause, and a pause's or wrap-up's plan against what it took.
export function intervalLines(row, nameOf) {
  const time = (iso) => wallTime(iso).split(" ").at(-1);
  const lines = [
    stateLabel(row.state) + (row.capped ? " (ended by the 12 h cap)" : ""),
    `${time(row.from)} – ${time(row.to)} · ${clock(row.seconds)}`,
  ];
  if (row.pause_alias) lines.push(`Pause: ${row.pause_alias}`);
  else if (row.queue_id) lines.push(`Queue: ${nameOf(row.queue_id)}`);
  if (row.planned !== undefined) lines.push(plannedText(row));
  return lines;
}
