// What each report view shows: tiles, outcome bars, line choices, table columns.
// Colours are Okabe-Ito (distinguishable with every common colour-vision deficiency).

export const COLORS = {
  green: "#009E73", vermillion: "#D55E00", sky: "#56B4E9", purple: "#CC79A7",
  blue: "#0072B2", orange: "#E69F00", grey: "#6b6b6b",
};

const M = (label, kind) => ({ label, kind });

export const VIEWS = {
  queues: {
    noun: "queue",
    nouns: "Queues",
    metrics: {
      call_count: M("Calls", "count"),
      answered_count: M("Answered", "count"),
      abandon_count: M("Abandoned", "count"),
      timeout_count: M("Timed out", "count"),
      answer_rate: M("Answered", "percent"),
      abandon_rate: M("Abandoned", "percent"),
      service_level: M("Service level", "percent"),
      avg_wait: M("Average wait", "duration"),
      avg_answer_speed: M("Speed of answer", "duration"),
      max_wait: M("Longest wait", "duration"),
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
    metrics: {
      offered_count: M("Offered", "count"),
      call_count: M("Answered", "count"),
      missed_call_count: M("Missed", "count"),
      rejected_call_count: M("Rejected", "count"),
      answer_rate: M("Answer rate", "percent"),
      avg_call_duration: M("Average talk time", "duration"),
      avg_ring_duration: M("Average ring time", "duration"),
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
};
