function (doc) {
  // Key [queue_id, "YYYYMMDD"] (UTC day the visit entered): the cheap view for UTC
  // daily, weekly and monthly reports of the published metrics.
  var v = visitOf(doc);
  if (v) emit([v.queue, slot(v.entered).day], visitValue(v));
}
