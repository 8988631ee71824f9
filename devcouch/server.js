#!/usr/bin/env node
'use strict';
/*
 * devcouch: an in-memory stand-in that speaks enough of the CouchDB 3.x HTTP
 * protocol for qubicle-reports' tests and demo, where no Docker engine (and
 * so no real CouchDB) is available.
 *
 * It mounts express-pouchdb (the engine behind pouchdb-server) over PouchDB
 * with the in-memory adapter and corrects, in the wrappers below, the points
 * where stock pouchdb-server differs from CouchDB 3.x. Each correction names
 * the item of the project spec COUCH_FACTS.md ("Stock pouchdb-server is NOT
 * CouchDB-compatible enough out of the box", items 1-7) that it fixes.
 *
 * Nothing is written to disk: express-pouchdb runs in its
 * "minimumForPouchDB" mode (no config.json, no log.txt: fact 7) and the
 * memory adapter keeps every database in this process.
 *
 * Usage:
 *   node server.js [--port 5984 (0: any free port)] [--host 127.0.0.1]
 *                  [--user admin] [--password admin]
 *                  [--reader-user U --reader-password P] [--exit-with-stdin]
 * When ready it prints exactly one line to stdout: DEVCOUCH_LISTENING <port>
 */

const Module = require('module');
const { parseArgs } = require('util');
const express = require('express');

// ---------------------------------------------------------------------------
// Fact 1: database names lose their slashes.
// express-pouchdb passes every database name through lib/clean-filename.js
// (sanitize-filename), which strips "/" so that a name can be a file name.
// The memory adapter never turns a name into a file name, so the sanitiser is
// replaced by a pass-through before express-pouchdb loads it. Names are
// validated the CouchDB way instead (see PUT /:db below). Internal names are
// then exactly CouchDB's unencoded names ("account/4f/e2/...-202403"), which
// is what express-pouchdb's own name comparisons and _all_dbs expect.
// ---------------------------------------------------------------------------
const cleanFilenamePath = require.resolve('express-pouchdb/lib/clean-filename');
const passThrough = new Module(cleanFilenamePath);
passThrough.filename = cleanFilenamePath;
passThrough.loaded = true;
passThrough.exports = (name) => name;
require.cache[cleanFilenamePath] = passThrough;

const expressPouchDB = require('express-pouchdb');
const utils = require('express-pouchdb/lib/utils');
const { getOrCreateDB } = require('express-pouchdb/lib/create-or-delete-dbs');
const PouchDB = require('pouchdb-core')
  .plugin(require('pouchdb-adapter-memory'))
  .plugin(require('pouchdb-mapreduce'));

const VERSION = '3.4.3-devcouch';
// CouchDB's rule for database names (chttpd_db / couch_db:validate_dbname),
// which lets through its system databases too.
const DB_NAME_RE = /^[a-z][a-z0-9_$()+/-]*$/;
const SYSTEM_DBS = new Set(['_users', '_replicator', '_global_changes']);
const validDbName = (name) => DB_NAME_RE.test(name) || SYSTEM_DBS.has(name);

function sendJSON(res, status, body) {
  utils.sendJSON(res, status, body);
}

// ---------------------------------------------------------------------------
// Fact 2: JSON replies come as text/plain unless Accept asks for JSON.
// CouchDB 2+ always answers application/json. Every JSON reply of
// express-pouchdb goes through utils.sendJSON (buffered replies) or
// utils.setJsonOrPlaintext (streamed _changes), so both are replaced.
//
// Fact 5: document ETags are a body hash, not "<rev>".
// A 200 reply to GET/HEAD whose body is an object with a top-level _rev is a
// document (views, _all_docs and db info have no top-level _rev), so it gets
// CouchDB's ETag "<rev>". aiocouch reads the rev of a HEAD reply from it.
// express keeps an ETag that is already set, and answers 304 on a matching
// If-None-Match, as CouchDB does.
// ---------------------------------------------------------------------------
utils.setJsonOrPlaintext = (res) => {
  res.setHeader('Content-Type', 'application/json');
};
utils.sendJSON = (res, status, body) => {
  res.status(status);
  res.setHeader('Content-Type', 'application/json');
  const method = res.req.method;
  if (status === 200 && (method === 'GET' || method === 'HEAD') &&
      body && typeof body === 'object' && !Array.isArray(body) &&
      typeof body._rev === 'string') {
    res.setHeader('ETag', '"' + body._rev + '"');
  }
  res.send(Buffer.from(JSON.stringify(body) + '\n', 'utf8'));
};

