// A Qubicle `qubicle_session` (CONTRACT.md section 2) as a visit record, or null when it is
// not well formed: a bad document is skipped whole and counted nowhere. Fields it is not
// counted by (`exited_timestamp`, the answering `recipient_id`) are held to section 2c too.

var SESSION_RESULTS = {answered: true, abandoned: true, timeout: true};
var OFFER_RESULTS = {answered: true, missed: true, rejected: true};

function sessionOffer(o) {
  if (!isObject(o) || !isId(o.recipient_id) || !isTimestamp(o.offered_timestamp)) return null;
  if (typeof o.result !== 'string' || !OFFER_RESULTS.hasOwnProperty(o.result)) return null;
  if (!isNumber(o.ring_time) || !isNumber(o.call_duration)) return null;
  return {
    recipient: o.recipient_id,
    at: o.offered_timestamp,
    result: o.result,
    ring: o.ring_time,
    talk: o.call_duration
  };
}

function sessionVisit(doc) {
  if (!isId(doc.queue_id) || !isTimestamp(doc.entered_timestamp)) return null;
  if (typeof doc.result !== 'string' || !SESSION_RESULTS.hasOwnProperty(doc.result)) return null;
  if (!isNumber(doc.wait_time)) return null;
  if (!absentOr(doc.exited_timestamp, isTimestamp) || !absentOr(doc.recipient_id, isId)) {
    return null;
  }
  var raw = doc.offers === undefined ? [] : doc.offers;
  if (!Array.isArray(raw)) return null;
  var offers = [];
  for (var i = 0; i < raw.length; i++) {
    var o = sessionOffer(raw[i]);
    if (o === null) return null;
    offers.push(o);
  }
  return {
    queue: doc.queue_id,
    entered: doc.entered_timestamp,
    result: doc.result,
    wait: doc.wait_time,
    offers: offers
  };
}
