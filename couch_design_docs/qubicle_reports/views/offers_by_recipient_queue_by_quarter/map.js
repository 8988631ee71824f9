function (doc) {
  // !code lib/session.js
  // Key [[recipient_id, queue_id], "YYYYMMDD", hour, quarter] (UTC).
  var s = qubicleSession(doc);
  if (!s) return;
  emitOffers(s, function (o, t) {
    return [[o.recipient_id, s.queue_id], t.day, t.hour, t.quarter];
  });
}
