// The items of an aggregate report's answer. Pure.

// The totals item is the report's last (the request asks for totals): an entity called
// "total" elsewhere in the list is an entity, never taken for the totals.
export function splitTotals(items) {
  const last = items[items.length - 1];
  if (last && last.id === "total") return { totalItem: last, entities: items.slice(0, -1) };
  return { totalItem: { data: {} }, entities: items };
}
