function (doc) {
  // Key [queue_id, "YYYYMMDD"]; value visitKpis: read only by reports asking a KPI.
  var v = visitOf(doc);
  if (v) emit([v.queue, slot(v.entered).day], visitKpis(v));
}
