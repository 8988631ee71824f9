function (doc) {
  // !code lib/session.js
  // Key [recipient_id, "YYYYMMDD", hour, quarter] (UTC) of the offer.
  var s = qubicleSession(doc);
  if (!s) return;
  emitOffers(s, function (o, t) { return [o.recipient_id, t.day, t.hour, t.quarter]; });
}
