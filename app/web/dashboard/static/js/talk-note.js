// Why the two agents' views can differ in talk time (CONTRACT 2b and 7): a note with both
// figures, where both views have talk in the range.

import { fetchReport } from "./api.js";
import { time } from "./format.js";
import { splitTotals } from "./report-items.js";

// The talk time the other agents' view counts over the same range and agents: the Agents
// view counts offers (Qubicle sessions and ACDC call stats), Agents' time ACDC status
// events only. Null where it does not apply or could not be read (it is a note, no more).
export async function talkElsewhere(account, s, signal) {
  if (s.report === "queues" || (s.report === "recipients" && s.queue_ids.length)) return null;
  const other = s.report === "recipients" ? "agent_states" : "recipients";
  const metric = other === "agent_states" ? "talk_time" : "total_call_duration";
  const data = {
    report: other, start_date: s.start, end_date: s.end, period: "monthly", timezone: s.tz,
    metrics: [metric], totals: true, ...(s.ids.length ? { identifiers: s.ids } : {}),
  };
  try {
    const answer = await fetchReport(account, data, signal);
    const { totalItem } = splitTotals(answer.report);
    return { report: other, seconds: totalItem.data[metric]?.total ?? 0 };
  } catch (e) {
    if (e.name === "AbortError" || e.status === 401) throw e;
    return null;
  }
}

// Say so near the talk figures where both views have talk time in the range.
export function renderTalkNote(note, s, report, talk) {
  const { totalItem } = splitTotals(report.report);
  const here = s.report === "recipients" ? totalItem.data.total_call_duration?.total
    : totalItem.data.talk_time?.total;
  note.hidden = !talk || !talk.seconds || !here;
  if (note.hidden) return;
  const [offers, statuses] = s.report === "recipients" ? [here, talk.seconds] : [talk.seconds, here];
  note.textContent = `Talk time differs between the two agents' views: the Agents view counts `
    + `offers, from Qubicle sessions and ACDC call stats (${time(offers)} in this range); `
    + `the Agents' time view counts talking from ACDC status events only `
    + `(${time(statuses)}). Calls of Qubicle sessions have no status events, and ACDC `
    + `records a call's talk time and an agent's state changes apart, so the two can differ.`;
}
