function (doc) {
  // Key [queue_id, "YYYYMMDD"]; value the wait, for _stats: its max is max_wait (and its
  // count and sum are call_count and the wait sum).
  var v = visitOf(doc);
  if (v) emit([v.queue, slot(v.entered).day], v.wait);
}
