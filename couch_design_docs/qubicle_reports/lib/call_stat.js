// A KAZOO ACDC `call_stat` (CONTRACT.md section 2b, acdc_stats.erl) as the same visit record
// a qubicle_session gives, or null when it is not well formed (skipped whole).
//
// processed -> an answered visit and an answered offer to agent_id at handled_timestamp
// (talk_time; ACDC records no ring time, so `ring` is null); abandoned -> a `timeout` visit
// when abandoned_reason is member_timeout, else `abandoned`. Each miss is an offer: `rejected`
// -> rejected, `LOSE_RACE` -> nothing (another agent answered first), anything else -> missed.

var CALL_STAT_STATUSES = {processed: true, abandoned: true};

function validMiss(m) {
  return isObject(m) && isId(m.agent_id) && typeof m.reason === 'string' &&
    isTimestamp(m.timestamp);
}

// Every id, timestamp and duration a call_stat may hold, where it holds one (CONTRACT.md
// 2c), whatever its status.
function saneCallStat(doc) {
  return absentOr(doc.agent_id, isId) && absentOr(doc.handled_timestamp, isTimestamp) &&
    absentOr(doc.processed_timestamp, isTimestamp) &&
    absentOr(doc.abandoned_timestamp, isTimestamp) && absentOr(doc.talk_time, isNumber);
}

function callStatVisit(doc) {
  if (!isId(doc.queue_id) || !isTimestamp(doc.entered_timestamp)) return null;
  if (!saneCallStat(doc)) return null;
  if (typeof doc.status !== 'string' || !CALL_STAT_STATUSES.hasOwnProperty(doc.status)) {
    return null;
  }
  if (!isNumber(doc.wait_time)) return null;
  var processed = doc.status === 'processed';
  if (processed && !(isId(doc.agent_id) && isTimestamp(doc.handled_timestamp) &&
                     isNumber(doc.talk_time))) {
    return null;
  }
  var misses = doc.misses === undefined ? [] : doc.misses;
  if (!Array.isArray(misses)) return null;
  var offers = [];
  for (var i = 0; i < misses.length; i++) {
    var m = misses[i];
    if (!validMiss(m)) return null;
    if (m.reason === 'LOSE_RACE') continue;
    offers.push({
      recipient: m.agent_id,
      at: m.timestamp,
      result: m.reason === 'rejected' ? 'rejected' : 'missed',
      ring: null,
      talk: 0
    });
  }
  if (processed) {
    offers.push({
      recipient: doc.agent_id,
      at: doc.handled_timestamp,
      result: 'answered',
      ring: null,
      talk: doc.talk_time
    });
  }
  var result = processed ? 'answered'
    : doc.abandoned_reason === 'member_timeout' ? 'timeout' : 'abandoned';
  return {
    queue: doc.queue_id,
    entered: doc.entered_timestamp,
    result: result,
    wait: doc.wait_time,
    offers: offers
  };
}
