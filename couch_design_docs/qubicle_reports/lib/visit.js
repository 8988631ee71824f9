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

// [visits, wait seconds, timeouts, abandons]: the published queue metrics.
function visitValue(v) {
  return [1, v.wait, v.result === 'timeout' ? 1 : 0, v.result === 'abandoned' ? 1 : 0];
}

// visitValue + [answered, wait of answered, wait of abandoned, answered within each
// THRESHOLDS[i] seconds...]: what only the KPIs need, in views the published metrics
// never read.
function visitKpis(v) {
  var answered = v.result === 'answered';
  var value = visitValue(v);
  value.push(answered ? 1 : 0, answered ? v.wait : 0, v.result === 'abandoned' ? v.wait : 0);
  for (var i = 0; i < THRESHOLDS.length; i++) {
    value.push(answered && v.wait <= THRESHOLDS[i] ? 1 : 0);
  }
  return value;
}

// [answered, missed, rejected, talk seconds of answered, ring seconds of answered,
//  answered offers that have a ring time]: ACDC records no ring time, so its answered
// offers add to neither the ring sum nor its divisor.
function offerValue(o) {
  var answered = o.result === 'answered';
  var rung = answered && o.ring !== null;
  return [
    answered ? 1 : 0,
    o.result === 'missed' ? 1 : 0,
    o.result === 'rejected' ? 1 : 0,
    answered ? o.talk : 0,
    rung ? o.ring : 0,
    rung ? 1 : 0
  ];
}

// emit(keyOf(offer, UTC slot of the offer, visit), offerValue(offer)) for every offer.
function emitOffers(v, keyOf) {
  for (var i = 0; i < v.offers.length; i++) {
    var o = v.offers[i];
    emit(keyOf(o, slot(o.at), v), offerValue(o));
  }
}
