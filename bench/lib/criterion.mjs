// Reads the estimates criterion left under target/criterion for the host's
// request_path bench (run by `make bench` before the load tests).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export function readCriterion(dir) {
  if (!existsSync(dir)) return { unavailable: 'no criterion results (host/benches/request_path.rs did not run)' };
  const found = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (!statSync(p).isDirectory()) continue;
      if (name === 'new' && existsSync(join(p, 'estimates.json')) && existsSync(join(p, 'benchmark.json'))) {
        const est = JSON.parse(readFileSync(join(p, 'estimates.json'), 'utf8'));
        const meta = JSON.parse(readFileSync(join(p, 'benchmark.json'), 'utf8'));
        found.push({
          id: meta.full_id ?? relative(dir, d),
          meanNs: est.mean?.point_estimate,
          medianNs: est.median?.point_estimate,
          lowNs: est.mean?.confidence_interval?.lower_bound,
          highNs: est.mean?.confidence_interval?.upper_bound,
          at: statSync(join(p, 'estimates.json')).mtime.toISOString(),
        });
      } else if (name !== 'base' && name !== 'change' && name !== 'report') {
        walk(p);
      }
    }
  };
  walk(dir);
  const ours = found.filter((f) => f.id.startsWith('request_path'));
  return ours.length ? { benches: ours } : { unavailable: 'no request_path results under target/criterion' };
}
