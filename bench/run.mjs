#!/usr/bin/env node
// `make bench`: drives the release tracker-host, the native baseline and the seed
// baseline with the same 300-course library and the same wrk load, one server at a
// time, and writes target/bench/results.json and target/bench/report.md.
//
// Environment:
//   BENCH_SECONDS   measured seconds per scenario (default 8; warm-up is 1 s more)
//   BENCH_PG_SECONDS  the same for host-pg and host-pg-x3 (default 5: keeps the run short)
//   BENCH_QUICK=1   2 s per scenario, 1 cold/warm start each: for developing the bench
//   BENCH_SERVERS   comma list of servers to run
//                   (default host,host-pg,host-pg-x3,spin,native,seed)
//   PG_BIN          PostgreSQL server binaries (default /usr/lib/postgresql/15/bin);
//                   without them host-pg and host-pg-x3 are reported as skipped
//   SPIN            the spin binary (else `spin` on PATH, else target/tools/spin from
//                   `make tools`); without one the spin server is reported as skipped
//   BENCH_OUT       output directory (default target/bench)
//   BENCH_HOST_LOG  RUST_LOG for the host (default: unset, the host's own default)
//   BENCH_MANIFEST  manifest the host serves (default spin.toml)
//   BENCH_SKIP      parts to leave out: coldstart,hotswap
// `node bench/run.mjs --render` only rewrites report.md from the last results.json.
import { mkdirSync, rmSync, writeFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { delimiter } from 'node:path';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { loadCourses, COURSE_COUNT } from './lib/dataset.mjs';
import { request, json, sendJson, closeIdle } from './lib/http.mjs';
import { startServer, freePort, resetPeakRss, peakRssKib, rssKib } from './lib/servers.mjs';
import { runWrk, runWrkSplit } from './lib/wrk.mjs';
import { startPostgres, postgresMissing, PG_BIN } from './lib/postgres.mjs';
import { lostUpdates } from './lib/lost-updates.mjs';
import { coldStart } from './lib/coldstart.mjs';
import { hotSwap } from './lib/hotswap.mjs';
import { readCriterion } from './lib/criterion.mjs';
import { renderReport, figures } from './lib/report.mjs';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const QUICK = process.env.BENCH_QUICK === '1';
const SECONDS = Number(process.env.BENCH_SECONDS ?? (QUICK ? 2 : 8));
// PostgreSQL mode: two more servers of 8 scenarios each; 5 s measured keeps the
// whole run within about 3 minutes more than without them.
const PG_SECONDS = Number(process.env.BENCH_PG_SECONDS ?? (QUICK ? 2 : 5));
const WARMUP_SECONDS = 1;
const OUT = resolve(ROOT, process.env.BENCH_OUT ?? 'target/bench');
const SERVERS = (process.env.BENCH_SERVERS ?? 'host,host-pg,host-pg-x3,spin,native,seed').split(',').map((s) => s.trim()).filter(Boolean);
const FIXTURE = process.env.BENCH_FIXTURE ?? resolve(ROOT, 'tests/fixtures/udemy_course_list.csv');
const HOST_BIN = process.env.TRACKER_HOST_BIN ?? join(ROOT, 'target/release/tracker-host');
const NATIVE_BIN = process.env.NATIVE_BASELINE_BIN ?? join(ROOT, 'target/release/native-baseline');
const SPIN_BIN = findSpin();

function spinVersion() {
  try { return execFileSync(SPIN_BIN, ['--version']).toString().trim(); } catch { return SPIN_BIN; }
}

/** Spin as the tests find it: $SPIN, else `spin` on PATH, else target/tools/spin. */
function findSpin() {
  const isFile = (p) => { try { return statSync(p).isFile(); } catch { return false; } };
  if (process.env.SPIN) return isFile(process.env.SPIN) ? resolve(process.env.SPIN) : null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isFile(join(dir, 'spin'))) return join(dir, 'spin');
  }
  const tools = join(ROOT, 'target/tools/spin');
  return isFile(tools) ? tools : null;
}
// The host runs with its own default log filter (a line per request at info), as
// shipped; BENCH_HOST_LOG sets RUST_LOG for it instead.
const HOST_LOG = process.env.BENCH_HOST_LOG ?? '';
// Parts to leave out, comma separated: coldstart, hotswap.
const SKIP = new Set((process.env.BENCH_SKIP ?? '').split(',').map((x) => x.trim()));
// Another manifest for the host (experiments, e.g. a component built differently).
const MANIFEST = resolve(ROOT, process.env.BENCH_MANIFEST ?? 'spin.toml');

