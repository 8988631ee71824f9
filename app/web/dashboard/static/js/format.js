// How numbers, durations and bucket keys read on the page. Pure functions.

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

export function count(n) {
  return integer.format(n);
}

export function percent(n) {
  return `${decimal.format(n)} %`;
}

// 42.5 -> "42.5 s", 754 -> "12 min 34 s", 7260 -> "2 h 1 min"
export function duration(seconds) {
  if (seconds < 60) return `${decimal.format(seconds)} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h) return `${h} h ${m} min`;
  return `${m} min ${s % 60} s`;
}

// Long spans, as a supervisor reads them: 42 -> "42 s", 754 -> "12 m 34 s",
// 25920 -> "7 h 12 m", 43200 -> "12 h", 4_000_000 -> "1,111 h 6 m"
export function time(seconds) {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h) return m ? `${integer.format(h)} h ${m} m` : `${integer.format(h)} h`;
  return `${m} m ${s % 60} s`;
}

export const KIND_FORMAT = { count, percent, duration, time };

// Bucket keys: YYYYMMDDHH, YYYYMMDD, YYYYMM, or weekly YYYYWW (the %U week of its Sunday).
export function bucketLabel(key, period) {
  const y = key.slice(0, 4);
  if (period === "hourly") return `${MONTHS[Number(key.slice(4, 6)) - 1]} ${Number(key.slice(6, 8))} ${key.slice(8, 10)}:00`;
  if (period === "daily") return `${MONTHS[Number(key.slice(4, 6)) - 1]} ${Number(key.slice(6, 8))}`;
  if (period === "weekly") return `${y} wk ${key.slice(4, 6)}`;
  if (period === "monthly") return `${MONTHS[Number(key.slice(4, 6)) - 1]} ${y}`;
  return key;
}

// Seconds as a clock reads them, for one call or one interval: 65 -> "1:05",
// 3725 -> "1:02:05".
export function clock(seconds) {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

// A record's time as the API wrote it (ISO 8601 with the offset of the chosen zone),
// read on its own wall clock: "2026-11-02T07:56:29+01:00" -> "Nov 2 07:56:29".
export function wallTime(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso || "");
  if (!m) return iso || "";
  return `${MONTHS[Number(m[2]) - 1]} ${Number(m[3])} ${m[4]}`;
}

// Seconds since the wall clock's midnight, and the date: "…T07:56:29+01:00" ->
// ["2026-11-02", 28589].
export function wallClock(iso) {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})/.exec(iso || "");
  if (!m) return [null, 0];
  return [m[1], Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4])];
}

export const PERIOD_NOUN = { hourly: "hour", daily: "day", weekly: "week", monthly: "month" };
