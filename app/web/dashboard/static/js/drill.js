// From a number on the page to the panel of its records: what a chart's element stands
// for, and the panel's request, title and words for one number of the report shown.

import { gapReason, valueAt } from "./buckets.js";
import { VIEWS } from "./catalogue.js";
import { bucketLabel, KIND_FORMAT } from "./format.js";
import { openRecords } from "./panel.js";
import { describeRecords, hasRecords, recordRequest } from "./records.js";
import { splitTotals } from "./report-items.js";

// What a chart's bar or point stands for: its words for the keyboard, and how to open it
// (none for a gap: nothing to list).
export function pick(s, data, metric, entity, bucket, label, open) {
  const view = VIEWS[s.report];
  if (!metric || bucket === undefined || !hasRecords(s.report, metric)) return null;
  const value = bucket === "total" ? data[metric]?.total : valueAt(view, metric, data, bucket);
  const text = `${view.metrics[metric].label}, ${label}: `
    + (value === null ? gapReason(view, metric, s.period) : formatted(view, metric, value));
  return { text, open: value === null ? null : (opener) => open(metric, entity, bucket, opener) };
}

function formatted(view, metric, value) {
  return value === undefined ? "—" : KIND_FORMAT[view.metrics[metric].kind](value);
}

// Open the records panel on the records behind one number of the report shown.
// ctx: {account, nameOf, onError}.
export function openFor(s, report, totals, target, opener, { account, nameOf, onError }) {
  const view = VIEWS[s.report];
  const { totalItem, entities } = splitTotals(report.report);
  const item = target.entity === "total" ? totalItem : entities.find((e) => e.id === target.entity);
  let value = item?.data[target.metric]?.[target.bucket];
  if (value === undefined && target.entity === "total" && target.bucket === "total") {
    value = totals[target.metric]; // a share worked out here
  }
  const who = target.entity === "total"
    ? (s.ids.length ? `${s.ids.length} ${view.nouns.toLowerCase()}` : `all ${view.nouns.toLowerCase()}`)
    : nameOf(target.entity);
  const when = target.bucket === "total" ? `${s.start} – ${s.end}` : bucketLabel(target.bucket, s.period);
  const label = target.metric === "service_level"
    ? `Service level (≤ ${s.threshold} s)` : view.metrics[target.metric].label;
  openRecords({
    account,
    data: recordRequest(s, target),
    title: `${label} · ${who} · ${when}`,
    what: `${formatted(view, target.metric, value)}: the ${describeRecords(s, target.metric)}`
      + ` (times in ${s.tz})`,
    opener,
    nameOf,
    onError,
  });
}
