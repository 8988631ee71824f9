// One record per queue visit, whichever document shape holds it, and the value vectors the
// views sum. Dispatching on pvt_type first keeps an account holding one shape from paying
// for the other.
//
// THRESHOLDS is inlined by the assembler from app.metrics.THRESHOLDS (`// !const`).

function visitOf(doc) {
  if (!isObject(doc) || doc.pvt_deleted === true) return null;
  if (doc.pvt_type === 'qubicle_session') return sessionVisit(doc);
  if (doc.pvt_type === 'call_stat') return callStatVisit(doc);
  return null;
}

// Trailing zeros dropped: CouchDB's and PouchDB's _sum add arrays of different lengths,
// counting a missing element as 0 (COUCH_FACTS.md), so a short value sums as a long one.
function trimmed(value) {
  var n = value.length;
  while (n > 0 && value[n - 1] === 0) n--;
  value.length = n;
  return value;
}

// [visits, wait seconds, timeouts, abandons, wait of answered, wait of abandoned, then one
//  wait band per THRESHOLDS[i]: 1 where an answered visit waited more than THRESHOLDS[i - 1]
//  and at most THRESHOLDS[i] seconds], trailing zeros dropped. The published metrics read
// the first four; the KPIs the rest (answered = visits - timeouts - abandons, "answered
// within T" = the bands up to T, cumulated by the service: app.report.metrics).
function visitValue(v) {
  var answered = v.result === 'answered';
  var abandoned = v.result === 'abandoned';
  var value = [1, v.wait, v.result === 'timeout' ? 1 : 0, abandoned ? 1 : 0,
               answered ? v.wait : 0, abandoned ? v.wait : 0];
  if (answered) {
    for (var i = 0; i < THRESHOLDS.length; i++) {
      var band = v.wait <= THRESHOLDS[i];
      value.push(band ? 1 : 0);
      if (band) break;
    }
  }
  return trimmed(value);
}

// [answered, talk seconds of answered, ring seconds of answered, answered offers that have
//  a ring time, missed, rejected], trailing zeros dropped: ACDC records no ring time, so its
// answered offers add to neither the ring sum nor its divisor.
function offerValue(o) {
  var answered = o.result === 'answered';
  var rung = answered && o.ring !== null;
  return trimmed([
    answered ? 1 : 0,
    answered ? o.talk : 0,
    rung ? o.ring : 0,
    rung ? 1 : 0,
    o.result === 'missed' ? 1 : 0,
    o.result === 'rejected' ? 1 : 0
  ]);
}

// emit(keyOf(offer, UTC slot of the offer, visit), offerValue(offer)) for every offer.
function emitOffers(v, keyOf) {
  for (var i = 0; i < v.offers.length; i++) {
    var o = v.offers[i];
    emit(keyOf(o, slot(o.at), v), offerValue(o));
  }
}
