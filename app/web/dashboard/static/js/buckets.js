// Which buckets have no value (a ratio over nothing) and which one is still running.
// Pure functions, no DOM.

import { PERIOD_NOUN } from "./format.js";

// The wall clock of `now` in an IANA zone: {y, m, d, h, seconds} (seconds since midnight).
export function wallParts(zone, now = new Date()) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone, year: "numeric", month: "numeric", day: "numeric", hour: "numeric",
    minute: "numeric", second: "numeric", hourCycle: "h23",
  }).formatToParts(now);
  const get = (t) => Number(parts.find((p) => p.type === t).value);
  return { y: get("year"), m: get("month"), d: get("day"), h: get("hour"),
    seconds: get("hour") * 3600 + get("minute") * 60 + get("second") };
}

const pad = (n, w = 2) => String(n).padStart(w, "0");

// The key of the bucket (CONTRACT 4) that holds the calendar day y-m-d (hour h):
// weekly is the year and %U week number of the Sunday that starts the week.
export function bucketKey(period, { y, m, d, h = 0 }) {
  if (period === "hourly") return `${y}${pad(m)}${pad(d)}${pad(h)}`;
  if (period === "daily") return `${y}${pad(m)}${pad(d)}`;
  if (period === "monthly") return `${y}${pad(m)}`;
  const day = new Date(Date.UTC(y, m - 1, d));
  const sunday = new Date(day.getTime() - day.getUTCDay() * 86400000);
  const first = Date.UTC(sunday.getUTCFullYear(), 0, 1);
  const yday = Math.round((sunday.getTime() - first) / 86400000);
  const week = Math.floor((yday + 7) / 7); // %U of a Sunday
  return `${sunday.getUTCFullYear()}${pad(week)}`;
}

// The key of the bucket running now in `zone`: its figures are so far, not final.
export function currentBucket(period, zone, now = new Date()) {
  try {
    return bucketKey(period, wallParts(zone, now));
  } catch {
    return null;
  }
}

// A ratio or average over nothing (its divisor's metrics sum to 0 in that bucket) has no
// value: null, drawn as a gap. `data` is one report item's data ({metric: {bucket: v}}).
export function valueAt(view, metric, data, bucket) {
  const value = data[metric]?.[bucket];
  const of = view.metrics[metric]?.of;
  if (of && of.every((m) => data[m] !== undefined)) {
    if (of.reduce((sum, m) => sum + (data[m][bucket] || 0), 0) === 0) return null;
  }
  return value ?? 0;
}

// Why a bucket has no value, in words: "No calls in this hour".
export function gapReason(view, metric, period) {
  const none = view.metrics[metric]?.none || "no data";
  return `${none[0].toUpperCase()}${none.slice(1)} in this ${PERIOD_NOUN[period] || "bucket"}`;
}