// ---------------------------------------------------------------------------
// GET/DELETE of a missing database: CouchDB 3 answers
// 404 {"error":"not_found","reason":"Database does not exist."}
// (express-pouchdb says "no_db_file"). express-pouchdb resolves the database
// of every /:db/... request in utils.setDBOnReq; this is that function minus
// its leveldb-only workaround that mkdir's a directory for names with "/"
// (fact 7: write nothing to disk) and with CouchDB's 404 reason.
// ---------------------------------------------------------------------------
const NO_DB = { error: 'not_found', reason: 'Database does not exist.' };

utils.setDBOnReq = (dbName, dbWrapper, req, res, next) => {
  req.PouchDB.allDbs()
    .then((dbs) => {
      if (!dbs.includes(dbName)) {
        return sendJSON(res, 404, NO_DB);
      }
      return getOrCreateDB(req.PouchDB, dbName)
        .then((db) => dbWrapper.wrap(dbName, db).then(() => {
          req.db = db;
          next();
        }));
    })
    .catch((err) => utils.sendError(res, err));
};

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------
const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '5984' },
    host: { type: 'string', default: '127.0.0.1' },
    user: { type: 'string', default: 'admin' },
    password: { type: 'string', default: 'admin' },
    'reader-user': { type: 'string' },
    'reader-password': { type: 'string' },
    // CouchDB 3.4's [chttpd_auth_lockout]: threshold failures per (address, user), counted
    // for lifetime ms from the first; 0 turns it off
    'lockout-threshold': { type: 'string', default: '5' },
    'lockout-lifetime-ms': { type: 'string', default: '300000' },
    // Exit when stdin closes: a parent that holds our stdin open (app/devcouch.py)
    // can die without leaving an orphaned server behind.
    'exit-with-stdin': { type: 'boolean', default: false },
  },
});

// ---------------------------------------------------------------------------
// Fact 4 (an anonymous PUT /db crashes it once an admin exists) and the
// project's need for an admin and a read-only user.
// Authentication is HTTP Basic only. Every request except GET / and an
// anonymous GET /_session needs credentials; wrong credentials are always 401.
// The admin may do everything. The reader behaves like a CouchDB member of
// every database whose writes a validate_doc_update rejects: it may read
// (GET/HEAD) and run read-only POST queries; other writes get 403 forbidden,
// and creating/deleting a database 401, as CouchDB answers a non-admin.
// ---------------------------------------------------------------------------
const users = new Map([[args.user, { password: args.password, roles: ['_admin'] }]]);
if (args['reader-user']) {
  if (args['reader-user'] === args.user) {
    throw new Error('--reader-user must differ from --user');
  }
  users.set(args['reader-user'], { password: args['reader-password'] || '', roles: [] });
}

// Read-only POSTs: queries that CouchDB serves to any member.
const READ_POST_RE =
  /^\/[^/]+\/(_all_docs|_bulk_get|_changes|_design\/[^/]+\/_view\/[^/]+)(\/queries)?\/?$/;

