// What every number opens into (CONTRACT 8d): for each view's metric, the record report and
// the filter whose rows make it. The one table of it; the panel, the charts, the table and
// the timeline all ask it. Pure functions, no DOM.

const R = (what, filter = {}) => ({ what, filter });
const ANSWERED = { results: ["answered"] };
const ON_SHIFT = { states: ["ready", "ringing", "talking", "wrapup"] };

export const RECORDS = {
  queues: {
    report: "visits",
    metrics: {
      call_count: R("calls"),
      answered_count: R("answered calls", ANSWERED),
      abandon_count: R("abandoned calls", { results: ["abandoned"] }),
      timeout_count: R("timed-out calls", { results: ["timeout"] }),
      answer_rate: R("calls (the rate is the answered share of them)"),
      abandon_rate: R("calls (the rate is the abandoned share of them)"),
      service_level: R((s) => `calls answered within ${s.threshold} s`,
        (s) => ({ results: ["answered"], wait_max: s.threshold })),
      avg_wait: R("calls (the average is over their waits)"),
      avg_answer_speed: R("answered calls (the average is over their waits)", ANSWERED),
      max_wait: R("calls (the longest is among their waits)"),
    },
  },
  recipients: {
    report: "offers",
    metrics: {
      offered_count: R("offers"),
      call_count: R("answered offers", ANSWERED),
      missed_call_count: R("missed offers", { results: ["missed"] }),
      rejected_call_count: R("rejected offers", { results: ["rejected"] }),
      answer_rate: R("offers (the rate is the answered share of them)"),
      avg_call_duration: R("answered offers (the average is over their talk)", ANSWERED),
      avg_ring_duration: R("answered offers (the average is over their ringing)", ANSWERED),
      total_call_duration: R("answered offers (the sum of their talk)", ANSWERED),
    },
  },
  agent_states: {
    report: "agent_intervals",
    metrics: {
      logged_in_time: R("intervals in every state"),
      ready_time: R("intervals ready", { states: ["ready"] }),
      ringing_time: R("intervals ringing", { states: ["ringing"] }),
      talk_time: R("intervals talking", { states: ["talking"] }),
      wrapup_time: R("intervals in wrap-up", { states: ["wrapup"] }),
      paused_time: R("intervals paused", { states: ["paused"] }),
      outbound_time: R("intervals on outbound calls", { states: ["outbound"] }),
      occupancy: R("intervals ready, ringing, talking or in wrap-up", ON_SHIFT),
      login_count: R("intervals logged in, not yet ready (counted where their login "
        + "falls in the bucket)", { states: ["logged_in"] }),
      pause_count: R("intervals paused (counted where their pause began in the bucket)",
        { states: ["paused"] }),
      paused_share: R("intervals paused", { states: ["paused"] }),
    },
  },
};

const call = (x, s) => (typeof x === "function" ? x(s) : x);

// The metric whose records are one state's intervals (its colour in the stacked bars).
export function metricOfState(state) {
  const found = Object.entries(RECORDS.agent_states.metrics)
    .find(([, r]) => r.filter.states?.length === 1 && r.filter.states[0] === state);
  return found ? found[0] : null;
}

// What a panel lists, in words: "abandoned calls".
export function describeRecords(s, metric) {
  return call(RECORDS[s.report].metrics[metric].what, s);
}

// The record request behind one number. `target`: {metric, entity, bucket} where entity
// "total" is the report's totals (the entities the report has: all, or the chosen ones)
// and bucket "total" the whole range; `extra` adds or narrows (e.g. one state).
export function recordRequest(s, target, extra = {}) {
  const kind = RECORDS[s.report];
  const data = {
    report: kind.report,
    start_date: s.start,
    end_date: s.end,
    timezone: s.tz,
    ...call(kind.metrics[target.metric].filter, s),
    ...extra,
  };
  if (target.bucket !== "total") Object.assign(data, { period: s.period, bucket: target.bucket });
  if (target.entity !== "total") data.identifiers = [target.entity];
  else if (s.ids.length) data.identifiers = s.ids;
  if (kind.report === "offers" && s.queue_ids.length) data.queue_ids = s.queue_ids;
  return data;
}

export function hasRecords(report, metric) {
  return Boolean(RECORDS[report]?.metrics[metric]);
}
