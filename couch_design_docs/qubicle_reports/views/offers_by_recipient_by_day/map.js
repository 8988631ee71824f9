function (doc) {
  // !code lib/session.js
  // Key [recipient_id, "YYYYMMDD"] (UTC day of the offer).
  var s = qubicleSession(doc);
  if (!s) return;
  var offers = s.offers || [];
  for (var i = 0; i < offers.length; i++) {
    var o = offers[i];
    emit([o.recipient_id, slot(o.offered_timestamp).day], offerValue(o));
  }
}
