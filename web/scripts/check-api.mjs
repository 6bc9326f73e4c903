// Checks the client's wire types (src/api/types.ts) against the API's OpenAPI
// document, so a field renamed, added or dropped on either side fails loudly.
// Usage: node scripts/check-api.mjs [path/to/openapi.json]
import { readFileSync, existsSync } from 'node:fs';
import { CLIENT_COURSE_FIELDS, CLIENT_STATUSES } from './api-fields.mjs';

const root = new URL('../..', import.meta.url).pathname;
const specPath = process.argv[2] ?? `${root}component/api/openapi.json`;
const client = { fields: CLIENT_COURSE_FIELDS, statuses: CLIENT_STATUSES };

if (!existsSync(specPath)) {
  console.error(`no OpenAPI document at ${specPath}`);
  process.exit(1);
}
const spec = JSON.parse(readFileSync(specPath, 'utf8'));
const schemas = spec.components?.schemas ?? {};

function resolve(s) {
  if (s && s.$ref) return resolve(schemas[s.$ref.split('/').pop()]);
  if (s && Array.isArray(s.allOf)) {
    return s.allOf.map(resolve).reduce((a, b) => ({ ...a, ...b, properties: { ...a.properties, ...b.properties } }), {});
  }
  return s ?? {};
}

// The course schema: named Course, or else the one object with completionRatio and rev.
let name = 'Course' in schemas ? 'Course' : Object.keys(schemas).find((k) => {
  const p = resolve(schemas[k]).properties ?? {};
  return 'completionRatio' in p && 'rev' in p;
});
if (!name) {
  console.log(`check-api: SKIPPED - ${specPath} describes no course schema yet (paths: ${Object.keys(spec.paths ?? {}).length}); the e2e test "api_course_fields_match_client_types" checks the live API instead`);
  process.exit(0);
}
const course = resolve(schemas[name]);
const server = Object.keys(course.properties ?? {}).sort();
const problems = [];
const missing = client.fields.filter((f) => !server.includes(f));
const extra = server.filter((f) => !client.fields.includes(f));
if (missing.length) problems.push(`fields the client expects but ${name} lacks: ${missing.join(', ')}`);
if (extra.length) problems.push(`fields ${name} has but the client does not know: ${extra.join(', ')}`);
const statusEnum = resolve(course.properties?.status).enum;
if (Array.isArray(statusEnum) && JSON.stringify([...statusEnum].sort()) !== JSON.stringify(client.statuses)) {
  problems.push(`status values differ: server ${statusEnum.join(', ')}; client ${client.statuses.join(', ')}`);
}
for (const p of ['/api/courses/{id}', '/api/changes', '/api/import', '/api/export', '/api/export.csv', '/api/activity', '/api/settings/{key}', '/api/calendar/token', '/api/calendar.ics']) {
  if (!(p in (spec.paths ?? {}))) problems.push(`path the client uses is not in the document: ${p}`);
}
// The calendar link's answers: the fields src/calendar/feed.ts reads.
for (const [schemaName, fields] of [['FeedTokenStatus', ['active', 'createdAt']], ['FeedTokenCreated', ['path', 'token', 'url', 'createdAt']]]) {
  const props = Object.keys(resolve(schemas[schemaName]).properties ?? {});
  const lacking = fields.filter((f) => !props.includes(f));
  if (lacking.length) problems.push(`${schemaName} lacks what the client reads: ${lacking.join(', ')}`);
}
if (problems.length) {
  console.error(`check-api: client types and ${specPath} disagree:\n  - ${problems.join('\n  - ')}`);
  process.exit(1);
}
console.log(`check-api: ${client.fields.length} course fields and ${client.statuses.length} statuses match schema ${name}`);
