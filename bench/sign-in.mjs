// `node bench/sign-in.mjs`: how long a sign-in takes in the release tracker-host
// with `auth = accounts` (Argon2id, m = 19 MiB, t = 2, p = 1, in the wasm
// component), for a known user with the right password and for an unknown user
// (verified against the dummy hash). Sequential requests over real HTTP, one at a
// time, so each figure is one request's latency on an otherwise idle server.
//
// The throttle would lock the client address after 20 failures in 15 minutes, so
// each round runs on a fresh server (new data dir) with 19 of each.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startServer } from './lib/servers.mjs';
import { sendJson, closeIdle } from './lib/http.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const HOST_BIN = process.env.TRACKER_HOST_BIN ?? join(ROOT, 'target/release/tracker-host');
const ROUNDS = Number(process.env.SIGN_IN_ROUNDS ?? 3);
const PER_ROUND = 19;
const PASSWORD = 'bench password 1';

const known = [];
const unknown = [];
for (let round = 0; round < ROUNDS; round++) {
  const dataDir = mkdtempSync(join(tmpdir(), 'skilltrack-sign-in-'));
  const port = await freePort();
  const server = await startServer({
    name: 'host',
    command: HOST_BIN,
    args: ['up', '--manifest', join(ROOT, 'spin.toml'), '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--admin-listen', 'off'],
    env: { SPIN_VARIABLE_AUTH: 'accounts', RUST_LOG: 'warn' },
    port,
    logPath: join(dataDir, 'host.log'),
  });
  try {
    const setup = await sendJson(`${server.url}/api/auth/setup`, 'POST', { username: 'admin', password: PASSWORD });
    if (setup.status !== 201) throw new Error(`setup: ${setup.status} ${setup.body}`);
    for (let i = 0; i < PER_ROUND; i++) {
      // Interleaved, so drift on the machine affects both alike.
      const ok = await sendJson(`${server.url}/api/auth/sign-in`, 'POST', { username: 'admin', password: PASSWORD });
      if (ok.status !== 200) throw new Error(`known: ${ok.status} ${ok.body}`);
      known.push(ok.ms);
      const no = await sendJson(`${server.url}/api/auth/sign-in`, 'POST', { username: `nobody${round}x${i}`, password: PASSWORD });
      if (no.status !== 401) throw new Error(`unknown: ${no.status} ${no.body}`);
      unknown.push(no.ms);
    }
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

closeIdle();

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const row = (name, xs) => `| ${name} | ${xs.length} | ${pct(xs, 50).toFixed(1)} | ${pct(xs, 95).toFixed(1)} | ${Math.min(...xs).toFixed(1)} | ${Math.max(...xs).toFixed(1)} |`;
console.log('| sign-in | n | median ms | p95 ms | min ms | max ms |');
console.log('| --- | --- | --- | --- | --- | --- |');
console.log(row('known user, right password (200)', known));
console.log(row('unknown user (401)', unknown));
