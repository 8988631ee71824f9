// Shared by every map function of this design document; the assembler inlines it where a
// map.js says `// !code lib/session.js` (the couchapp macro), because CouchDB and
// PouchDB do not share code between map functions the same way.
//
// A document is a well-formed qubicle_session (CONTRACT.md section 2) or it is skipped,
// whole: a bad document must never throw in the indexer, and must be counted nowhere.

var GREGORIAN_OFFSET = 62167219200; // KAZOO Gregorian seconds - Unix seconds
var MAX_UNIX = 253402300799; // 9999-12-31T23:59:59Z: keeps day keys 8 digits long

function isNumber(v) {
  return typeof v === 'number' && isFinite(v) && v >= 0;
}

function isId(v) {
  return typeof v === 'string' && v.length > 0;
}

function isTimestamp(v) {
  if (typeof v !== 'number' || Math.floor(v) !== v) return false;
  var unix = v - GREGORIAN_OFFSET;
  return unix >= 0 && unix <= MAX_UNIX;
}

function pad(n, width) {
  var s = String(n);
  while (s.length < width) s = '0' + s;
  return s;
}

// UTC slot of a Gregorian timestamp: day "YYYYMMDD", hour 0-23, quarter of the hour 0-3.
function slot(gregorian) {
  var d = new Date((gregorian - GREGORIAN_OFFSET) * 1000);
  return {
    day: pad(d.getUTCFullYear(), 4) + pad(d.getUTCMonth() + 1, 2) + pad(d.getUTCDate(), 2),
    hour: d.getUTCHours(),
    quarter: Math.floor(d.getUTCMinutes() / 15)
  };
}

var VISIT_RESULTS = {answered: true, abandoned: true, timeout: true};
var OFFER_RESULTS = {answered: true, missed: true, rejected: true};

function validOffer(o) {
  return o !== null && typeof o === 'object' && !Array.isArray(o) &&
    isId(o.recipient_id) && isTimestamp(o.offered_timestamp) &&
    typeof o.result === 'string' && OFFER_RESULTS.hasOwnProperty(o.result) &&
    isNumber(o.ring_time) && isNumber(o.call_duration);
}

// The document when it is a well-formed, live qubicle_session, else null.
function qubicleSession(doc) {
  if (doc === null || typeof doc !== 'object') return null;
  if (doc.pvt_type !== 'qubicle_session' || doc.pvt_deleted === true) return null;
  if (!isId(doc.queue_id) || !isTimestamp(doc.entered_timestamp)) return null;
  if (typeof doc.result !== 'string' || !VISIT_RESULTS.hasOwnProperty(doc.result)) return null;
  if (!isNumber(doc.wait_time)) return null;
  var offers = doc.offers === undefined ? [] : doc.offers;
  if (!Array.isArray(offers)) return null;
  for (var i = 0; i < offers.length; i++) {
    if (!validOffer(offers[i])) return null;
  }
  return doc;
}

// [count, wait_time, timeouts, abandons]: summed element-wise by the builtin _sum.
function visitValue(s) {
  return [1, s.wait_time, s.result === 'timeout' ? 1 : 0, s.result === 'abandoned' ? 1 : 0];
}

// [answered, missed, rejected, talk seconds of answered, ring seconds of answered].
function offerValue(o) {
  var answered = o.result === 'answered';
  return [
    answered ? 1 : 0,
    o.result === 'missed' ? 1 : 0,
    o.result === 'rejected' ? 1 : 0,
    answered ? o.call_duration : 0,
    answered ? o.ring_time : 0
  ];
}

// emit(keyOf(offer, slot of the offer, session), offerValue(offer)) for every offer.
function emitOffers(s, keyOf) {
  var offers = s.offers || [];
  for (var i = 0; i < offers.length; i++) {
    var o = offers[i];
    emit(keyOf(o, slot(o.offered_timestamp), s), offerValue(o));
  }
}
