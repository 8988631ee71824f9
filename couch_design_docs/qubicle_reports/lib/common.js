// Helpers shared by every map function of this design document. The assembler inlines the
// lib files where a map.js says `// !code lib/<file>.js` (the couchapp macro), because
// CouchDB and PouchDB do not share code between map functions the same way.

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
