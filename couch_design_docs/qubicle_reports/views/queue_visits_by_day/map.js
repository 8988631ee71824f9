function (doc) {
  // !code lib/session.js
  // Key [queue_id, "YYYYMMDD"] (UTC day the visit entered): the cheap view for UTC
  // daily, weekly and monthly reports.
  var s = qubicleSession(doc);
  if (!s) return;
  emit([s.queue_id, slot(s.entered_timestamp).day], visitValue(s));
}
