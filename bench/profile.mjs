#!/usr/bin/env node
// `make bench-profile`: where the time of one `GET /api/courses` goes, host vs
// native. perf cannot count instructions on this machine's virtual CPUs
// (`perf stat -e instructions true` says <not supported>), so this runs each
// server under valgrind's callgrind, switches instrumentation on only around
// N requests, and groups the instruction counts by who executes them.
//
// Environment: PROFILE_REQUESTS (default 30), PROFILE_PATH (default /api/courses;
// `{latest}` is replaced by the current revision), PROFILE_OUT (default profile.md),
// PROFILE_MANIFEST (the host's manifest, default spin.toml), PROFILE_SWITCHES=0 (leave
// out the context-switch counts under load), PROFILE_CALLGRIND=0 (only those counts),
// PROFILE_SERVERS (default host,native), TRACKER_HOST_BIN (another host binary, e.g. a
// baseline kept for a before/after); `--analyse-only` re-reads the last dumps. Output: target/bench/profile.md and the raw
// callgrind files under target/bench/profile/.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, closeSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCourses } from './lib/dataset.mjs';
import { request, sendJson, closeIdle } from './lib/http.mjs';
import { freePort, startServer } from './lib/servers.mjs';
import { runWrk } from './lib/wrk.mjs';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const OUT = join(ROOT, 'target/bench');
const WORK = join(OUT, 'profile');
const REQUESTS = Number(process.env.PROFILE_REQUESTS ?? 30);
const PATH = process.env.PROFILE_PATH ?? '/api/courses';
const SERVERS = (process.env.PROFILE_SERVERS ?? 'host,native').split(',');
const FIXTURE = process.env.BENCH_FIXTURE ?? resolve(ROOT, 'tests/fixtures/udemy_course_list.csv');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function command(name, port, dataDir) {
  if (name === 'host') {
    return [process.env.TRACKER_HOST_BIN ?? join(ROOT, 'target/release/tracker-host'), 'up', '--manifest', resolve(ROOT, process.env.PROFILE_MANIFEST ?? 'spin.toml'), '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--admin-listen', 'off'];
  }
  return [join(ROOT, 'target/release/native-baseline'), '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir];
}

/** Loads the library (and, for the host, fills the compiled-component cache) natively first. */
async function prepare(name, dataDir) {
  const port = await freePort();
  const [bin, ...args] = command(name, port, dataDir);
  const server = await startServer({ name, command: bin, args, port, cwd: ROOT, logPath: join(WORK, `${name}.prepare.log`) });
  const res = await sendJson(`${server.url}/api/courses`, 'POST', loadCourses(FIXTURE));
  if (res.status !== 200) throw new Error(`${name}: loading the library answered ${res.status}`);
  closeIdle();
  await server.stop();
}

async function profile(name) {
  const dataDir = join(WORK, `${name}-data`);
  rmSync(dataDir, { recursive: true, force: true });
  await prepare(name, dataDir);
  const port = await freePort();
  const outFile = join(WORK, `callgrind.${name}.out`);
  for (const f of readdirSync(WORK)) if (f.startsWith(`callgrind.${name}.out`)) rmSync(join(WORK, f));
  const log = openSync(join(WORK, `${name}.valgrind.log`), 'w');
  const child = spawn('valgrind', ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${outFile}`, ...command(name, port, dataDir)],
    { cwd: ROOT, stdio: ['ignore', log, log] });
  closeSync(log);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try { if ((await request(`${url}/health`, { fresh: true })).status === 200) break; } catch { /* starting */ }
    if (i > 600) throw new Error(`${name} under valgrind did not start`);
    await sleep(500);
  }
  // `{latest}` in the path stands for the current revision (the idle sync poll).
  let path = PATH;
  if (path.includes('{latest}')) {
    const feed = JSON.parse((await request(`${url}/api/changes?since=0&limit=1000`)).body.toString());
    path = path.replace('{latest}', String(feed.rev));
  }
  for (let i = 0; i < 5; i++) await request(url + path); // warm caches and pools
  execFileSync('callgrind_control', ['-i', 'on', String(child.pid)], { stdio: 'ignore' });
  let bytes = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const res = await request(url + path, { timeoutMs: 120000 });
    if (res.status !== 200) throw new Error(`${name}: ${path} answered ${res.status}`);
    bytes = res.body.length;
  }
  execFileSync('callgrind_control', ['-d', String(child.pid)], { stdio: 'ignore' });
  closeIdle();
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  const dump = readdirSync(WORK).filter((f) => f.startsWith(`callgrind.${name}.out.`)).sort().at(-1);
  return { name, file: join(WORK, dump), bytes };
}

// Who executes an instruction, from callgrind_annotate's "file:function [object]".
const CATEGORIES = [
  ['wasm guest code (JIT-compiled component)', (f) => f.startsWith('???:0x')],
  ['SQLite', (f) => f.includes('sqlite3.c')],
  ['rusqlite', (f) => f.includes('/rusqlite-')],
  ['wasmtime: component lift/lower (host<->guest copies)', (f) => /wasmtime[^ ]*component[/:]|component::func|typed\.rs|LowerContext|LiftContext/.test(f)],
  ['wasmtime: instantiate, store, libcalls, other', (f) => f.includes('wasmtime')],
  ['wasi / wasi-http (streams, fields, bodies)', (f) => /wasmtime_wasi|wasi-http|wasi_http/.test(f)],
  ['libc malloc/free', (f) => /malloc\.c|_int_free|cfree/.test(f)],
  ['libc memcpy/memmove/memset', (f) => /memmove|memcpy|memset|memcmp/.test(f)],
  ['serde / serde_json', (f) => /serde/.test(f)],
  ['skilltrack-api (native handlers)', (f) => /skilltrack_api|component\/api\/src/.test(f)],
  ['tracker-host code', (f) => /tracker_host|\/host\/src\//.test(f)],
  ['hyper / http', (f) => /hyper|\/http-|httparse/.test(f)],
  ['tokio', (f) => /tokio/.test(f)],
  ['kernel / ld.so / other libc', (f) => /\/lib\/x86_64-linux-gnu|ld-linux|\?\?\?:/.test(f)],
  ['Rust core / alloc / std', (f) => /\/rustc\//.test(f)],
];

function categorise(file) {
  const text = execFileSync('callgrind_annotate', ['--threshold=100', '--auto=no', file], { maxBuffer: 256 * 1024 * 1024 }).toString();
  const totals = new Map();
  let total = 0;
  const top = [];
  for (const line of text.split('\n')) {
    const m = line.match(/^\s*([\d,]+) \([ \d.]+%\)\s+(.*)$/);
    if (!m || m[2].startsWith('PROGRAM TOTALS')) continue;
    const n = Number(m[1].replaceAll(',', ''));
    const what = m[2];
    const cat = CATEGORIES.find(([, test]) => test(what))?.[0] ?? 'other';
    totals.set(cat, (totals.get(cat) ?? 0) + n);
    total += n;
    if (top.length < 15) top.push({ n, what: what.replace(/\/root\/\.cargo\/registry\/src\/[^/]+\//, '').slice(0, 160) });
  }
  return { total, totals: [...totals].sort((a, b) => b[1] - a[1]), top };
}

// Context switches and CPU time per request under load, from perf's software
// counters (these work where the hardware ones do not).
const SWITCH_SECONDS = 3;
function perfWorks() {
  try {
    execFileSync('perf', ['stat', '-e', 'context-switches,task-clock', 'true'], { stdio: 'ignore' });
    return true;
  } catch { return false; }
}

async function switchesPerRequest(name) {
  const dataDir = join(WORK, `${name}-switches-data`);
  rmSync(dataDir, { recursive: true, force: true });
  const port = await freePort();
  const [bin, ...args] = command(name, port, dataDir);
  const server = await startServer({ name, command: bin, args, port, cwd: ROOT, logPath: join(WORK, `${name}.switches.log`) });
  const rows = [];
  try {
    await sendJson(`${server.url}/api/courses`, 'POST', loadCourses(FIXTURE));
    const etag = (await request(`${server.url}/api/courses`)).headers.etag;
    const rev = JSON.parse((await request(`${server.url}/api/changes?since=0&limit=1000`)).body.toString()).rev;
    const cases = [
      ['GET /health', '/health', []],
      ['GET /api/courses, If-None-Match (304)', '/api/courses', [['If-None-Match', etag]]],
      ['GET /api/changes?since=<latest>', `/api/changes?since=${rev}`, []],
      ['GET /api/courses (200)', '/api/courses', []],
    ];
    for (const [label, path, headers] of cases) {
      const out = join(WORK, `${name}.perf.txt`);
      const perf = spawn('perf', ['stat', '-e', 'context-switches,task-clock', '-p', String(server.pid), '-o', out, '--', 'sleep', String(SWITCH_SECONDS)], { stdio: 'ignore' });
      const perfDone = new Promise((r) => perf.once('exit', r));
      const load = await runWrk({ url: server.url + path, headers, threads: 2, connections: 16, seconds: SWITCH_SECONDS });
      await perfDone;
      const text = readFileSync(out, 'utf8');
      const cs = Number(text.match(/([\d,]+)\s+context-switches/)?.[1].replaceAll(',', ''));
      const ms = Number(text.match(/([\d.,]+)\s+msec task-clock/)?.[1].replaceAll(',', ''));
      rows.push({ label, requests: load.requests, switches: cs / load.requests, cpuUs: (ms * 1000) / load.requests });
    }
  } finally {
    closeIdle();
    await server.stop();
  }
  return rows;
}

async function main() {
  mkdirSync(WORK, { recursive: true });
  const results = [];
  for (const name of process.env.PROFILE_CALLGRIND === '0' ? [] : SERVERS) {
    let run;
    if (process.argv.includes('--analyse-only')) {
      // Re-read the last dumps (e.g. after changing the categories).
      const dump = readdirSync(WORK).filter((f) => f.startsWith(`callgrind.${name}.out.`)).sort().at(-1);
      run = { name, file: join(WORK, dump), bytes: NaN };
    } else {
      console.log(`[profile] ${name}: ${REQUESTS} x GET ${PATH} under callgrind`);
      run = await profile(name);
    }
    results.push({ ...run, ...categorise(run.file) });
  }
  const perReq = (r) => r.total / REQUESTS;
  let md = '';
  if (results.length) {
    md += `# Where one \`GET ${PATH}\` goes (callgrind, instructions)\n\n`;
    md += `${REQUESTS} sequential requests per server after 5 warm-up requests; counts are instructions executed by the whole server process while they ran, divided by ${REQUESTS}.\n\n`;
    md += '| server | instructions per request | response bytes |\n| --- | ---: | ---: |\n';
    for (const r of results) md += `| ${r.name} | ${Math.round(perReq(r)).toLocaleString('en-US')} | ${r.bytes.toLocaleString('en-US')} |\n`;
    for (const r of results) {
      md += `\n## ${r.name}\n\n| who | instructions per request | share |\n| --- | ---: | ---: |\n`;
      for (const [cat, n] of r.totals) md += `| ${cat} | ${Math.round(n / REQUESTS).toLocaleString('en-US')} | ${((100 * n) / r.total).toFixed(1)}% |\n`;
      md += '\nTop functions:\n\n| instructions per request | function |\n| ---: | --- |\n';
      for (const t of r.top) md += `| ${Math.round(t.n / REQUESTS).toLocaleString('en-US')} | \`${t.what.replaceAll('|', '\\|')}\` |\n`;
    }
  }
  if (process.env.PROFILE_SWITCHES !== '0' && !process.argv.includes('--analyse-only')) {
    if (perfWorks()) {
      md += `\n## Context switches and CPU per request under load (perf software counters, wrk 16 connections, ${SWITCH_SECONDS} s each)\n\n`;
      md += '| server | request | context switches per request | server CPU per request (us) |\n| --- | --- | ---: | ---: |\n';
      for (const name of SERVERS) {
        for (const r of await switchesPerRequest(name)) {
          md += `| ${name} | ${r.label} | ${r.switches.toFixed(1)} | ${r.cpuUs.toFixed(0)} |\n`;
        }
      }
    } else {
      md += '\nperf cannot count context switches here: that section is left out.\n';
    }
  }
  writeFileSync(join(OUT, process.env.PROFILE_OUT ?? 'profile.md'), md);
  console.log(md);
}

main().catch((e) => { console.error(e); process.exit(1); });
