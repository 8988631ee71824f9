function (doc) {
  // !code lib/session.js
  // Key [[recipient_id, queue_id], "YYYYMMDD"]: the entity is the (recipient, queue) pair,
  // so a recipient report filtered by queue_ids reads only the pairs it needs.
  var s = qubicleSession(doc);
  if (!s) return;
  var offers = s.offers || [];
  for (var i = 0; i < offers.length; i++) {
    var o = offers[i];
    emit([[o.recipient_id, s.queue_id], slot(o.offered_timestamp).day], offerValue(o));
  }
}
