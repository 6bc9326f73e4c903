// An in-memory stand-in for the API's sync endpoints, for unit tests of the engine's
// logic (rev checks, 412 bodies, the change feed). The real component is exercised
// by the e2e tests.

import type { Course } from '../api/types';
import { normalizeCourse } from '../domain/course';

export class FakeServer {
  rev = 0;
  courses = new Map<string, Course>();
  tombstones = new Map<string, number>();
  settings: Record<string, unknown> = {};
  down = false;
  requests: { method: string; path: string; ifMatch: string | null; body: unknown }[] = [];
  token: string | null = null;

  /** A write made by "another device". */
  write(c: Partial<Course> & { id: string }): Course {
    const prev = this.courses.get(c.id);
    const next = normalizeCourse({ ...(prev ?? {}), ...c, rev: ++this.rev } as Record<string, unknown>);
    this.courses.set(c.id, next);
    this.tombstones.delete(c.id);
    return next;
  }

  fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    if (this.down) throw new TypeError('Failed to fetch');
    const url = new URL(String(input), 'http://test');
    const method = init.method ?? 'GET';
    const headers = new Headers(init.headers);
    const body = init.body ? JSON.parse(String(init.body)) : null;
    this.requests.push({ method, path: url.pathname + url.search, ifMatch: headers.get('If-Match'), body });
    const json = (status: number, b: unknown) =>
      new Response(b === null ? null : JSON.stringify(b), { status, headers: { 'Content-Type': 'application/json' } });
    if (this.token && headers.get('Authorization') !== `Bearer ${this.token}`) {
      return json(401, { error: { code: 'unauthorized', message: 'token required' } });
    }
    if (url.pathname === '/api/changes') {
      const since = Number(url.searchParams.get('since') ?? 0);
      const courses = [...this.courses.values()].filter((c) => c.rev > since);
      const deleted = [...this.tombstones.entries()].filter(([, r]) => r > since).map(([id]) => id);
      return json(200, { courses, deleted, rev: this.rev });
    }
    if (url.pathname === '/api/settings' && method === 'GET') return json(200, this.settings);
    const setting = /^\/api\/settings\/(.+)$/.exec(url.pathname);
    if (setting && method === 'POST') {
      this.settings[setting[1]] = body.value;
      return json(200, { value: body.value });
    }
    const m = /^\/api\/courses\/(.+)$/.exec(url.pathname);
    if (m) {
      const id = decodeURIComponent(m[1]);
      const cur = this.courses.get(id);
      const ifMatch = headers.get('If-Match');
      if (ifMatch !== null && (!cur || ifMatch !== `"${cur.rev}"`)) {
        // The API's shape: the error, and the current copy (null when deleted) beside it.
        return json(412, { error: { code: 'precondition_failed', message: 'stale' }, current: cur ?? null });
      }
      if (method === 'PUT') {
        if (typeof body.title !== 'string' || body.title.length === 0) {
          return json(400, { error: { code: 'invalid_field', message: 'title must be 1..300 characters', field: 'title' } });
        }
        const c = this.write({ ...body, id });
        return json(cur ? 200 : 201, c);
      }
      if (method === 'DELETE') {
        if (!cur) return json(404, { error: { code: 'not_found', message: 'no such course' } });
        this.courses.delete(id);
        this.tombstones.set(id, ++this.rev);
        return json(200, { rev: this.rev });
      }
    }
    return json(404, { error: { code: 'not_found', message: 'no route' } });
  };
}
