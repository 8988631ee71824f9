function (doc) {
  // One row per ACDC status_stat event (CONTRACT.md 7a), read in key order by the
  // agent_states report (app/report/agent_states.py): key [agent_id, timestamp, code], no
  // value. The code is the status's place in name order, so one agent's events at the same
  // second sort as CONTRACT.md 7b orders them (the later name holds). pending_logged_out is
  // set aside (7b), so it is not emitted; nor is anything from a document that is not a
  // well-formed, live status_stat whose every id, timestamp and duration is sane (2c).
  var CODES = {connected: 0, connecting: 1, logged_in: 2, logged_out: 3, outbound: 4,
               paused: 5, ready: 6, wrapup: 7};
  if (!isObject(doc) || doc.pvt_type !== 'status_stat' || doc.pvt_deleted === true) return;
  var agent = doc.agent_id, at = doc.timestamp, status = doc.status;
  if (!isId(agent) || !isTimestamp(at)) return;
  if (!absentOr(doc.queue_id, isId) || !absentOr(doc.wait_time, isNumber)) return;
  if (!absentOr(doc.pause_time, isNumber)) return;
  if (status === 'pending_logged_out' || typeof status !== 'string') return;
  if (!CODES.hasOwnProperty(status)) return;
  emit([agent, at, CODES[status]], null);
}
