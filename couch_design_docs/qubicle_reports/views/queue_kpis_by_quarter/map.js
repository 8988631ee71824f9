function (doc) {
  // !code lib/common.js
  // !code lib/session.js
  // !code lib/call_stat.js
  // !const THRESHOLDS
  // !code lib/visit.js
  // Key [queue_id, "YYYYMMDD", hour, quarter] (UTC); value visitKpis.
  var v = visitOf(doc);
  if (!v) return;
  var t = slot(v.entered);
  emit([v.queue, t.day, t.hour, t.quarter], visitKpis(v));
}
