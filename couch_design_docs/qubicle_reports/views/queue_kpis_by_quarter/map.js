function (doc) {
  // Key [queue_id, "YYYYMMDD", hour, quarter] (UTC); value visitKpis.
  var v = visitOf(doc);
  if (!v) return;
  var t = slot(v.entered);
  emit([v.queue, t.day, t.hour, t.quarter], visitKpis(v));
}
