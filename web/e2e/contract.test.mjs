import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLIENT_COURSE_FIELDS, CLIENT_STATUSES } from '../scripts/api-fields.mjs';
import { startHost } from './harness.mjs';

let host;

describe('contract with the served API and static component', () => {
  before(async () => {
    host = await startHost();
  });
  after(async () => {
    await host?.stop();
  });

  it('api_course_fields_match_client_types', async () => {
    const put = await host.api('PUT', '/api/courses/contract-1', { title: 'Contract', date: '2025-01-01', completionRatio: 100, status: 'Completed' });
    assert.equal(put.status, 201, put.text);
    assert.deepEqual(Object.keys(put.json).sort(), CLIENT_COURSE_FIELDS);
    assert.ok(CLIENT_STATUSES.includes(put.json.status));
    const feed = await host.api('GET', '/api/changes?since=0');
    assert.deepEqual(Object.keys(feed.json.courses[0]).sort(), CLIENT_COURSE_FIELDS);
    assert.equal(typeof feed.json.rev, 'number');
    assert.ok(Array.isArray(feed.json.deleted));
  });

  it('index.html loads only hashed same-origin assets, nothing inline, under the CSP', async () => {
    const r = await fetch(host.url + '/');
    const html = await r.text();
    assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i);
    assert.doesNotMatch(html, /<style|\sstyle=/i);
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    assert.ok(refs.length >= 2);
    for (const ref of refs) {
      const a = await fetch(host.url + ref);
      assert.equal(a.status, 200, ref);
      // The web app manifest keeps one URL across releases (installed copies link it):
      // it is revalidated instead.
      if (ref === '/manifest.webmanifest') {
        assert.equal(a.headers.get('cache-control'), 'no-cache');
        assert.ok(a.headers.get('etag'));
        continue;
      }
      assert.match(ref, /^\/assets\/[\w.-]+-[\w-]{8}\.(js|css|svg|png)$/, `${ref} is a hashed asset`);
      assert.match(a.headers.get('cache-control') ?? '', /immutable/);
    }
  });
});
