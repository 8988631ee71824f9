function (doc) {
  // !code lib/common.js
  // !code lib/session.js
  // !code lib/call_stat.js
  // !const THRESHOLDS
  // !code lib/visit.js
  // Key [queue_id, "YYYYMMDD"]; value visitKpis: read only by reports asking a KPI.
  var v = visitOf(doc);
  if (v) emit([v.queue, slot(v.entered).day], visitKpis(v));
}
