// Page state: what the controls say, kept in the URL's hash so a link shows the same report.
// The token is never part of it (it lives in sessionStorage only). Pure functions, no DOM.

export const REPORTS = ["queues", "recipients", "agent_states"];

export const THRESHOLDS = [5, 10, 15, 20, 25, 30, 40, 45, 60, 75, 90, 120, 180, 240, 300, 600];
export const PERIODS = ["hourly", "daily", "weekly", "monthly"];
export const PRESETS = {
  today: "Today",
  yesterday: "Yesterday",
  last7: "Last 7 days",
  this_month: "This month",
  last_month: "Last month",
  last90: "Last 90 days",
  custom: "Custom range",
};
const ACCOUNT_RE = /^[0-9a-f]{32}$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
// an id a report may hold and a request may name (the API's rule: at most 128 characters)
export const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.@:+-]{0,127}$/;

export function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

export function defaults() {
  return {
    account: "",
    report: "queues",
    preset: "last7",
    start: "",
    end: "",
    period: "",
    tz: browserZone(),
    ids: [],
    queue_ids: [],
    threshold: 20,
    line: "",
    sort: "",
    day: "", // the Agents' time view's timeline day (default: the range's last)
  };
}

// "YYYY-MM-DD" of the current day in an IANA zone.
export function todayIn(zone, now = new Date()) {
  try {
    const parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
    }).formatToParts(now);
    const get = (t) => parts.find((p) => p.type === t).value;
    return `${get("year")}-${get("month")}-${get("day")}`;
  } catch {
    return now.toISOString().slice(0, 10);
  }
}

// Calendar arithmetic on "YYYY-MM-DD" strings, in UTC so no zone shifts a day.
function toDate(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d));
}
function fromDate(dt) {
  return dt.toISOString().slice(0, 10);
}
export function addDays(iso, n) {
  const dt = toDate(iso);
  dt.setUTCDate(dt.getUTCDate() + n);
  return fromDate(dt);
}
export function daysBetween(a, b) {
  return Math.round((toDate(b) - toDate(a)) / 86400000) + 1;
}

// The [start, end] a preset means today in `zone`.
export function presetRange(preset, zone, now = new Date()) {
  const today = todayIn(zone, now);
  const first = today.slice(0, 8) + "01";
  switch (preset) {
    case "today": return [today, today];
    case "yesterday": return [addDays(today, -1), addDays(today, -1)];
    case "last7": return [addDays(today, -6), today];
    case "this_month": return [first, today];
    case "last_month": {
      const lastOfPrev = addDays(first, -1);
      return [lastOfPrev.slice(0, 8) + "01", lastOfPrev];
    }
    case "last90": return [addDays(today, -89), today];
    default: return null;
  }
}

// A period that gives a readable number of buckets for the range.
export function defaultPeriod(start, end) {
  const days = daysBetween(start, end);
  if (days <= 2) return "hourly";
  if (days <= 93) return "daily";
  if (days <= 190) return "weekly";
  return "monthly";
}

// The state with its range and period worked out (what a report is asked for).
export function resolve(state, now = new Date()) {
  const s = { ...state };
  const range = presetRange(s.preset, s.tz, now);
  if (range) [s.start, s.end] = range;
  if (!DATE_RE.test(s.start) || !DATE_RE.test(s.end)) {
    [s.start, s.end] = presetRange("last7", s.tz, now);
    s.preset = "last7";
  }
  if (!PERIODS.includes(s.period)) s.period = defaultPeriod(s.start, s.end);
  return s;
}

function list(raw) {
  return (raw || "").split(",").map((x) => x.trim()).filter((x) => ID_RE.test(x));
}

export function fromHash(hash) {
  const q = new URLSearchParams(hash.replace(/^#/, ""));
  const s = defaults();
  if (ACCOUNT_RE.test(q.get("account") || "")) s.account = q.get("account");
  if (REPORTS.includes(q.get("report"))) s.report = q.get("report");
  if (q.get("preset") in PRESETS) s.preset = q.get("preset");
  if (DATE_RE.test(q.get("start") || "")) s.start = q.get("start");
  if (DATE_RE.test(q.get("end") || "")) s.end = q.get("end");
  if (PERIODS.includes(q.get("period"))) s.period = q.get("period");
  if (q.get("tz")) s.tz = q.get("tz");
  s.ids = list(q.get("ids"));
  s.queue_ids = list(q.get("queue_ids"));
  const t = Number(q.get("threshold"));
  if (THRESHOLDS.includes(t)) s.threshold = t;
  if (/^[a-z_]{1,40}$/.test(q.get("line") || "")) s.line = q.get("line");
  if (/^[a-z_]{1,40}:(asc|desc)$/.test(q.get("sort") || "")) s.sort = q.get("sort");
  if (DATE_RE.test(q.get("day") || "")) s.day = q.get("day");
  return s;
}

export function toHash(state) {
  const q = new URLSearchParams();
  q.set("account", state.account);
  q.set("report", state.report);
  q.set("preset", state.preset);
  if (state.preset === "custom") {
    q.set("start", state.start);
    q.set("end", state.end);
  }
  if (state.period) q.set("period", state.period);
  q.set("tz", state.tz);
  if (state.ids.length) q.set("ids", state.ids.join(","));
  if (state.report === "recipients" && state.queue_ids.length) {
    q.set("queue_ids", state.queue_ids.join(","));
  }
  if (state.report === "queues") q.set("threshold", String(state.threshold));
  if (state.line) q.set("line", state.line);
  if (state.sort) q.set("sort", state.sort);
  if (state.report === "agent_states" && state.day) q.set("day", state.day);
  return "#" + q.toString();
}
