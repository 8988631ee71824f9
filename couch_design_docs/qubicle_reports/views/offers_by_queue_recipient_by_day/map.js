function (doc) {
  // Key [queue_id, recipient_id, "YYYYMMDD"]: queue first, so a recipient report filtered
  // by queue_ids reads one key range per asked queue and nothing of the others.
  var v = visitOf(doc);
  if (v) emitOffers(v, function (o, t, visit) { return [visit.queue, o.recipient, t.day]; });
}
