// Cold start: process start to the first 200 on /health, with the compiled-component
// cache (<data>/cache/) empty (cold) and filled by an earlier start (warm).
import { existsSync, mkdirSync, rmSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, freePort } from './servers.mjs';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : null;
};

async function startOnce({ root, hostBin, dataDir, logPath }) {
  const port = await freePort();
  const server = await startServer({
    name: 'host', port, logPath, cwd: root,
    command: hostBin,
    args: ['up', '--manifest', join(root, 'spin.toml'), '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--admin-listen', 'off'],
  });
  const ms = server.readyMs;
  await server.stop();
  return ms;
}

export async function coldStart({ root, hostBin, work, logPath, repeats = 3 }) {
  rmSync(work, { recursive: true, force: true });
  const dataDir = join(work, 'data');
  mkdirSync(dataDir, { recursive: true });
  const cacheDir = join(dataDir, 'cache');
  const cold = [];
  for (let i = 0; i < repeats; i++) {
    rmSync(cacheDir, { recursive: true, force: true });
    cold.push(await startOnce({ root, hostBin, dataDir, logPath }));
  }
  const cacheFilled = existsSync(cacheDir) && readdirSync(cacheDir).length > 0;
  const warm = [];
  for (let i = 0; i < repeats; i++) warm.push(await startOnce({ root, hostBin, dataDir, logPath }));
  return {
    coldMs: cold, warmMs: warm,
    coldMedianMs: median(cold), warmMedianMs: median(warm),
    cacheFilled,
  };
}
