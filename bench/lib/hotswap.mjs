// Hot swap: time from `PUT /-/components/api` on the admin listener to the new
// version serving, and what requests running meanwhile see. Each upload is the
// built API component with one extra custom section (a unique payload), so it is
// a new version (new content hash) that behaves exactly like the old one.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { request, json } from './http.mjs';
import { startServer, freePort } from './servers.mjs';

const ADMIN_PATH = '/-/components/api';
const PROBERS = 4;
const BASELINE_MS = 3000;

function leb128(n) {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return Buffer.from(out);
}

/** The component with a custom section "bench-swap" holding `tag` appended. */
export function withCustomSection(wasm, tag) {
  const name = Buffer.from('bench-swap');
  const payload = Buffer.concat([leb128(name.length), name, Buffer.from(tag)]);
  return Buffer.concat([wasm, Buffer.from([0]), leb128(payload.length), payload]);
}

const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((sorted.length * p) / 100) - 1)] : null);
function summary(samples) {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  return { requests: ms.length, p50Ms: pct(ms, 50), p99Ms: pct(ms, 99), maxMs: ms.at(-1) ?? null, failed: samples.filter((s) => s.status !== 200).length };
}

/** The sha256 of the api component's active version in a `GET /-/components` answer. */
function activeSha(listing) {
  return listing?.components?.find((c) => c.name === 'api')?.active?.sha256 ?? null;
}

/** The `up` flag that sets the admin listener, if this build of the host has one. */
function adminListenFlag(hostBin) {
  const help = execFileSync(hostBin, ['up', '--help']).toString();
  return help.match(/--admin[-a-z]*(listen|addr)[-a-z]*/)?.[0] ?? null;
}

export async function hotSwap({ root, hostBin, work, logPath, swaps = 5 }) {
  // The admin listener gets a port of its own: a fixed default (3001) could be a
  // developer's running host, which a benchmark must never upload to.
  const flag = adminListenFlag(hostBin);
  if (!flag) return { unavailable: 'tracker-host up has no admin listener option yet (the admin API is not built)' };
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const port = await freePort();
  const adminPort = await freePort();
  const server = await startServer({
    name: 'host', port, logPath, cwd: root, command: hostBin,
    args: ['up', '--manifest', join(root, 'spin.toml'), '--listen', `127.0.0.1:${port}`, '--data-dir', join(work, 'data'),
      flag, `127.0.0.1:${adminPort}`],
  });
  const adminBase = `http://127.0.0.1:${adminPort}`;
  const admin = adminBase + ADMIN_PATH;
  try {
    let listing;
    try {
      listing = await json(`${adminBase}/-/components`, { timeoutMs: 5000 });
    } catch (e) {
      return { unavailable: `admin API not reachable at ${adminBase} (${e.code ?? e.message})` };
    }
    if (listing.status !== 200 || !activeSha(listing.json)) {
      return { unavailable: `GET ${adminBase}/-/components answered ${listing.status} without an active "api" version` };
    }
    const wasm = readFileSync(join(root, 'target/wasm32-wasip2/wasm/skilltrack_api.wasm'));

    // Probers: steady GETs that go through the API component during the whole run.
    let running = true;
    const samples = [];
    const probers = Array.from({ length: PROBERS }, async () => {
      while (running) {
        const t = performance.now();
        try {
          const r = await request(`${server.url}/health`, { timeoutMs: 10000 });
          samples.push({ t, ms: performance.now() - t, status: r.status });
        } catch {
          samples.push({ t, ms: performance.now() - t, status: 0 });
        }
      }
    });
    const baselineStart = performance.now();
    await new Promise((r) => setTimeout(r, BASELINE_MS));
    const baselineEnd = performance.now();

    const swapTimes = [];
    const hostReportedMs = [];
    const windows = [];
    for (let i = 0; i < swaps; i++) {
      const body = withCustomSection(wasm, `swap-${Date.now()}-${i}`);
      const t0 = performance.now();
      const put = await json(admin, { method: 'PUT', headers: { 'content-type': 'application/wasm' }, body, timeoutMs: 120000 });
      if (put.status !== 200 || !put.json?.sha256 || put.json.unchanged) {
        running = false;
        await Promise.all(probers);
        return { unavailable: `PUT ${admin} answered ${put.status}: ${put.body.toString().slice(0, 300)}` };
      }
      // The PUT answers once the version serves; the listing confirms it.
      for (let n = 0; n < 2000 && activeSha((await json(`${adminBase}/-/components`)).json) !== put.json.sha256; n++) {
        await new Promise((r) => setTimeout(r, 5));
      }
      const t1 = performance.now();
      swapTimes.push(t1 - t0);
      if (typeof put.json.elapsedMs === 'number') hostReportedMs.push(put.json.elapsedMs);
      windows.push([t0, t1]);
      await new Promise((r) => setTimeout(r, 500));
    }
    running = false;
    await Promise.all(probers);
    const inBaseline = samples.filter((s) => s.t >= baselineStart && s.t < baselineEnd);
    const inSwaps = samples.filter((s) => windows.some(([a, b]) => s.t + s.ms >= a && s.t <= b));
    const sorted = [...swapTimes].sort((a, b) => a - b);
    return {
      swaps: swapTimes.length, swapMs: swapTimes, swapMedianMs: pct(sorted, 50), swapMaxMs: sorted.at(-1),
      hostReportedMs, servingDetectedBy: 'PUT answered and GET /-/components lists the uploaded sha256 as active',
      uploadBytes: wasm.length, baseline: summary(inBaseline), duringSwaps: summary(inSwaps), probers: PROBERS,
    };
  } finally {
    await server.stop();
  }
}
