function (doc) {
  // Key [queue_id, "YYYYMMDD", hour, quarter] (UTC); value the wait, for _stats: its max
  // is max_wait, read only by reports that ask for it.
  var v = visitOf(doc);
  if (!v) return;
  var t = slot(v.entered);
  emit([v.queue, t.day, t.hour, t.quarter], v.wait);
}
