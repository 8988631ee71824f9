// The dashboard: sign in, read the controls, ask the API, draw what it answered.
//
// Performance marks (read by the browser test): "qr:api-start" before the first request,
// "qr:api-end" when the last answer is parsed, "qr:drawn" once tiles, table and charts are
// drawn (Chart.js draws synchronously with animation off), "qr:frame" at the next frame;
// measures "qr:api" (the API calls), "qr:page" (the page's own work after them) and
// "qr:shown" (until the frame that shows it).

import { ApiError, fetchCsv, fetchNames, fetchReport, reportRequest, session } from "./api.js";
import { currentBucket, gapReason, valueAt } from "./buckets.js";
import { drillable } from "./chart-drill.js";
import { VIEWS } from "./catalogue.js";
import { drawLine, drawOutcomes, drawRanked, nextFrame } from "./charts.js";
import { showDay } from "./day.js";
import { openFor, pick } from "./drill.js";
import { bucketLabel } from "./format.js";
import { setUpPanel } from "./panel.js";
import { splitTotals } from "./report-items.js";
import * as S from "./state.js";
import { renderTalkNote, talkElsewhere } from "./talk-note.js";
import { legend } from "./timeline.js";
import { el, renderPicker, renderTable, renderTiles, saveFile, showScrollCue } from "./view.js";

const $ = (id) => document.getElementById(id);
const NAME_BATCH = 200;

let state = S.fromHash(location.hash);
const names = new Map(); // id -> display name ("" when KAZOO has none)
const known = { queues: new Set(), recipients: new Set() }; // ids seen in unfiltered reports
let shown = null; // {s, report, talk}: what the page currently shows
let controller = null;
let loads = 0; // reports drawn, and failed: the browser test waits on these counters
let failures = 0;

// -- sign in ------------------------------------------------------------------------------

function showSignIn(message) {
  $("dashboard").hidden = true;
  $("who").hidden = true;
  $("sign-in").hidden = false;
  $("account").value = state.account || session.account;
  const error = $("sign-in-error");
  error.hidden = !message;
  error.textContent = message || "";
  ($("token").value ? $("account") : $("token")).focus();
}

function showDashboard() {
  $("sign-in").hidden = true;
  $("dashboard").hidden = false;
  $("who").hidden = false;
  $("who-account").textContent = state.account;
}

$("sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = $("token").value.trim();
  const account = $("account").value.trim();
  session.save(token, account);
  $("token").value = "";
  if (account !== state.account) forgetAccount();
  state.account = account;
  showDashboard();
  load();
});

$("sign-out").addEventListener("click", () => {
  session.clear();
  showSignIn("");
});

// -- controls -----------------------------------------------------------------------------

function option(value, label) {
  return el("option", { value: String(value), text: label });
}

function setUpControls() {
  $("preset").replaceChildren(...Object.entries(S.PRESETS).map(([k, v]) => option(k, v)));
  $("threshold").replaceChildren(...S.THRESHOLDS.map((t) => option(t, `${t} s`)));
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  $("zones").replaceChildren(...["UTC", ...zones].map((z) => el("option", { value: z })));

  const form = $("controls");
  form.addEventListener("submit", (e) => e.preventDefault());
  form.addEventListener("change", (event) => {
    const t = event.target;
    if (t.closest(".picker")) return; // the pickers say themselves
    const s = S.resolve(state);
    switch (t.name) {
      case "report":
        Object.assign(state, { report: t.value, ids: [], sort: "", line: "" });
        break;
      case "preset":
        state.preset = t.value;
        if (t.value === "custom") Object.assign(state, { start: s.start, end: s.end });
        state.period = "";
        break;
      case "start":
      case "end":
        if (!t.value) return;
        Object.assign(state, { preset: "custom", start: s.start, end: s.end, period: "" });
        state[t.name] = t.value;
        break;
      case "period":
        state.period = t.value;
        break;
      case "tz":
        if (!t.value.trim()) return;
        state.tz = t.value.trim();
        break;
      case "threshold":
        state.threshold = Number(t.value);
        break;
      default:
        return;
    }
    load();
  });
  for (const button of form.querySelectorAll("[data-clear]")) {
    button.addEventListener("click", () => {
      state[button.dataset.clear] = [];
      load();
    });
  }
  $("csv").addEventListener("click", downloadCsv);
  $("line").addEventListener("change", (event) => {
    state.line = event.target.value; // what the line shows: no new request
    writeHash();
    if (shown) render(shown.s, shown.report, shown.talk);
  });
  $("timeline-day").addEventListener("change", (event) => {
    state.day = event.target.value; // the day is in the link: no new report
    writeHash();
    if (shown?.s.report !== "agent_states") return;
    shown.s = { ...shown.s, day: state.day };
    showDay(shown.s, shown.report, dayContext());
  });
  showScrollCue($("table").parentElement);
  setUpPanel();
  $("timeline-legend").replaceChildren(legend());
}