// The load: readers as in wasmtime's own measurements here (16 connections on 2
// wrk threads); writers one connection per wrk thread, so the seed's GET+POST
// pairs stay on one connection.
const READ_LOAD = { threads: 2, connections: 16 };
const WRITERS = 8;
const WRITE_LOAD = { threads: WRITERS, connections: WRITERS };

const WORK = join(OUT, 'work');
// The tracker-host in PostgreSQL mode (`database_url` set), and how many replicas
// share its database. Each run gets a database of its own on the bench's server.
const PG_REPLICAS = { 'host-pg': 1, 'host-pg-x3': 3 };
const isPg = (name) => name in PG_REPLICAS;
const log = (...a) => console.log('[bench]', ...a);

/** The scenarios, in run order (writes last: they move the revision). */
const SCENARIOS = [
  { key: 'health', label: '`GET /health`', group: 'small',
    servers: ['host', 'host-pg', 'host-pg-x3', 'spin', 'seed'], load: READ_LOAD,
    prepare: () => ({ path: '/health', expect: 200 }) },
  { key: 'setting', label: '`GET /api/settings/monthly_goal`', group: 'small',
    servers: ['host', 'host-pg', 'host-pg-x3', 'spin', 'native', 'seed'], load: READ_LOAD,
    prepare: () => ({ path: '/api/settings/monthly_goal', expect: 200 }) },
  { key: 'poll_changes', label: 'idle sync poll: `GET /api/changes?since=<latest>`', group: 'poll',
    servers: ['host', 'host-pg', 'host-pg-x3', 'spin', 'native'], load: READ_LOAD,
    prepare: (ctx) => ({ path: `/api/changes?since=${ctx.latestRev}`, expect: 200 }) },
  { key: 'poll_etag', label: 'idle sync poll: `GET /api/courses` + matching `If-None-Match`', group: 'poll',
    servers: ['host', 'host-pg', 'host-pg-x3', 'spin', 'native', 'seed'], load: READ_LOAD,
    prepare: (ctx) => ({ path: '/api/courses', headers: [['If-None-Match', ctx.etag]], expect: 304 }) },
  { key: 'get_courses', label: `\`GET /api/courses\` (${COURSE_COUNT} courses)`, group: 'read',
    servers: ['host', 'host-pg', 'host-pg-x3', 'spin', 'native', 'seed'], load: READ_LOAD,
    prepare: () => ({ path: '/api/courses', expect: 200 }) },
  { key: 'index_html', label: '`GET /` (index.html), `Accept-Encoding: br`', group: 'static',
    servers: ['host', 'host-pg', 'host-pg-x3', 'spin', 'seed'], load: READ_LOAD,
    prepare: () => ({ path: '/', headers: [['Accept-Encoding', 'br']], expect: 200 }) },
  { key: 'main_js', label: 'main JS asset, `Accept-Encoding: br`', group: 'static',
    servers: ['host', 'host-pg', 'host-pg-x3', 'spin', 'seed'], load: READ_LOAD,
    prepare: (ctx) => ({ path: ctx.mainJs, headers: [['Accept-Encoding', 'br']], expect: 200, skip: ctx.mainJs ? null : 'no script in index.html' }) },
  { key: 'write', label: `progress update, ${WRITERS} concurrent writers`, group: 'write',
    servers: ['host', 'host-pg', 'host-pg-x3', 'spin', 'native', 'native_normal', 'seed'], load: WRITE_LOAD,
    prepare: (ctx) => ctx.server === 'seed'
      ? { path: '/api/courses', mode: 'rmw', expect: 200 }
      : { path: '/api/courses', mode: 'patch', expect: 200 } },
];

async function loadLibrary(url, courses) {
  const res = await sendJson(`${url}/api/courses`, 'POST', courses);
  if (res.status !== 200) throw new Error(`POST /api/courses: ${res.status} ${res.body.toString().slice(0, 300)}`);
}

/** The setting the small-read scenario reads (every server takes `{"value": "..."}`). */
async function storeSetting(url) {
  const res = await sendJson(`${url}/api/settings/monthly_goal`, 'POST', { value: '12' });
  if (res.status !== 200) throw new Error(`POST /api/settings/monthly_goal: ${res.status} ${res.body.toString().slice(0, 300)}`);
}

