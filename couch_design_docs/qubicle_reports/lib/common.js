// Helpers shared by every map function of this design document. The assembler inlines the
// lib files where a map.js says `// !code lib/<file>.js` (the couchapp macro), because
// CouchDB and PouchDB do not share code between map functions the same way.

var GREGORIAN_OFFSET = 62167219200; // KAZOO Gregorian seconds - Unix seconds
// CONTRACT.md 2c: the values a document may hold. A document holding any other is skipped
// whole, so no sum can overflow and no key can make a read's URL too long for CouchDB.
var MAX_TIMESTAMP = 137438953472; // 2^37 Gregorian seconds
var MAX_AMOUNT = 4294967295; // 2^32 - 1: seconds of one duration, or one count
var ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.@:+-]{0,127}$/;

// A duration or count: finite, 0 to 2^32 - 1.
function isNumber(v) {
  return typeof v === 'number' && isFinite(v) && v >= 0 && v <= MAX_AMOUNT;
}

// An entity id a request may name: 1-128 of [A-Za-z0-9_.@:+-], a letter or digit first, and
// never `total` (the totals item's id).
function isId(v) {
  return typeof v === 'string' && v !== 'total' && ID_PATTERN.test(v);
}

// An integral Gregorian second from 1970 (earlier ones are Unix seconds stored by mistake) to
// 2^37.
function isTimestamp(v) {
  if (typeof v !== 'number' || Math.floor(v) !== v) return false;
  return v >= GREGORIAN_OFFSET && v <= MAX_TIMESTAMP;
}

// A field the shape may leave out: absent, or sane.
function absentOr(v, check) {
  return v === undefined || check(v);
}

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
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