function writeControls(s) {
  const view = VIEWS[s.report];
  for (const radio of document.querySelectorAll("input[name=report]")) {
    radio.checked = radio.value === s.report;
  }
  $("preset").value = s.preset;
  $("start").value = s.start;
  $("end").value = s.end;
  $("period").value = s.period;
  $("tz").value = s.tz;
  $("threshold").value = String(s.threshold);
  $("threshold-control").hidden = s.report !== "queues";
  $("queues-picker").hidden = s.report !== "recipients";
  $("line").replaceChildren(...view.lines.map((m) => option(m, view.metrics[m].label)));
  $("line").value = view.lines.includes(s.line) ? s.line : view.lines[0];
  $("table-title").textContent = `By ${view.noun}`;
  const range = s.preset === "custom" ? `${s.start} – ${s.end}` : S.PRESETS[s.preset];
  $("settings-summary").textContent = `${view.title || view.nouns} · ${range} · ${s.period} · ${s.tz}`;
  $("ranked-title").textContent = view.rankTitle;
  $("outcomes-title").textContent = view.outcomesTitle;
  $("timeline-card").hidden = s.report !== "agent_states";

  const entries = (ids) => [...ids].map((id) => ({ id, name: nameOf(id) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const own = new Set([...known[view.entities], ...s.ids]);
  renderPicker($("ids-list"), entries(own), s.ids, (ids) => { state.ids = ids; load(); });
  $("ids-summary").textContent = s.ids.length
    ? `${s.ids.length} of ${own.size} ${view.nouns.toLowerCase()}` : `All ${view.nouns.toLowerCase()}`;
  const queues = new Set([...known.queues, ...s.queue_ids]);
  renderPicker($("queues-list"), entries(queues), s.queue_ids, (ids) => { state.queue_ids = ids; load(); });
  $("queues-summary").textContent = s.queue_ids.length
    ? `Offers from ${s.queue_ids.length} of ${queues.size} queues` : "Offers from all queues";
}

function writeHash() {
  const hash = S.toHash(state);
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

window.addEventListener("hashchange", () => {
  if (location.hash === S.toHash(state)) return;
  const before = state.account;
  state = S.fromHash(location.hash);
  if (!state.account) state.account = session.account;
  if (state.account !== before) forgetAccount();
  load();
});

function forgetAccount() {
  names.clear();
  known.queues.clear();
  known.recipients.clear();
}

function nameOf(id) {
  return names.get(id) || id;
}

// -- loading ------------------------------------------------------------------------------

function busy(text) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("loading", Boolean(text));
  $("results").setAttribute("aria-busy", text ? "true" : "false");
}

function showError(message) {
  $("error").hidden = !message;
  $("error").textContent = message || "";
}

// Names of the ids the API may be asked about, a batch at a time: a batch that fails costs
// only its own names (its ids show as ids), never the others'.
async function learnNames(ids, signal) {
  const wanted = [...new Set(ids)]
    .filter((id) => !names.has(id) && id !== "total" && S.ID_RE.test(id));
  let failure = null;
  for (let i = 0; i < wanted.length; i += NAME_BATCH) {
    const batch = wanted.slice(i, i + NAME_BATCH);
    let found;
    try {
      found = await fetchNames(state.account, batch, signal);
    } catch (e) {
      if (e.name === "AbortError" || e.status === 401) throw e;
      failure = e;
      continue;
    }
    for (const id of batch) {
      names.set(id, found.queues[id] || found.recipients[id] || "");
    }
  }
  if (failure) throw failure;
}

// Queue ids for the agents view's queue picker, from a small queues report of the range.
async function learnQueues(s, signal) {
  const data = {
    report: "queues", start_date: s.start, end_date: s.end, period: "monthly",
    timezone: s.tz, metrics: ["call_count"],
  };
  const report = await fetchReport(state.account, data, signal);
  for (const item of report.report) known.queues.add(item.id);
}

async function load() {
  if (!session.token) {
    showSignIn("");
    return;
  }
  const s = S.resolve(state);
  writeHash();
  writeControls(s);
  showError("");
  controller?.abort();
  controller = new AbortController();
  const { signal } = controller;
  const view = VIEWS[s.report];
  busy(`Loading the ${view.noun} report…`);
  performance.clearMarks();
  performance.clearMeasures();
  performance.mark("qr:api-start");
  try {
    const needQueues = s.report === "recipients" && known.queues.size === 0;
    const kind = view.entities; // agents' time reports on the same users as the agents view
    const [report, , talk] = await Promise.all([
      fetchReport(state.account, reportRequest(s), signal),
      needQueues ? learnQueues(s, signal) : null,
      talkElsewhere(state.account, s, signal),
    ]);
    const ids = splitTotals(report.report).entities.map((item) => item.id);
    if (!s.ids.length) for (const id of ids) known[kind].add(id);
    busy("Loading names…");
    try {
      await learnNames([...ids, ...s.ids, ...known.queues, ...s.queue_ids], signal);
    } catch (e) {
      if (e.name === "AbortError" || e.status === 401) throw e;
      // names are a nicety: without them the page shows ids
    }
    if (signal.aborted) return; // a newer load has begun: it draws, not this one
    performance.mark("qr:api-end");
    render(s, report, talk);
    writeControls(s);
    performance.mark("qr:drawn");
    await nextFrame();
    if (signal.aborted) return;
    performance.mark("qr:frame");
    const api = performance.measure("qr:api", "qr:api-start", "qr:api-end");
    const page = performance.measure("qr:page", "qr:api-end", "qr:drawn");
    performance.measure("qr:shown", "qr:api-end", "qr:frame");
    busy("");
    $("status").textContent = `Updated ${new Date().toLocaleTimeString()} · API ${Math.round(api.duration)} ms · page ${Math.round(page.duration)} ms`;
    document.body.dataset.loaded = String(++loads);
    if (s.report === "agent_states") showDay(s, report, dayContext());
  } catch (e) {
    if (e.name === "AbortError") return;
    busy("");
    const message = e instanceof ApiError ? e.message : `Something went wrong: ${e.message}`;
    if (e.status === 401) {
      session.clear();
      showSignIn(`${message}. Sign in again.`);
      return;
    }
    if (e.status === 403 || e.body?.message === "bad_identifier") {
      showSignIn(`${message}. Check the account id.`); // this token may not read that account
      return;
    }
    showError(message);
    document.body.dataset.failed = String(++failures);
  }
}

// -- drawing ------------------------------------------------------------------------------

function render(s, report, talk = null) {
  shown = { s, report, talk };
  const view = VIEWS[s.report];
  const { totalItem, entities } = splitTotals(report.report);
  const first = Object.values(totalItem.data)[0] || {};
  const buckets = Object.keys(first).filter((k) => k !== "total");
  const partial = buckets.indexOf(currentBucket(s.period, s.tz));
  const labels = buckets.map((k, i) => bucketLabel(k, s.period) + (i === partial ? " (so far)" : ""));
  const totalsOf = (data) => Object.fromEntries(Object.entries(data).map(([m, v]) => [m, v.total]));
  const totals = totalsOf(totalItem.data);
  for (const [m, derive] of Object.entries(view.derived || {})) totals[m] = derive(totals);
  const ctx = { account: state.account, nameOf, onError: authFailed };
  const open = (metric, entity, bucket, opener) => openFor(s, report, totals,
    { metric, entity, bucket }, opener, ctx);

  renderTiles($("tiles"), view, totals, s.threshold, open);
  renderTalkNote($("talk-note"), s, report, talk);
  const empty = entities.length === 0 || !totals[view.tiles[0]];
  $("empty").hidden = !empty;
  $("results").hidden = empty;
  if (empty) return;

  const series = (m) => buckets.map((b) => valueAt(view, m, totalItem.data, b));
  const outcomes = drawOutcomes(labels, view.outcomes.map(([m, color]) => (
    { label: view.metrics[m].label, color, data: series(m) })), view.outcomesKind,
  view.outcomesTitle, { partial, empty: gapReason(view, view.lines[0], s.period) });
  drillable(outcomes, { pick: (d, i) => pick(s, totalItem.data, view.outcomes[d]?.[0], "total",
    buckets[i], labels[i], open) });
  const line = view.lines.includes(state.line) ? state.line : view.lines[0];
  const lineChart = drawLine(labels, {
    label: lineLabel(view, line, s), kind: view.metrics[line].kind, data: series(line),
    gap: gapReason(view, line, s.period), partial,
  });
  drillable(lineChart, { mode: "index", datasets: 1,
    pick: (d, i) => pick(s, totalItem.data, line, "total", buckets[i], labels[i], open) });
  $("partial-note").hidden = partial < 0;
  $("partial-note").textContent = partial < 0 ? "" : `${labels[partial].replace(" (so far)", "")}`
    + ` is still running: its bar is lighter and its figures are so far, not final.`;

  const rows = entities.map((item) => ({
    id: item.id,
    name: nameOf(item.id),
    totals: totalsOf(item.data),
    trend: buckets.map((b) => valueAt(view, view.trend, item.data, b)),
    data: item.data,
  }));
  const ranked = [...rows].sort((a, b) => (b.totals[view.rankBy] ?? 0) - (a.totals[view.rankBy] ?? 0));
  const rankedChart = drawRanked(ranked.map((r) => r.name), {
    label: view.metrics[view.rankBy].label,
    kind: view.metrics[view.rankBy].kind,
    data: ranked.map((r) => r.totals[view.rankBy] ?? 0),
  });
  drillable(rankedChart, { pick: (d, i) => ranked[i] && pick(s, ranked[i].data, view.rankBy,
    ranked[i].id, "total", ranked[i].name, open) });
  renderTable($("table"), view, rows, totals, state.sort, (sort) => {
    state.sort = sort;
    writeHash();
    render(s, report, talk);
    document.querySelector(`#table button[data-sort="${sort.split(":")[0]}"]`)?.focus();
  }, open, partial);
}

function dayContext() {
  return { account: state.account, nameOf, learnNames, onError: authFailed };
}

function authFailed(e) {
  if (e.status !== 401) return;
  $("records").close();
  session.clear();
  showSignIn(`${e.message}. Sign in again.`);
}

function lineLabel(view, metric, s) {
  const label = view.metrics[metric].label;
  return metric === "service_level" ? `${label} (≤ ${s.threshold} s)` : label;
}

async function downloadCsv() {
  if (!shown) return;
  const button = $("csv");
  button.disabled = true;
  busy("Preparing CSV…");
  try {
    const { blob, filename } = await fetchCsv(state.account, reportRequest(shown.s));
    saveFile(blob, filename);
    busy("");
  } catch (e) {
    busy("");
    if (e.status === 401) {
      session.clear();
      showSignIn(`${e.message}. Sign in again.`);
    } else {
      showError(e.message);
    }
  } finally {
    button.disabled = false;
  }
}

// -- start --------------------------------------------------------------------------------

setUpControls();
// a phone starts with the settings folded, so the numbers come first
if (window.matchMedia("(max-width: 600px)").matches) $("settings").open = false;
if (!state.account) state.account = session.account;
if (session.token && state.account) {
  showDashboard();
  load();
} else {
  showSignIn("");
}