async function latestRev(url) {
  let since = 0;
  for (let i = 0; i < 1000; i++) {
    const res = await json(`${url}/api/changes?since=${since}`);
    if (res.status !== 200 || typeof res.json?.rev !== 'number') return null;
    since = res.json.rev;
    if (!res.json.more) return since;
  }
  return since;
}

async function mainScript(url) {
  const res = await request(`${url}/`);
  const m = res.body.toString('utf8').match(/<script[^>]+src="([^"]+\.js)"/);
  return m ? m[1] : null;
}

async function runScenario(server, sc, ctx) {
  const spec = sc.prepare({ ...ctx, server: server.name });
  if (spec.skip) return { skipped: spec.skip };
  const headers = spec.headers ?? [];
  // One request first, on every replica: the load must get the answer the scenario means.
  let probe;
  for (const base of server.urls) {
    probe = spec.mode === 'patch'
      ? await request(`${base}/api/courses/${encodeURIComponent(ctx.firstId)}`, {
        method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"completionRatio":50}' })
      : await request(base + spec.path, { headers: Object.fromEntries(headers) });
    if (probe.status !== spec.expect) {
      return { skipped: `answered ${probe.status}, expected ${spec.expect}${server.urls.length > 1 ? ` (${base})` : ''}` };
    }
  }
  const check = {
    status: probe.status,
    bytes: probe.body.length,
    contentEncoding: probe.headers['content-encoding'] ?? 'identity',
  };
  const common = { headers, mode: spec.mode ?? 'plain', idsFile: ctx.idsFile, ...sc.load };
  // Several replicas: one wrk per replica at once, the connections split (lib/wrk.mjs).
  const load = (seconds) => (server.urls.length === 1
    ? runWrk({ ...common, url: server.urls[0] + spec.path, seconds })
    : runWrkSplit({ ...common, urls: server.urls.map((u) => u + spec.path), seconds }));
  await load(WARMUP_SECONDS);
  const rssBefore = sumOf(server.pids.map(rssKib));
  const resetOk = server.pids.map(resetPeakRss).every(Boolean);
  const result = await load(server.seconds);
  // Peak RSS of several replicas: the sum of their peaks.
  return { ...result, check, peakRssKib: sumOf(server.pids.map(peakRssKib)), rssBeforeKib: rssBefore, peakIsPerScenario: resetOk };
}

const sumOf = (xs) => (xs.some((x) => x === null || x === undefined) ? null : xs.reduce((a, b) => a + b, 0));

function serverCommand(name, port, dataDir, pg) {
  switch (name) {
    case 'host':
      // No admin listener: its default port may belong to a developer's running host.
      return { command: HOST_BIN, args: ['up', '--manifest', MANIFEST, '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--admin-listen', 'off'],
        env: HOST_LOG ? { RUST_LOG: HOST_LOG } : {}, cwd: ROOT };
    case 'host-pg':
    case 'host-pg-x3':
      // The same host and manifest; the API keeps everything in PostgreSQL.
      return { command: HOST_BIN, args: ['up', '--manifest', MANIFEST, '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--admin-listen', 'off'],
        env: { SPIN_VARIABLE_DATABASE_URL: pg.databaseUrl, SPIN_VARIABLE_DATABASE_HOST: pg.hostEntry, ...(HOST_LOG ? { RUST_LOG: HOST_LOG } : {}) }, cwd: ROOT };
    case 'spin':
      // The same manifest and .wasm files; its SQLite and key-value files in the state dir.
      return { command: SPIN_BIN, args: ['up', '--from', MANIFEST, '--listen', `127.0.0.1:${port}`, '--state-dir', join(dataDir, 'state')],
        cwd: ROOT };
    case 'native':
    case 'native_normal':
      return { command: NATIVE_BIN, args: ['--listen', `127.0.0.1:${port}`, '--data-dir', dataDir,
        '--synchronous', name === 'native' ? 'full' : 'normal'], cwd: ROOT };
    case 'seed':
      return { command: process.execPath, args: [join(ROOT, 'bench/seed/server.js')],
        env: { PORT: String(port), SEED_DB: join(dataDir, 'seed.db'), SEED_STATIC_DIR: join(ROOT, 'web/dist') }, cwd: join(ROOT, 'bench/seed') };
    default:
      throw new Error(`unknown server ${name}`);
  }
}

async function benchServer(name, courses, idsFile, pg) {
  const replicas = PG_REPLICAS[name] ?? 1;
  const root = join(WORK, name);
  rmSync(root, { recursive: true, force: true });
  // PostgreSQL mode: a database of its own on the bench's server, shared by the replicas.
  const pgTarget = isPg(name) ? { databaseUrl: pg.createDatabase(name), hostEntry: pg.hostEntry } : null;
  const procs = [];
  const out = { scenarios: {} };
  try {
    for (let i = 1; i <= replicas; i++) {
      const dataDir = replicas > 1 ? join(root, `r${i}`) : root;
      mkdirSync(dataDir, { recursive: true });
      const port = await freePort();
      const label = replicas > 1 ? `${name}-${i}` : name;
      const proc = await startServer({ name: label, port, logPath: join(OUT, `${label}.log`), ...serverCommand(name, port, dataDir, pgTarget) });
      procs.push(proc);
      log(`${label}: pid ${proc.pid} on ${proc.url}, ready in ${proc.readyMs.toFixed(0)} ms`);
    }
    const server = { name, url: procs[0].url, urls: procs.map((p) => p.url), pids: procs.map((p) => p.pid), seconds: isPg(name) ? PG_SECONDS : SECONDS };
    out.startupRssKib = sumOf(server.pids.map(rssKib));
    if (replicas > 1) out.replicas = replicas;
    if (pgTarget) {
      // The figures must not come from SQLite by accident.
      for (const u of server.urls) {
        const ready = await json(`${u}/health/ready`);
        if (ready.status !== 200 || ready.json?.store !== 'postgres') {
          throw new Error(`${u}/health/ready: ${ready.status} ${ready.body.toString().slice(0, 200)} (expected store "postgres")`);
        }
      }
    }
    // Seeded through the first replica (the others share its database).
    await loadLibrary(server.url, courses);
    await storeSetting(server.url);
    const etag = (await request(`${server.url}/api/courses`)).headers.etag;
    const ctx = { idsFile, etag, firstId: courses[0].id, latestRev: await latestRev(server.url), mainJs: await mainScript(server.url) };
    const only = name === 'native_normal' ? ['write'] : null;
    for (const sc of SCENARIOS) {
      if (!sc.servers.includes(name) || (only && !only.includes(sc.key))) continue;
      const r = await runScenario(server, sc, ctx);
      out.scenarios[sc.key] = r;
      const f = figures(r);
      log(`${name} ${sc.key}: ${f ? `${f.perS.toFixed(0)}/s p50 ${(f.p50 / 1000).toFixed(2)} ms p99 ${(f.p99 / 1000).toFixed(2)} ms, peak RSS ${f.rss} KiB, errors ${f.errors}` : `skipped (${r.skipped})`}`);
    }
    if (name !== 'native_normal') {
      // With replicas, client i reads and writes through replica i mod n.
      out.lostUpdates = await lostUpdates(replicas > 1 ? server.urls : server.url, courses.map((c) => c.id), name === 'seed' ? 'seed' : 'patch');
      log(`${name} lost updates: ${out.lostUpdates.lost} of ${out.lostUpdates.expected}`);
    }
  } finally {
    closeIdle();
    const exits = await Promise.all(procs.map((p) => p.stop()));
    out.exit = replicas > 1 ? exits : exits[0];
  }
  return out;
}

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = cpuinfo.match(/^model name\s*:\s*(.*)$/m)?.[1] ?? 'unknown';
  return {
    cpuModel: model,
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    loadAverageAtStart: os.loadavg(),
    node: process.version,
  };
}

