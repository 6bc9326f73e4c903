#!/usr/bin/env node
// `make bench`: drives the release tracker-host, the native baseline and the seed
// baseline with the same 300-course library and the same wrk load, one server at a
// time, and writes target/bench/results.json and target/bench/report.md.
//
// Environment:
//   BENCH_SECONDS   measured seconds per scenario (default 8; warm-up is 1 s more)
//   BENCH_QUICK=1   2 s per scenario, 1 cold/warm start each: for developing the bench
//   BENCH_SERVERS   comma list of servers to run (default host,spin,native,seed)
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
import { runWrk } from './lib/wrk.mjs';
import { lostUpdates } from './lib/lost-updates.mjs';
import { coldStart } from './lib/coldstart.mjs';
import { hotSwap } from './lib/hotswap.mjs';
import { readCriterion } from './lib/criterion.mjs';
import { renderReport, figures } from './lib/report.mjs';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const QUICK = process.env.BENCH_QUICK === '1';
const SECONDS = Number(process.env.BENCH_SECONDS ?? (QUICK ? 2 : 8));
const WARMUP_SECONDS = 1;
const OUT = resolve(ROOT, process.env.BENCH_OUT ?? 'target/bench');
const SERVERS = (process.env.BENCH_SERVERS ?? 'host,spin,native,seed').split(',').map((s) => s.trim()).filter(Boolean);
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
const log = (...a) => console.log('[bench]', ...a);

