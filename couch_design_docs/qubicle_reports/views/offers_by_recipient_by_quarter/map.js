function (doc) {
  // Key [recipient_id, "YYYYMMDD", hour, quarter] (UTC) of the offer.
  var v = visitOf(doc);
  if (v) emitOffers(v, function (o, t) { return [o.recipient, t.day, t.hour, t.quarter]; });
}
