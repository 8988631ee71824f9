function (doc) {
  // Key [queue_id, "YYYYMMDD", hour, quarter] (UTC the visit entered), value visitValue:
  // UTC daily, weekly and monthly reports read it at group_level 2 (as cheap as a
  // [queue, day] view: README), hourly at 3, local days of any zone whose offset is a
  // multiple of 15 minutes at 4; published metrics and KPIs alike.
  var v = visitOf(doc);
  if (!v) return;
  var t = slot(v.entered);
  emit([v.queue, t.day, t.hour, t.quarter], visitValue(v));
}
