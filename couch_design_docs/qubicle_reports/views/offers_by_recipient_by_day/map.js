function (doc) {
  // Key [recipient_id, "YYYYMMDD"] (UTC day of the offer).
  var v = visitOf(doc);
  if (v) emitOffers(v, function (o, t) { return [o.recipient, t.day]; });
}