async function main() {
  mkdirSync(WORK, { recursive: true });
  // Server logs are appended to across restarts within a run, so start each run empty.
  for (const name of ['host', 'host-pg', 'host-pg-x3-1', 'host-pg-x3-2', 'host-pg-x3-3', 'postgres', 'spin', 'native', 'native_normal', 'seed', 'coldstart', 'hotswap']) {
    rmSync(join(OUT, `${name}.log`), { force: true });
  }
  const courses = loadCourses(FIXTURE);
  const idsFile = join(WORK, 'ids.txt');
  writeFileSync(idsFile, courses.map((c) => c.id).join('\n') + '\n');
  const results = {
    startedAt: new Date().toISOString(),
    machine: machine(),
    settings: { hostLog: HOST_LOG || 'host default', spin: SPIN_BIN && spinVersion(), manifest: MANIFEST, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, readLoad: READ_LOAD, writeLoad: WRITE_LOAD, courses: courses.length, quick: QUICK, pgSeconds: PG_SECONDS },
    scenarios: SCENARIOS.map(({ key, label, group, servers }) => ({ key, label, group, servers })),
    servers: {},
  };
  const order = [];
  for (const name of SERVERS) {
    order.push(name);
    if (name === 'native') order.push('native_normal');
  }
  // PostgreSQL mode: one server for the run, started before the first PostgreSQL
  // server under test and stopped after the last (and on failure or Ctrl-C).
  const pgNames = order.filter(isPg);
  let pg = null;
  let pgUnavailable = pgNames.length ? postgresMissing() : null;
  try {
    for (const name of order) {
      if (name === 'spin' && !SPIN_BIN) {
        results.servers[name] = { unavailable: 'skipped: no spin binary ($SPIN, PATH, target/tools/spin; `make tools`)' };
        log('spin: skipped (no spin binary: set SPIN, put spin on PATH or run `make tools`)');
        continue;
      }
      const bin = name === 'host' || isPg(name) ? HOST_BIN : name.startsWith('native') ? NATIVE_BIN : null;
      if (bin && !existsSync(bin)) {
        results.servers[name] = { unavailable: `${bin} is not built` };
        log(`${name}: not available (${bin} is not built)`);
        continue;
      }
      if (isPg(name) && !pg && !pgUnavailable) {
        try {
          pg = startPostgres({ port: await freePort(), logCopy: join(OUT, 'postgres.log') });
          results.postgres = { version: pg.version, bin: PG_BIN, settings: pg.settings, dataDir: pg.dataDir, seconds: PG_SECONDS };
          log(`postgres ${pg.version} on 127.0.0.1:${pg.port} (${pg.dataDir}), ${JSON.stringify(pg.settings)}`);
        } catch (e) {
          pgUnavailable = `PostgreSQL did not start: ${String(e.message ?? e).split('\n')[0]}`;
        }
      }
      if (isPg(name) && !pg) {
        results.postgres = { unavailable: pgUnavailable };
        results.servers[name] = { unavailable: `skipped: ${pgUnavailable}` };
        log(`${name}: skipped (${pgUnavailable})`);
        continue;
      }
      try {
        results.servers[name] = await benchServer(name, courses, idsFile, pg);
      } catch (e) {
        results.servers[name] = { unavailable: String(e.message ?? e).split('\n')[0] };
        log(`${name}: failed: ${e.message ?? e}`);
      }
      if (pg && name === pgNames.at(-1)) {
        pg.stop();
        pg = null;
        log('postgres stopped and removed');
      }
    }
  } finally {
    pg?.stop();
  }
  if (SERVERS.includes('host') && existsSync(HOST_BIN) && !SKIP.has('coldstart')) {
    results.coldStart = await coldStart({ root: ROOT, hostBin: HOST_BIN, work: join(WORK, 'coldstart'), logPath: join(OUT, 'coldstart.log'), repeats: QUICK ? 1 : 3 })
      .catch((e) => ({ unavailable: String(e.message ?? e).split('\n')[0] }));
    log('cold start:', JSON.stringify(results.coldStart));
  }
  if (SERVERS.includes('host') && existsSync(HOST_BIN) && !SKIP.has('hotswap')) {
    results.hotSwap = await hotSwap({ root: ROOT, hostBin: HOST_BIN, work: join(WORK, 'hotswap'), logPath: join(OUT, 'hotswap.log'), swaps: QUICK ? 2 : 5 })
      .catch((e) => ({ unavailable: String(e.message ?? e).split('\n')[0] }));
    log('hot swap:', JSON.stringify(results.hotSwap));
  }
  results.criterion = readCriterion(join(ROOT, 'target/criterion'));
  results.finishedAt = new Date().toISOString();
  results.machine.loadAverageAtEnd = os.loadavg();
  writeFileSync(join(OUT, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(OUT, 'report.md'), renderReport(results));
  log(`wrote ${join(OUT, 'report.md')}`);
}

// `--render`: rewrite report.md from the last results.json (after changing the report).
const entry = process.argv.includes('--render')
  ? async () => {
    const results = JSON.parse(readFileSync(join(OUT, 'results.json'), 'utf8'));
    writeFileSync(join(OUT, 'report.md'), renderReport(results));
    log(`wrote ${join(OUT, 'report.md')}`);
  }
  : main;

entry().catch((e) => {
  console.error(e);
  process.exit(1);
});
