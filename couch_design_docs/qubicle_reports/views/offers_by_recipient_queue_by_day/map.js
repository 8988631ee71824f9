function (doc) {
  // !code lib/session.js
  // Key [[recipient_id, queue_id], "YYYYMMDD"]: the entity is the (recipient, queue) pair,
  // so a recipient report filtered by queue_ids reads only the pairs it needs.
  var s = qubicleSession(doc);
  if (!s) return;
  emitOffers(s, function (o, t) { return [[o.recipient_id, s.queue_id], t.day]; });
}
