function (doc) {
  // !code lib/session.js
  // Key [[recipient_id, queue_id], "YYYYMMDD", hour, quarter] (UTC).
  var s = qubicleSession(doc);
  if (!s) return;
  var offers = s.offers || [];
  for (var i = 0; i < offers.length; i++) {
    var o = offers[i];
    var t = slot(o.offered_timestamp);
    emit([[o.recipient_id, s.queue_id], t.day, t.hour, t.quarter], offerValue(o));
  }
}
