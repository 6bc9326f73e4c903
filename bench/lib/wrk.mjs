// Runs wrk with bench/wrk/scenario.lua and returns its parsed WRK_JSON summary.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../wrk/scenario.lua', import.meta.url));

export function runWrk({ url, threads, connections, seconds, headers = [], mode = 'plain', idsFile, timeoutS = 10 }) {
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`,
    '--timeout', `${timeoutS}s`, '-s', SCRIPT];
  for (const [k, v] of headers) args.push('-H', `${k}: ${v}`);
  args.push(url);
  const env = { ...process.env, BENCH_MODE: mode };
  if (idsFile) env.BENCH_IDS = idsFile;
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '));
      if (code !== 0 || !line) {
        reject(new Error(`wrk ${args.join(' ')} failed (exit ${code}):\n${out}\n${err}`));
        return;
      }
      resolve(JSON.parse(line.slice('WRK_JSON '.length)));
    });
  });
}

/**
 * The same load spread over replicas: one wrk per URL, all at once, the
 * connections (and threads, at least one each) split as evenly as they go.
 * Counts and rates are summed; p50, p99 and max are the worst of the instances
 * (wrk reports percentiles, not its histogram, so they cannot be merged exactly).
 */
export async function runWrkSplit({ urls, threads, connections, ...rest }) {
  const n = urls.length;
  const parts = urls.map((url, i) => {
    const c = Math.floor(connections / n) + (i < connections % n ? 1 : 0);
    const t = Math.max(1, Math.min(c, Math.round((threads * c) / connections)));
    return { url, connections: c, threads: t };
  });
  const runs = await Promise.all(parts.map((p) => runWrk({ ...rest, ...p })));
  const sum = (f) => runs.reduce((a, r) => a + (f(r) ?? 0), 0);
  const max = (f) => Math.max(...runs.map((r) => f(r) ?? 0));
  const errors = {};
  for (const k of ['connect', 'read', 'write', 'status', 'timeout']) errors[k] = sum((r) => r.errors?.[k]);
  const merged = {
    mode: runs[0].mode,
    requests: sum((r) => r.requests),
    duration_s: max((r) => r.duration_s),
    rps: sum((r) => r.rps),
    bytes: sum((r) => r.bytes),
    errors,
    p50_us: max((r) => r.p50_us),
    p99_us: max((r) => r.p99_us),
    max_us: max((r) => r.max_us),
    split: parts.map((p, i) => ({ connections: p.connections, threads: p.threads, rps: runs[i].rps, p50_us: runs[i].p50_us, p99_us: runs[i].p99_us })),
    latencyIs: 'worst of the per-replica wrk instances',
  };
  if (runs[0].mode === 'rmw') {
    merged.updates = sum((r) => r.updates);
    merged.failed_updates = sum((r) => r.failed_updates);
    merged.updates_per_s = sum((r) => r.updates_per_s);
    merged.update_p50_us = max((r) => r.update_p50_us);
    merged.update_p99_us = max((r) => r.update_p99_us);
  }
  return merged;
}
