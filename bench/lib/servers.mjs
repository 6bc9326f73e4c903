// Starting, watching and stopping the servers under test.
import { spawn } from 'node:child_process';
import { openSync, readFileSync, writeFileSync, closeSync } from 'node:fs';
import net from 'node:net';
import { request } from './http.mjs';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Spawns a server and waits until `readyPath` answers 200.
 * Returns { name, pid, url, startedAt, readyMs, stop() }.
 */
export async function startServer({ name, command, args = [], env = {}, cwd, port, readyPath = '/health', logPath, timeoutMs = 120000 }) {
  const log = openSync(logPath, 'a');
  const startedAt = performance.now();
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  const url = `http://127.0.0.1:${port}`;
  const deadline = startedAt + timeoutMs;
  let readyMs = null;
  while (performance.now() < deadline) {
    if (exited) {
      throw new Error(`${name} exited during start (${JSON.stringify(exited)}); log: ${logPath}\n${tail(logPath)}`);
    }
    try {
      const res = await request(url + readyPath, { timeoutMs: 5000, fresh: true });
      if (res.status === 200) { readyMs = performance.now() - startedAt; break; }
    } catch { /* not listening yet */ }
    await sleep(2);
  }
  if (readyMs === null) {
    child.kill('SIGKILL');
    throw new Error(`${name} did not answer ${readyPath} within ${timeoutMs} ms; log: ${logPath}\n${tail(logPath)}`);
  }
  return {
    name,
    pid: child.pid,
    url,
    port,
    readyMs,
    child,
    async stop() {
      if (exited) return exited;
      const done = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
      const result = await done;
      clearTimeout(timer);
      return result;
    },
  };
}

function tail(path) {
  try { return readFileSync(path, 'utf8').split('\n').slice(-20).join('\n'); } catch { return ''; }
}

/** Resets the kernel's peak-RSS mark of `pid` (VmHWM); false when not permitted. */
export function resetPeakRss(pid) {
  try { writeFileSync(`/proc/${pid}/clear_refs`, '5'); return true; } catch { return false; }
}

/** Peak resident set size of `pid` since start or the last reset, in KiB. */
export function peakRssKib(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+)\s+kB/m);
    return m ? Number(m[1]) : null;
  } catch { return null; }
}

export function rssKib(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)\s+kB/m);
    return m ? Number(m[1]) : null;
  } catch { return null; }
}
