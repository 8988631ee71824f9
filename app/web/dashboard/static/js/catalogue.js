// What each report view shows: tiles, outcome bars, line choices, table columns.
// Colours are Okabe-Ito (distinguishable with every common colour-vision deficiency).

export const COLORS = {
  green: "#009E73", vermillion: "#D55E00", sky: "#56B4E9", purple: "#CC79A7",
  blue: "#0072B2", orange: "#E69F00", grey: "#6b6b6b",
};

// A metric: its label, its kind (how it reads), and for a ratio or an average the metrics
// whose sum is its divisor with what it means when that is 0: such a bucket has no value
// (the API answers 0 there, CONTRACT 3), so the page draws a gap and says why.
const M = (label, kind, of = null, none = "") => ({ label, kind, of, none });
const CALLS = ["call_count"];
const ON_SHIFT = ["ready_time", "ringing_time", "talk_time", "wrapup_time"]; // occupancy's divisor

export const VIEWS = {
  queues: {
    noun: "queue",
    nouns: "Queues",
    entities: "queues",
    outcomesTitle: "Calls by outcome",
    metrics: {
      call_count: M("Calls", "count"),
      answered_count: M("Answered", "count"),
      abandon_count: M("Abandoned", "count"),
      timeout_count: M("Timed out", "count"),
      answer_rate: M("Answered", "percent", CALLS, "no calls"),
      abandon_rate: M("Abandoned", "percent", CALLS, "no calls"),
      service_level: M("Service level", "percent", CALLS, "no calls"),
      avg_wait: M("Average wait", "duration", CALLS, "no calls"),
      avg_answer_speed: M("Speed of answer", "duration", ["answered_count"],
        "no answered calls"),
      max_wait: M("Longest wait", "duration", CALLS, "no calls"),
    },
    tiles: ["call_count", "answer_rate", "abandon_rate", "service_level", "avg_wait",
      "avg_answer_speed", "max_wait"],
    outcomes: [
      ["answered_count", COLORS.green],
      ["abandon_count", COLORS.vermillion],
      ["timeout_count", COLORS.sky],
    ],
    lines: ["service_level", "avg_wait", "avg_answer_speed", "answer_rate", "abandon_rate",
      "max_wait"],
    columns: ["call_count", "answered_count", "abandon_count", "timeout_count", "service_level",
      "avg_wait", "avg_answer_speed", "max_wait"],
    rankBy: "call_count",
    rankTitle: "Queues by calls",
    trend: "call_count",
  },
  recipients: {
    noun: "agent",
    nouns: "Agents",
    entities: "recipients",
    outcomesTitle: "Calls by outcome",
    metrics: {
      offered_count: M("Offered", "count"),
      call_count: M("Answered", "count"),
      missed_call_count: M("Missed", "count"),
      rejected_call_count: M("Rejected", "count"),
      answer_rate: M("Answer rate", "percent", ["offered_count"], "no offers"),
      avg_call_duration: M("Average talk time", "duration", ["call_count"], "no answered calls"),
      avg_ring_duration: M("Average ring time", "duration", ["call_count"], "no answered calls"),
      total_call_duration: M("Total talk time", "duration"),
    },
    tiles: ["offered_count", "call_count", "answer_rate", "missed_call_count",
      "rejected_call_count", "avg_call_duration", "avg_ring_duration"],
    outcomes: [
      ["call_count", COLORS.green],
      ["missed_call_count", COLORS.vermillion],
      ["rejected_call_count", COLORS.purple],
    ],
    lines: ["answer_rate", "avg_call_duration", "avg_ring_duration"],
    columns: ["offered_count", "call_count", "missed_call_count", "rejected_call_count",
      "answer_rate", "avg_call_duration", "avg_ring_duration", "total_call_duration"],
    rankBy: "call_count",
    rankTitle: "Agents by answered calls",
    trend: "call_count",
  },
  // CONTRACT.md 7: where each agent's logged-in time went (ACDC status_stat documents)
  agent_states: {
    noun: "agent",
    nouns: "Agents",
    entities: "recipients",
    title: "Agents' time",
    outcomesTitle: "Time by state",
    outcomesKind: "time",
    metrics: {
      logged_in_time: M("Logged in", "time"),
      ready_time: M("Ready", "time"),
      ringing_time: M("Ringing", "time"),
      talk_time: M("Talking", "time"),
      wrapup_time: M("Wrap-up", "time"),
      paused_time: M("Paused", "time"),
      outbound_time: M("Outbound", "time"),
      occupancy: M("Occupancy", "percent", ON_SHIFT, "no agent ready or busy"),
      login_count: M("Logins", "count"),
      pause_count: M("Pauses", "count"),
      paused_share: M("Paused share", "percent", ["logged_in_time"], "no agent logged in"),
    },
    // shares of the range's totals, worked out here from the summed seconds
    derived: {
      paused_share: (t) => (t.logged_in_time ? (100 * t.paused_time) / t.logged_in_time : 0),
    },
    tiles: ["logged_in_time", "occupancy", "paused_share", "talk_time", "login_count",
      "pause_count"],
    outcomes: [
      ["ready_time", COLORS.sky],
      ["ringing_time", COLORS.orange],
      ["talk_time", COLORS.green],
      ["wrapup_time", COLORS.blue],
      ["paused_time", COLORS.vermillion],
      ["outbound_time", COLORS.purple],
    ],
    lines: ["occupancy", "logged_in_time", "talk_time", "paused_time"],
    columns: ["logged_in_time", "ready_time", "ringing_time", "talk_time", "wrapup_time",
      "paused_time", "outbound_time", "occupancy", "login_count", "pause_count"],
    rankBy: "logged_in_time",
    rankTitle: "Agents by logged-in time",
    trend: "occupancy",
  },
};
