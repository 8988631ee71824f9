// The records panel: a modal dialog listing the records behind one number, a page at a
// time (Load more follows next_start_key), with their CSV. Esc or Close shuts it and focus
// goes back to what opened it. Test hooks: the dialog's data-pages counts pages drawn,
// each row carries its record as JSON in data-row.

import { fetchCsv, fetchRecords } from "./api.js";
import { recordColumns } from "./record-rows.js";
import { el, saveFile, showScrollCue } from "./view.js";

const PAGE_SIZE = 50;
const $ = (id) => document.getElementById(id);
let current = null; // {account, data, next, count, opener, controller, columns, onError}
let scrollCue = () => {}; // on a phone: says the table has more to the right

function dialog() {
  return $("records");
}

export function setUpPanel() {
  const d = dialog();
  scrollCue = showScrollCue($("records-table").parentElement);
  $("records-close").addEventListener("click", () => d.close());
  $("records-more").addEventListener("click", () => loadPage());
  $("records-csv").addEventListener("click", downloadCsv);
  d.addEventListener("close", () => {
    current?.controller.abort();
    const opener = current?.opener;
    current = null;
    if (opener?.isConnected) opener.focus();
  });
  // a click on the backdrop (outside the dialog's box) closes it too
  d.addEventListener("click", (event) => {
    if (event.target !== d) return;
    const r = d.getBoundingClientRect();
    const inside = event.clientX >= r.left && event.clientX <= r.right
      && event.clientY >= r.top && event.clientY <= r.bottom;
    if (!inside) d.close();
  });
}

// Open the panel on the records of `data` (a record report request without paging).
export function openRecords({ account, data, title, what, opener, nameOf, onError }) {
  const d = dialog();
  if (d.open) d.close();
  const columns = recordColumns(data, nameOf);
  current = {
    account, data, next: null, count: 0, opener, columns, onError,
    controller: new AbortController(),
  };
  $("records-title").textContent = title;
  $("records-what").textContent = what;
  $("records-table").tHead.rows[0].replaceChildren(
    ...columns.map((c) => el("th", { scope: "col", class: c.num ? "num" : "", text: c.label })));
  $("records-table").tBodies[0].replaceChildren();
  $("records-error").hidden = true;
  $("records-more").hidden = true;
  d.dataset.pages = "0";
  d.showModal();
  $("records-close").focus();
  loadPage();
}

async function loadPage() {
  const c = current;
  if (!c) return;
  const more = $("records-more");
  more.disabled = true;
  setCount(c, true);
  const page = { ...c.data, page_size: PAGE_SIZE, ...(c.next ? { start_key: c.next } : {}) };
  try {
    const { rows, next } = await fetchRecords(c.account, page, c.controller.signal);
    if (current !== c) return;
    $("records-table").tBodies[0].append(...rows.map((row) => el("tr",
      { "data-row": JSON.stringify(row) },
      ...c.columns.map((col) => el("td", { class: col.num ? "num" : "", text: col.text(row) })))));
    scrollCue();
    c.count += rows.length;
    c.next = next;
    more.hidden = !next;
    setCount(c, false);
    const d = dialog();
    d.dataset.pages = String(Number(d.dataset.pages) + 1);
    if (more.hidden && document.activeElement === more) $("records-csv").focus();
  } catch (e) {
    if (e.name === "AbortError" || current !== c) return;
    setCount(c, false);
    $("records-error").hidden = false;
    $("records-error").textContent = e.message;
    c.onError?.(e);
  } finally {
    more.disabled = false;
  }
}

function setCount(c, loading) {
  const n = c.count === 1 ? "1 record" : `${c.count.toLocaleString("en-US")} records`;
  let text = c.next ? `${n} shown, more to load` : `${n}, all shown`;
  if (loading) text = c.count ? `${n} shown, loading more…` : "Loading records…";
  $("records-count").textContent = text;
  $("records-count").classList.toggle("loading", loading);
}

async function downloadCsv() {
  const c = current;
  if (!c) return;
  const button = $("records-csv");
  button.disabled = true;
  try {
    const { blob, filename } = await fetchCsv(c.account, c.data);
    saveFile(blob, filename);
  } catch (e) {
    $("records-error").hidden = false;
    $("records-error").textContent = e.message;
    c.onError?.(e);
  } finally {
    button.disabled = false;
  }
}
