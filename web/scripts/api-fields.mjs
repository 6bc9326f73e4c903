// The client's course field list and statuses, read from src/api/types.ts, for checks
// that run outside TypeScript (check-api, the e2e contract test).
import { readFileSync } from 'node:fs';

const typesSrc = readFileSync(new URL('../src/api/types.ts', import.meta.url), 'utf8');

export function constArray(name) {
  const m = new RegExp(`export const ${name} = \\[([^\\]]*)\\]`, 's').exec(typesSrc);
  if (!m) throw new Error(`${name} not found in src/api/types.ts`);
  return [...m[1].matchAll(/'([^']+)'/g)].map((x) => x[1]);
}

export const CLIENT_COURSE_FIELDS = ['id', ...constArray('EDITABLE_FIELDS'), ...constArray('SERVER_FIELDS')].sort();
export const CLIENT_STATUSES = constArray('STATUSES').sort();