/** The scenarios, in run order (writes last: they move the revision). */
const SCENARIOS = [
  { key: 'health', label: '`GET /health`', group: 'small',
    servers: ['host', 'spin', 'seed'], load: READ_LOAD,
    prepare: () => ({ path: '/health', expect: 200 }) },
  { key: 'setting', label: '`GET /api/settings/monthly_goal`', group: 'small',
    servers: ['host', 'spin', 'native', 'seed'], load: READ_LOAD,
    prepare: () => ({ path: '/api/settings/monthly_goal', expect: 200 }) },
  { key: 'poll_changes', label: 'idle sync poll: `GET /api/changes?since=<latest>`', group: 'poll',
    servers: ['host', 'spin', 'native'], load: READ_LOAD,
    prepare: (ctx) => ({ path: `/api/changes?since=${ctx.latestRev}`, expect: 200 }) },
  { key: 'poll_etag', label: 'idle sync poll: `GET /api/courses` + matching `If-None-Match`', group: 'poll',
    servers: ['host', 'spin', 'native', 'seed'], load: READ_LOAD,
    prepare: (ctx) => ({ path: '/api/courses', headers: [['If-None-Match', ctx.etag]], expect: 304 }) },
  { key: 'get_courses', label: `\`GET /api/courses\` (${COURSE_COUNT} courses)`, group: 'read',
    servers: ['host', 'spin', 'native', 'seed'], load: READ_LOAD,
    prepare: () => ({ path: '/api/courses', expect: 200 }) },
  { key: 'index_html', label: '`GET /` (index.html), `Accept-Encoding: br`', group: 'static',
    servers: ['host', 'spin', 'seed'], load: READ_LOAD,
    prepare: () => ({ path: '/', headers: [['Accept-Encoding', 'br']], expect: 200 }) },
  { key: 'main_js', label: 'main JS asset, `Accept-Encoding: br`', group: 'static',
    servers: ['host', 'spin', 'seed'], load: READ_LOAD,
    prepare: (ctx) => ({ path: ctx.mainJs, headers: [['Accept-Encoding', 'br']], expect: 200, skip: ctx.mainJs ? null : 'no script in index.html' }) },
  { key: 'write', label: `progress update, ${WRITERS} concurrent writers`, group: 'write',
    servers: ['host', 'spin', 'native', 'native_normal', 'seed'], load: WRITE_LOAD,
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
  const url = server.url + spec.path;
  // One request first: the load must get the answer the scenario means.
  const probe = spec.mode === 'patch'
    ? await request(`${server.url}/api/courses/${encodeURIComponent(ctx.firstId)}`, {
      method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"completionRatio":50}' })
    : await request(url, { headers: Object.fromEntries(headers) });
  if (probe.status !== spec.expect) {
    return { skipped: `answered ${probe.status}, expected ${spec.expect}` };
  }
  const check = {
    status: probe.status,
    bytes: probe.body.length,
    contentEncoding: probe.headers['content-encoding'] ?? 'identity',
  };
  const common = { url, headers, mode: spec.mode ?? 'plain', idsFile: ctx.idsFile, ...sc.load };
  await runWrk({ ...common, seconds: WARMUP_SECONDS });
  const rssBefore = rssKib(server.pid);
  const resetOk = resetPeakRss(server.pid);
  const result = await runWrk({ ...common, seconds: SECONDS });
  return { ...result, check, peakRssKib: peakRssKib(server.pid), rssBeforeKib: rssBefore, peakIsPerScenario: resetOk };
}

function serverCommand(name, port, dataDir) {
  switch (name) {
    case 'host':
      // No admin listener: its default port may belong to a developer's running host.
      return { command: HOST_BIN, args: ['up', '--manifest', MANIFEST, '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--admin-listen', 'off'],
        env: HOST_LOG ? { RUST_LOG: HOST_LOG } : {}, cwd: ROOT };
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

async function benchServer(name, courses, idsFile) {
  const dataDir = join(WORK, name);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const server = await startServer({ name, port, logPath: join(OUT, `${name}.log`), ...serverCommand(name, port, dataDir) });
  log(`${name}: pid ${server.pid} on ${server.url}, ready in ${server.readyMs.toFixed(0)} ms`);
  const out = { scenarios: {}, startupRssKib: rssKib(server.pid) };
  try {
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
      out.lostUpdates = await lostUpdates(server.url, courses.map((c) => c.id), name === 'seed' ? 'seed' : 'patch');
      log(`${name} lost updates: ${out.lostUpdates.lost} of ${out.lostUpdates.expected}`);
    }
  } finally {
    closeIdle();
    out.exit = await server.stop();
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
  for (const name of ['host', 'spin', 'native', 'native_normal', 'seed', 'coldstart', 'hotswap']) {
    rmSync(join(OUT, `${name}.log`), { force: true });
  }
  const courses = loadCourses(FIXTURE);
  const idsFile = join(WORK, 'ids.txt');
  writeFileSync(idsFile, courses.map((c) => c.id).join('\n') + '\n');
  const results = {
    startedAt: new Date().toISOString(),
    machine: machine(),
    settings: { hostLog: HOST_LOG || 'host default', spin: SPIN_BIN && spinVersion(), manifest: MANIFEST, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, readLoad: READ_LOAD, writeLoad: WRITE_LOAD, courses: courses.length, quick: QUICK },
    scenarios: SCENARIOS.map(({ key, label, group, servers }) => ({ key, label, group, servers })),
    servers: {},
  };
  const order = [];
  for (const name of SERVERS) {
    order.push(name);
    if (name === 'native') order.push('native_normal');
  }
  for (const name of order) {
    if (name === 'spin' && !SPIN_BIN) {
      results.servers[name] = { unavailable: 'skipped: no spin binary ($SPIN, PATH, target/tools/spin; `make tools`)' };
      log('spin: skipped (no spin binary: set SPIN, put spin on PATH or run `make tools`)');
      continue;
    }
    const bin = name === 'host' ? HOST_BIN : name.startsWith('native') ? NATIVE_BIN : null;
    if (bin && !existsSync(bin)) {
      results.servers[name] = { unavailable: `${bin} is not built` };
      log(`${name}: not available (${bin} is not built)`);
      continue;
    }
    try {
      results.servers[name] = await benchServer(name, courses, idsFile);
    } catch (e) {
      results.servers[name] = { unavailable: String(e.message ?? e).split('\n')[0] };
      log(`${name}: failed: ${e.message ?? e}`);
    }
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
