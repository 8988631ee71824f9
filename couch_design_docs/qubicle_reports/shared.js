// What every map function of this design document starts with: the assembler
// (app/couch/design_docs.py) puts these lines at the top of each map function's body, so a
// map.js carries only its own logic. Order matters: later files use the earlier ones.
// !code lib/common.js
// !code lib/session.js
// !code lib/call_stat.js
// !const THRESHOLDS
// !code lib/visit.js