function parseBasicAuth(header) {
  const m = /^Basic\s+(\S+)\s*$/i.exec(header || '');
  if (!m) return null;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { name: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

// ---------------------------------------------------------------------------
// CouchDB 3.4's lockout (couch_auth_lockout.erl, mode "enforce"): failed
// authentications are counted per (client address, user name) for
// max_lifetime ms from the FIRST failure (a success does not reset the count);
// once threshold failures are counted, every request of that user from that
// address is refused 403 with CouchDB's reason, right password or not, until
// the count expires. Nothing else is counted (a 401 for want of a role is
// an answer to credentials that were accepted).
// ---------------------------------------------------------------------------
const LOCKOUT_THRESHOLD = Number(args['lockout-threshold']);
const LOCKOUT_LIFETIME_MS = Number(args['lockout-lifetime-ms']);
const LOCKOUT_REASON =
  'Account is temporarily locked due to multiple authentication failures';
const failedLogins = new Map(); // "address\u0000user" -> {count, first}

function failures(key) {
  const entry = failedLogins.get(key);
  if (entry && Date.now() - entry.first >= LOCKOUT_LIFETIME_MS) {
    failedLogins.delete(key);
    return null;
  }
  return entry || null;
}

function authenticate(req, res, next) {
  const header = req.headers.authorization;
  if (header) {
    const creds = parseBasicAuth(header);
    const user = creds && users.get(creds.name);
    const key = `${req.socket.remoteAddress}\u0000${creds ? creds.name : ''}`;
    const counted = LOCKOUT_THRESHOLD > 0 ? failures(key) : null;
    if (counted && counted.count >= LOCKOUT_THRESHOLD) {
      return sendJSON(res, 403, { error: 'forbidden', reason: LOCKOUT_REASON });
    }
    if (!user || user.password !== creds.password) {
      if (LOCKOUT_THRESHOLD > 0) {
        if (counted) counted.count += 1;
        else failedLogins.set(key, { count: 1, first: Date.now() });
      }
      return sendJSON(res, 401, {
        error: 'unauthorized', reason: 'Name or password is incorrect.',
      });
    }
    req.userCtx = { name: creds.name, roles: user.roles };
    return next();
  }
  req.userCtx = { name: null, roles: [] };
  if (req.method === 'GET' && req.path === '/_session') {
    return next();
  }
  return sendJSON(res, 401, { error: 'unauthorized', reason: 'Authentication required.' });
}

function authorize(req, res, next) {
  if (req.userCtx.roles.includes('_admin')) return next();
  if (req.method === 'GET' || req.method === 'HEAD') return next();
  if (req.method === 'POST' && READ_POST_RE.test(req.path)) return next();
  // req.path is still percent-encoded, so "/<db>" has exactly one "/".
  if ((req.method === 'PUT' || req.method === 'DELETE') && /^\/[^/]+\/?$/.test(req.path)) {
    return sendJSON(res, 401, { error: 'unauthorized', reason: 'You are not a server admin.' });
  }
  return sendJSON(res, 403, {
    error: 'forbidden', reason: 'devcouch: user ' + req.userCtx.name + ' is read-only.',
  });
}

// ---------------------------------------------------------------------------
// Fact 6: a non-JSON startkey or a repeated key parameter gives 200, not 400.
// express-pouchdb JSON-parses every query parameter and silently keeps the
// raw string when that fails; express's query parser turns a repeated
// parameter into an array. CouchDB answers 400 bad_request for both.
// ---------------------------------------------------------------------------
const JSON_PARAMS = ['key', 'keys', 'startkey', 'start_key', 'endkey', 'end_key'];

function checkJsonParams(req, res, next) {
  for (const name of JSON_PARAMS) {
    const value = req.query[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') {
      return sendJSON(res, 400, {
        error: 'bad_request',
        reason: `Query parameter \`${name}\` must be given once, as a JSON value.`,
      });
    }
    try {
      JSON.parse(value);
    } catch (e) {
      return sendJSON(res, 400, {
        error: 'bad_request', reason: `Query parameter \`${name}\` is not valid JSON.`,
      });
    }
  }
  return next();
}

// ---------------------------------------------------------------------------
// Index builds. CouchDB answers GET /{db}/_design/{ddoc}/_info with the
// index's update_seq and whether its updater runs, and GET /_active_tasks
// (server admins only) with an "indexer" task per build and its progress.
// express-pouchdb has only stubs for both. PouchDB builds a view when it is
// queried and emits "indexing" events ({last_seq}) from the source database
// while it does, so each view query in flight is a build whose progress is
// the last seq indexed against the database's update_seq when it began; a
// view that answered is indexed up to that update_seq. A design doc's index
// is as far as its least indexed view among those queried so far (CouchDB
// builds a ddoc's views together on the first query; PouchDB builds each view
// on its own first query, so a view never queried has no index to report).
// ---------------------------------------------------------------------------
const builds = new Map(); // db name -> Set of builds in flight
const indexed = new Map(); // "db\u0000ddoc\u0000view" -> update_seq indexed up to

function done(set, build) {
  set.delete(build);
  indexed.set(build.key, Math.max(indexed.get(build.key) || 0, build.total));
}

function watchIndexing(dbName, db) {
  if (db.__devcouchWatched) return;
  db.__devcouchWatched = true;
  db.on('indexing', (progress) => {
    if (typeof progress.last_seq !== 'number') return;
    const set = builds.get(dbName) || new Set();
    for (const build of set) {
      build.seq = Math.max(build.seq, Math.min(progress.last_seq, build.total));
      build.updated = Math.floor(Date.now() / 1000);
      if (build.seq >= build.total) done(set, build); // also when its client gave up
    }
  });
}

function trackViewQuery(req, res, next) {
  const dbName = req.params.db;
  MemPouchDB.allDbs().then((dbs) => {
    if (!dbs.includes(dbName)) return next();
    return getOrCreateDB(MemPouchDB, dbName).then((db) => Promise.all([
      db.info(), db.get('_design/' + req.params.ddoc).catch(() => null),
    ]).then(([info, doc]) => {
      if (!doc) return next();
      watchIndexing(dbName, db);
      // a changed design doc is a new index (CouchDB: a new signature)
      const key = [dbName, req.params.ddoc, doc._rev, req.params.view].join('\u0000');
      const now = Math.floor(Date.now() / 1000);
      const build = {
        key, ddoc: req.params.ddoc, rev: doc._rev, view: req.params.view, total: info.update_seq,
        seq: indexed.get(key) || 0, started: now, updated: now,
      };
      if (!builds.has(dbName)) builds.set(dbName, new Set());
      builds.get(dbName).add(build);
      // the build goes on when the client gives up ('close' before 'finish')
      res.on('finish', () => {
        if (res.statusCode === 200) done(builds.get(dbName), build);
        else builds.get(dbName).delete(build);
      });
      return next();
    }));
  }).catch(next);
}

function building(dbName, ddoc, rev) {
  return [...(builds.get(dbName) || [])].filter(
    (b) => b.ddoc === ddoc && b.rev === rev && b.seq < b.total);
}

function ddocInfo(req, res, next) {
  const { db: dbName, ddoc } = req.params;
  MemPouchDB.allDbs().then((dbs) => {
    if (!dbs.includes(dbName)) return sendJSON(res, 404, NO_DB);
    return getOrCreateDB(MemPouchDB, dbName).then((db) => db.get('_design/' + ddoc).then(
      (doc) => {
        const running = building(dbName, ddoc, doc._rev);
        // views never queried are left out: PouchDB builds each on its first query
        const seqs = Object.keys(doc.views || {}).flatMap((view) => {
          const key = [dbName, ddoc, doc._rev, view].join('\u0000');
          const live = running.filter((b) => b.view === view).map((b) => b.seq);
          return indexed.has(key) || live.length ? [Math.max(indexed.get(key) || 0, ...live)] : [];
        });
        sendJSON(res, 200, {
          name: ddoc,
          view_index: {
            updates_pending: { minimum: 0, preferred: 0, total: 0 },
            waiting_commit: false,
            waiting_clients: running.length,
            updater_running: running.length > 0,
            update_seq: seqs.length ? Math.min(...seqs) : 0,
            sizes: { file: 0, external: 0, active: 0 },
            signature: doc._rev,
            purge_seq: 0,
            language: doc.language || 'javascript',
            compact_running: false,
          },
        });
      },
      () => sendJSON(res, 404, { error: 'not_found', reason: 'missing' })));
  }).catch(next);
}

function activeTasks(req, res) {
  if (!req.userCtx.roles.includes('_admin')) {
    return sendJSON(res, 401, { error: 'unauthorized', reason: 'You are not a server admin.' });
  }
  const tasks = [];
  for (const [dbName, set] of builds) {
    for (const b of set) {
      if (b.seq >= b.total) continue;
      tasks.push({
        node: 'devcouch@127.0.0.1',
        pid: '<0.0.0>',
        type: 'indexer',
        database: dbName,
        design_document: '_design/' + b.ddoc,
        changes_done: b.seq,
        total_changes: b.total,
        progress: b.total ? Math.floor((b.seq * 100) / b.total) : 0,
        started_on: b.started,
        updated_on: b.updated,
      });
    }
  }
  return sendJSON(res, 200, tasks);
}


// ---------------------------------------------------------------------------
// GET /_db_updates (server admins only): CouchDB's feed of database events,
// {"db_name", "type": "created"|"updated"|"deleted", "seq"}. express-pouchdb
// has none. Every database created, deleted or written through this server
// is an event with a growing seq ("<n>-devcouch": opaque, like a cluster's);
// since=<seq>|now, feed=normal|longpoll|continuous, timeout and heartbeat
// (ms) as on CouchDB. As on CouchDB 3.4.3 (measured), the feed is the
// changes of the _global_changes database, which holds one document per
// (type, database): a database's later event of a type replaces its earlier
// one, and without a _global_changes database the feed answers 404. The
// latest MAX_DB_UPDATES events are kept (a since older than those gets all
// that are kept, as CouchDB gives all for an unknown seq). Events are
// visible at once here; CouchDB writes them up to ~0.5 s late.
// ---------------------------------------------------------------------------
const MAX_DB_UPDATES = 10000;
const GLOBAL_CHANGES = '_global_changes';
const dbUpdates = []; // {db_name, type, seq: number}
let dbUpdateSeq = 0;
const dbUpdateWaiters = new Set();

function dbUpdated(dbName, type) {
  dbUpdateSeq += 1;
  const earlier = dbUpdates.findIndex((e) => e.db_name === dbName && e.type === type);
  if (earlier >= 0) dbUpdates.splice(earlier, 1);
  dbUpdates.push({ db_name: dbName, type, seq: dbUpdateSeq });
  if (dbUpdates.length > MAX_DB_UPDATES) dbUpdates.shift();
  for (const wake of [...dbUpdateWaiters]) wake();
}

// A seq names the server that made it ("<n>-devcouch-<epoch>", opaque like a
// cluster's): a since from another server process, e.g. before a restart,
// cannot be resumed, as a cluster that lost the node a seq names answers
// 412 {"error": "nodedown", "reason": "progress not possible"}.
const EPOCH = Math.random().toString(36).slice(2, 10);

function seqOut(n) {
  return `${n}-devcouch-${EPOCH}`;
}

function recordDbUpdates(req, res, next) {
  const parts = req.path.split('/').filter(Boolean);
  if (!parts.length || parts[0].startsWith('_') || req.method === 'GET' || req.method === 'HEAD') {
    return next();
  }
  const dbName = decodeURIComponent(parts[0]);
  const isDbOnly = parts.length === 1;
  const readPost = req.method === 'POST' && READ_POST_RE.test(req.path);
  res.on('finish', () => {
    if (res.statusCode >= 300 || readPost) return;
    if (isDbOnly && req.method === 'PUT') dbUpdated(dbName, 'created');
    else if (isDbOnly && req.method === 'DELETE') dbUpdated(dbName, 'deleted');
    else dbUpdated(dbName, 'updated');
  });
  return next();
}

function dbUpdatesFeed(req, res) {
  if (!req.userCtx.roles.includes('_admin')) {
    return sendJSON(res, 401, { error: 'unauthorized', reason: 'You are not a server admin.' });
  }
  return MemPouchDB.allDbs().then((dbs) => {
    if (!dbs.includes(GLOBAL_CHANGES)) return sendJSON(res, 404, NO_DB);
    return dbUpdatesAnswer(req, res);
  }, (err) => sendJSON(res, 500, { error: 'unknown_error', reason: String(err) }));
}

function dbUpdatesAnswer(req, res) {
  const feed = req.query.feed || 'normal';
  if (!['normal', 'longpoll', 'continuous', 'eventsource'].includes(feed)) {
    return sendJSON(res, 400, { error: 'bad_request', reason: `Invalid feed: ${feed}` });
  }
  const rawSince = String(req.query.since || '0');
  const parts = rawSince.split('-');
  if (parts.length === 3 && parts[1] === 'devcouch' && parts[2] !== EPOCH) {
    return sendJSON(res, 412, { error: 'nodedown', reason: 'progress not possible' });
  }
  let since = rawSince === 'now' ? dbUpdateSeq : parseInt(parts[0], 10);
  if (!Number.isFinite(since)) {
    return sendJSON(res, 400, {
      error: 'bad_request', reason: "Malformed sequence supplied in 'since' parameter.",
    });
  }
  const timeout = Math.max(0, parseInt(req.query.timeout || '60000', 10) || 60000);
  const hb = req.query.heartbeat === 'true' ? 60000 : parseInt(req.query.heartbeat || '0', 10);
  const after = () => dbUpdates.filter((e) => e.seq > since)
    .map((e) => ({ db_name: e.db_name, type: e.type, seq: seqOut(e.seq) }));
  if (feed === 'normal') {
    return sendJSON(res, 200, { results: after(), last_seq: seqOut(dbUpdateSeq) });
  }
  res.writeHead(200, { 'Content-Type': 'application/json' });
  let closed = false;
  const timers = [];
  const finish = (body) => {
    if (closed) return;
    closed = true;
    dbUpdateWaiters.delete(wake); // eslint-disable-line no-use-before-define
    timers.forEach(clearInterval);
    res.end(body);
  };
  const wake = () => {
    const events = after();
    if (!events.length) return;
    if (feed === 'longpoll') {
      finish(JSON.stringify({ results: events, last_seq: seqOut(dbUpdateSeq) }) + '\n');
      return;
    }
    for (const e of events) res.write(JSON.stringify(e) + '\n');
    since = dbUpdateSeq;
  };
  const end = () => (feed === 'longpoll'
    ? finish(JSON.stringify({ results: [], last_seq: seqOut(dbUpdateSeq) }) + '\n')
    : finish(JSON.stringify({ last_seq: seqOut(dbUpdateSeq) }) + '\n'));
  res.on('close', () => finish());
  dbUpdateWaiters.add(wake);
  timers.push(setTimeout(end, timeout));
  if (hb > 0) timers.push(setInterval(() => res.write('\n'), hb));
  wake();
  return undefined;
}

let MemPouchDB;

async function main() {
  MemPouchDB = PouchDB.defaults({ adapter: 'memory' });
  const pouchApp = expressPouchDB({ mode: 'minimumForPouchDB' });
  // Installs pouchdb-all-dbs and express-pouchdb's wrappers on MemPouchDB.
  await pouchApp.setPouchDB(MemPouchDB);

  pouchApp.disable('x-powered-by');

  const app = express();
  app.disable('x-powered-by');

  // GET / answers without credentials, as on CouchDB.
  app.get('/', (req, res) => {
    sendJSON(res, 200, {
      couchdb: 'Welcome',
      version: VERSION,
      git_sha: 'devcouch',
      features: [],
      vendor: { name: 'qubicle-reports devcouch (express-pouchdb, in-memory)' },
    });
  });

  app.use(authenticate);

  // Answered here, with the real user (express-pouchdb's stub always says
  // anonymous admin); aiocouch's check_credentials() calls it.
  app.get('/_session', (req, res) => {
    sendJSON(res, 200, {
      ok: true,
      userCtx: req.userCtx,
      info: { authentication_handlers: ['default'], authenticated: 'default' },
    });
  });

  // PUT /_node/_local/_config/admins/<name> "<password>": CouchDB's way to set a server
  // admin's password at run time (answers the old value; here "" for a new admin).
  app.put('/_node/:node/_config/admins/:name', express.text({ type: '*/*' }), (req, res) => {
    if (!req.userCtx.roles.includes('_admin')) {
      return sendJSON(res, 401, { error: 'unauthorized', reason: 'You are not a server admin.' });
    }
    let password;
    try {
      password = JSON.parse(req.body);
    } catch (e) {
      password = undefined;
    }
    if (typeof password !== 'string') {
      return sendJSON(res, 400, { error: 'bad_request', reason: 'the value must be a string' });
    }
    const known = users.get(req.params.name);
    users.set(req.params.name, { password, roles: ['_admin'] });
    return sendJSON(res, 200, known ? '-hashed-' : '');
  });
  app.use(authorize);
  app.use(checkJsonParams);
  app.get('/_db_updates', dbUpdatesFeed);
  app.use(recordDbUpdates);

  // PUT /db: CouchDB's name check (names are no longer sanitised, fact 1)
  // and CouchDB's 412 reply for an existing database.
  app.put('/:db', (req, res, next) => {
    const name = req.params.db;
    if (!validDbName(name)) {
      return sendJSON(res, 400, {
        error: 'illegal_database_name',
        reason: `Name: '${name}'. Only lowercase characters (a-z), digits (0-9), ` +
          'and any of the characters _, $, (, ), +, -, and / are allowed. ' +
          'Must begin with a letter.',
      });
    }
    return MemPouchDB.allDbs().then((dbs) => {
      if (dbs.includes(name)) {
        return sendJSON(res, 412, {
          error: 'file_exists',
          reason: 'The database could not be created, the file already exists.',
        });
      }
      return next();
    }, next);
  });

  // DELETE of a missing database: express-pouchdb answers 200 (destroying a
  // memory database that never existed succeeds); CouchDB answers 404.
  app.delete('/:db', (req, res, next) => {
    MemPouchDB.allDbs().then((dbs) => {
      if (!dbs.includes(req.params.db)) return sendJSON(res, 404, NO_DB);
      return next();
    }, next);
  });

  // Fact 3: on PUT /db/{id} the _id in the body wins over the id in the URL.
  // The body is parsed here with express-pouchdb's own parser (which then
  // sees it parsed and skips), and the URL's id is written into it. Only
  // document paths: /db/id, /db/_design/name, /db/_local/name (longer paths
  // are attachments).
  app.put(['/:db/:id', '/:db/:prefix(_design|_local)/:id'], utils.jsonParser,
    (req, res, next) => {
      const doc = req.body;
      if (doc && typeof doc === 'object' && !Array.isArray(doc)) {
        doc._id = req.params.prefix ? `${req.params.prefix}/${req.params.id}` : req.params.id;
      }
      next();
    });

  // POST /{db}/_view_cleanup: express-pouchdb's route never answers; CouchDB deletes the
  // index files no design doc uses any more and answers 202 {"ok": true}.
  app.post('/:db/_view_cleanup', (req, res) => {
    const name = req.params.db;
    return MemPouchDB.allDbs().then((dbs) => {
      if (!dbs.includes(name)) return sendJSON(res, 404, NO_DB);
      return new MemPouchDB(name).viewCleanup()
        .then(() => sendJSON(res, 202, { ok: true }));
    }).catch((err) => sendJSON(res, 500, { error: 'unknown_error', reason: String(err) }));
  });

  // Index builds, as CouchDB shows them: GET /{db}/_design/{ddoc}/_info and
  // GET /_active_tasks (see "Index builds" below).
  app.use('/:db/_design/:ddoc/_view/:view', trackViewQuery);
  app.get('/:db/_design/:ddoc/_info', ddocInfo);
  app.get('/_active_tasks', activeTasks);

  app.use(pouchApp);

  // Anything that escaped express-pouchdb's own error handling.
  app.use((err, req, res, next) => { // eslint-disable-line no-unused-vars
    sendJSON(res, err.status || 500, {
      error: err.name || 'unknown_error', reason: err.message || String(err),
    });
  });

  const server = app.listen(Number(args.port), args.host, () => {
    process.stdout.write(`DEVCOUCH_LISTENING ${server.address().port}\n`);
  });
  server.on('error', (err) => {
    process.stderr.write(`devcouch: cannot listen: ${err.message}\n`);
    process.exit(1);
  });
  const stop = () => {
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (args['exit-with-stdin']) {
    process.stdin.on('end', stop);
    process.stdin.resume();
  }
}

main().catch((err) => {
  process.stderr.write(`devcouch: ${err.stack || err}\n`);
  process.exit(1);
});
