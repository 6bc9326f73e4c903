// Runs the unit tests under several time zones: month ends, DST changes and
// "completed this month" must hold wherever the user is.
import { spawnSync } from 'node:child_process';

const zones = ['UTC', 'America/Los_Angeles', 'Europe/Berlin', 'Asia/Kolkata', 'Pacific/Auckland', 'Pacific/Kiritimati'];
let failed = 0;
for (const tz of zones) {
  console.log(`--- TZ=${tz}`);
  const r = spawnSync('npx', ['vitest', 'run', 'src/domain'], { stdio: 'inherit', env: { ...process.env, TZ: tz } });
  if (r.status !== 0) failed++;
}
console.log(failed ? `${failed} time zone(s) failed` : `all ${zones.length} time zones passed`);
process.exit(failed ? 1 : 0);
