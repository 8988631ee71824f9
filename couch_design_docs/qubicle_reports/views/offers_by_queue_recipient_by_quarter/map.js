function (doc) {
  // Key [queue_id, recipient_id, "YYYYMMDD", hour, quarter] (UTC).
  var v = visitOf(doc);
  if (!v) return;
  emitOffers(v, function (o, t, visit) {
    return [visit.queue, o.recipient, t.day, t.hour, t.quarter];
  });
}
