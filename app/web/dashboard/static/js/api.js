// Calls to the service: the token goes in the X-Auth-Token header, never in a URL.
// Errors come back in Crossbar's shape and are turned into one readable sentence.

const TOKEN_KEY = "qubicle_reports.token";
const ACCOUNT_KEY = "qubicle_reports.account";

export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY) || ""; },
  get account() { return sessionStorage.getItem(ACCOUNT_KEY) || ""; },
  save(token, account) {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(ACCOUNT_KEY, account);
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

export const QUEUE_METRICS = [
  "call_count", "answered_count", "abandon_count", "timeout_count", "service_level",
  "answer_rate", "abandon_rate", "avg_wait", "avg_answer_speed", "max_wait",
];
export const RECIPIENT_METRICS = [
  "offered_count", "call_count", "missed_call_count", "rejected_call_count", "answer_rate",
  "avg_call_duration", "avg_ring_duration", "total_call_duration",
];

export const AGENT_STATE_METRICS = [
  "logged_in_time", "ready_time", "ringing_time", "talk_time", "wrapup_time", "paused_time",
  "outbound_time", "occupancy", "login_count", "pause_count",
];
const METRICS = {
  queues: QUEUE_METRICS, recipients: RECIPIENT_METRICS, agent_states: AGENT_STATE_METRICS,
};

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

// "400 validation error — start_date: start_date is after end_date"
export function describeError(status, body) {
  if (!body || typeof body !== "object") return `The service answered ${status}.`;
  const head = `${body.error || status} ${body.message || ""}`.trim();
  const details = [];
  const data = body.data && typeof body.data === "object" ? body.data : {};
  if (typeof data.message === "string") {
    details.push(data.message);
  } else {
    for (const [field, problems] of Object.entries(data)) {
      if (!problems || typeof problems !== "object") continue;
      for (const p of Object.values(problems)) {
        const msg = p && typeof p.message === "string" ? p.message : "invalid";
        details.push(`${field}: ${msg}`);
      }
    }
  }
  return details.length ? `${head} — ${details.join("; ")}` : head;
}

async function call(path, { method = "GET", body, signal, accept = "application/json" } = {}) {
  const headers = { "X-Auth-Token": session.token, Accept: accept };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method, headers, signal, cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, "The service could not be reached.", null);
  }
  if (response.ok) return response;
  let parsed = null;
  try { parsed = await response.json(); } catch { /* not JSON: status only */ }
  throw new ApiError(response.status, describeError(response.status, parsed), parsed);
}

// The request a report view needs: every metric it shows, with totals.
export function reportRequest(state) {
  const data = {
    report: state.report,
    start_date: state.start,
    end_date: state.end,
    period: state.period,
    timezone: state.tz,
    metrics: METRICS[state.report],
    totals: true,
  };
  if (state.ids.length) data.identifiers = state.ids;
  if (state.report === "queues") data.service_level_threshold = state.threshold;
  if (state.report === "recipients" && state.queue_ids.length) data.queue_ids = state.queue_ids;
  return data;
}

function reportPath(account) {
  return `/v2/accounts/${encodeURIComponent(account)}/qubicle_reports`;
}

export async function fetchReport(account, data, signal) {
  const response = await call(reportPath(account), { method: "POST", body: { data }, signal });
  const body = await response.json();
  return body.data[0];
}

// One page of a record report (CONTRACT 8c): its rows and the key of the next page.
export async function fetchRecords(account, data, signal) {
  const response = await call(reportPath(account), { method: "POST", body: { data }, signal });
  const body = await response.json();
  return { rows: body.data, next: body.next_start_key || null };
}

// Every row of a record report, page after page (the timeline: one day of intervals).
export async function fetchAllRecords(account, data, signal) {
  const rows = [];
  let next = null;
  do {
    const page = await fetchRecords(account,
      { ...data, page_size: 1000, ...(next ? { start_key: next } : {}) }, signal);
    rows.push(...page.rows);
    next = page.next;
  } while (next);
  return rows;
}

export async function fetchCsv(account, data) {
  const response = await call(reportPath(account), {
    method: "POST", body: { data: { ...data, format: "csv" } }, accept: "text/csv",
  });
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename="([^"]+)"/.exec(disposition);
  return { blob: await response.blob(), filename: match ? match[1] : "report.csv" };
}

export async function fetchNames(account, ids, signal) {
  const path = `/v2/accounts/${encodeURIComponent(account)}/qubicle_names`
    + `?ids=${encodeURIComponent(ids.join(","))}`;
  const response = await call(path, { signal });
  return (await response.json()).data;
}
