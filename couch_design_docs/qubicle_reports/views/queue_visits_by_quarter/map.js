function (doc) {
  // !code lib/session.js
  // Key [queue_id, "YYYYMMDD", hour, quarter] (UTC): hourly reports (group_level 3) and
  // re-bucketing into local days of any zone whose offset is a multiple of 15 minutes.
  var s = qubicleSession(doc);
  if (!s) return;
  var t = slot(s.entered_timestamp);
  emit([s.queue_id, t.day, t.hour, t.quarter], visitValue(s));
}
