function (doc) {
  // Key [queue_id, "YYYYMMDD", hour, quarter] (UTC): hourly reports (group_level 3) and
  // re-bucketing into local days of any zone whose offset is a multiple of 15 minutes.
  var v = visitOf(doc);
  if (!v) return;
  var t = slot(v.entered);
  emit([v.queue, t.day, t.hour, t.quarter], visitValue(v));
}
