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
