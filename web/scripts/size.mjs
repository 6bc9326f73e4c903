// Measures what index.html loads (scripts, styles, icons it references), compressed
// with gzip and brotli, and fails when the first load exceeds the budget.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';

const BUDGET = 250 * 1024;
const dist = new URL('../dist/', import.meta.url).pathname;
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const refs = [...html.matchAll(/(?:src|href)="\/?([^"]+)"/g)].map((m) => m[1]).filter((p) => existsSync(join(dist, p)));
const files = ['index.html', ...new Set(refs)];
let raw = 0, gz = 0, br = 0;
for (const f of files) {
  const buf = readFileSync(join(dist, f));
  const g = gzipSync(buf, { level: 9 }).length;
  const b = brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  raw += buf.length; gz += g; br += b;
  console.log(`${f.padEnd(40)} ${String(buf.length).padStart(8)} B  gzip ${String(g).padStart(7)} B  br ${String(b).padStart(7)} B`);
}
const kb = (n) => (n / 1024).toFixed(1) + ' KiB';
console.log(`first load: raw ${kb(raw)}, gzip ${kb(gz)}, brotli ${kb(br)} (budget ${kb(BUDGET)} compressed)`);
if (/<script(?![^>]*\bsrc=)[^>]*>/i.test(html) || /<style/i.test(html) || /\sstyle=/i.test(html)) {
  console.error('index.html has inline script or style: the CSP would block it');
  process.exit(1);
}
if (gz > BUDGET) {
  console.error('over budget');
  process.exit(1);
}
