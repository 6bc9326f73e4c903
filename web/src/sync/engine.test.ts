import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SyncEngine } from './engine';
import { openLocalStore, type LocalStore } from './store';
import { Transport, memoryTokens } from './transport';
import { FakeServer } from '../test/fakeServer';
import { blankCourse } from '../domain/course';
import type { Course } from '../api/types';

let dbCount = 0;
const engines: SyncEngine[] = [];
const stores: LocalStore[] = [];

async function device(server: FakeServer, dbName = `db-${++dbCount}`, debounceMs = 60_000) {
  const store = await openLocalStore(dbName);
  const engine = new SyncEngine(store, new Transport('', memoryTokens(), server.fetch), { debounceMs });
  await engine.load();
  engines.push(engine);
  stores.push(store);
  return { engine, store, dbName };
}

afterEach(() => {
  for (const e of engines.splice(0)) e.stop();
  for (const s of stores.splice(0)) s.close();
  vi.useRealTimers();
});

function course(id: string, patch: Partial<Course> = {}): Course {
  return { ...blankCourse(new Date('2026-03-01T12:00:00Z')), id, title: `Course ${id}`, ...patch };
}

describe('pending queue', () => {
  it('keeps edits made while the server is down across a reload and sends them later', async () => {
    const server = new FakeServer();
    server.down = true;
    const { engine, store, dbName } = await device(server);
    await engine.upsert(course('a'));
    await engine.flush();
    expect(engine.getSnapshot().state).toBe('offline');
    expect(engine.getSnapshot().pending).toBe(1);
    engine.stop();
    store.close();

    const again = await device(server, dbName);
    expect(again.engine.getSnapshot().courses.map((c) => c.id)).toEqual(['a']);
    expect(again.engine.getSnapshot().pending).toBe(1);
    server.down = false;
    await again.engine.flush();
    expect(server.courses.get('a')?.title).toBe('Course a');
    expect(again.engine.getSnapshot().pending).toBe(0);
    expect(again.engine.getSnapshot().state).toBe('synced');
  });

  it('coalesces several edits of one course into one write carrying the last values', async () => {
    const server = new FakeServer();
    const { engine } = await device(server);
    await engine.upsert(course('a', { completionRatio: 10 }));
    await engine.upsert(course('a', { completionRatio: 20 }));
    await engine.upsert(course('a', { completionRatio: 30 }));
    await engine.flush();
    const puts = server.requests.filter((r) => r.method === 'PUT');
    expect(puts).toHaveLength(1);
    expect((puts[0].body as Course).completionRatio).toBe(30);
  });

  it('waits for the debounce before sending', async () => {
    const server = new FakeServer();
    const { engine } = await device(server, undefined, 500);
    // Only the engine's timers are faked: IndexedDB's own scheduling stays real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    await engine.upsert(course('a'));
    await vi.advanceTimersByTimeAsync(499);
    expect(server.requests.filter((r) => r.method === 'PUT')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await engine.idle();
    expect(server.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);
  });

  it('sends If-Match with the base rev once the course is known to the server', async () => {
    const server = new FakeServer();
    const { engine } = await device(server);
    await engine.upsert(course('a'));
    await engine.flush();
    const rev = engine.baseOf('a')?.rev;
    expect(rev).toBe(1);
    await engine.upsert({ ...engine.course('a')!, notes: 'n' });
    await engine.flush();
    const last = server.requests.at(-1)!;
    expect(last.method).toBe('PUT');
    expect(last.ifMatch).toBe('"1"');
    expect(engine.baseOf('a')?.rev).toBe(2);
  });

  it('deletes on the server with If-Match, and never contacts it for a course it never had', async () => {
    const server = new FakeServer();
    const { engine } = await device(server);
    await engine.upsert(course('a'));
    await engine.flush();
    await engine.remove('a');
    await engine.upsert(course('local-only'));
    await engine.remove('local-only');
    await engine.flush();
    expect(server.courses.has('a')).toBe(false);
    const deletes = server.requests.filter((r) => r.method === 'DELETE');
    expect(deletes.map((d) => d.path)).toEqual(['/api/courses/a']);
    expect(deletes[0].ifMatch).toBe('"1"');
    expect(engine.getSnapshot().courses).toEqual([]);
    expect(engine.getSnapshot().pending).toBe(0);
  });

  it('parks a write the server refuses and shows the reason, while other writes go through', async () => {
    const server = new FakeServer();
    const { engine } = await device(server);
    await engine.upsert(course('bad', { title: '' }));
    await engine.upsert(course('good'));
    await engine.flush();
    expect(server.courses.has('good')).toBe(true);
    const snap = engine.getSnapshot();
    expect(snap.state).toBe('error');
    expect(snap.error).toContain('title must be 1..300 characters');
    expect(snap.pending).toBe(1);

    // Background syncs leave it parked; an edit or the user's retry sends it again.
    const puts = () => server.requests.filter((r) => r.method === 'PUT').length;
    const before = puts();
    await engine.syncNow();
    expect(puts()).toBe(before);
    await engine.upsert({ ...engine.course('bad')!, title: 'Fixed' });
    await engine.flush();
    expect(server.courses.get('bad')?.title).toBe('Fixed');
    expect(engine.getSnapshot().state).toBe('synced');
  });

  it('follows the change feed across pages', async () => {
    const server = new FakeServer();
    for (let i = 0; i < 5; i++) server.write(course(`p${i}`));
    const realFetch = server.fetch;
    // Serve the feed two courses at a time, as the API does past its page limit.
    server.fetch = async (input, init) => {
      const url = new URL(String(input), 'http://test');
      if (url.pathname !== '/api/changes') return realFetch(input, init);
      const since = Number(url.searchParams.get('since'));
      const page = [...server.courses.values()].filter((c) => c.rev > since).sort((a, b) => a.rev - b.rev);
      const slice = page.slice(0, 2);
      const more = page.length > 2;
      const rev = more ? slice[slice.length - 1].rev : server.rev;
      return new Response(JSON.stringify({ since, rev, more, courses: slice, deleted: [] }), { status: 200 });
    };
    const { engine } = await device(server);
    await engine.pull();
    expect(engine.getSnapshot().courses.map((c) => c.id).sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
  });

  it('shows nothing as "empty" on a new device until the first pull answered', async () => {
    const server = new FakeServer();
    server.write(course('a'));
    const { engine } = await device(server);
    expect(engine.getSnapshot().ready).toBe(false);
    await engine.pull();
    expect(engine.getSnapshot().ready).toBe(true);
  });
});

describe('conflicts', () => {
  it('merges a stale write with another device’s change to a different field, silently', async () => {
    const server = new FakeServer();
    const { engine } = await device(server);
    await engine.upsert(course('a'));
    await engine.flush();
    server.write({ id: 'a', title: 'Renamed elsewhere' });
    await engine.upsert({ ...engine.course('a')!, completionRatio: 40, status: 'In Progress' });
    await engine.flush();
    const s = server.courses.get('a')!;
    expect(s.title).toBe('Renamed elsewhere');
    expect(s.completionRatio).toBe(40);
    expect(engine.course('a')?.title).toBe('Renamed elsewhere');
    expect(engine.getSnapshot().notices).toEqual([]);
    expect(server.requests.filter((r) => r.method === 'PUT').map((r) => r.ifMatch)).toEqual([null, '"1"', '"2"']);
  });

  it('keeps the local edit when both changed the same field and tells the user', async () => {
    const server = new FakeServer();
    const { engine } = await device(server);
    await engine.upsert(course('a'));
    await engine.flush();
    server.write({ id: 'a', notes: 'theirs' });
    await engine.upsert({ ...engine.course('a')!, notes: 'mine' });
    await engine.flush();
    expect(server.courses.get('a')?.notes).toBe('mine');
    const notices = engine.getSnapshot().notices;
    expect(notices).toHaveLength(1);
    expect(notices[0].message).toContain('notes');
  });

  it('recreates a course deleted elsewhere when it was edited here', async () => {
    const server = new FakeServer();
    const { engine } = await device(server);
    await engine.upsert(course('a'));
    await engine.flush();
    server.courses.delete('a');
    server.tombstones.set('a', ++server.rev);
    await engine.upsert({ ...engine.course('a')!, notes: 'keep me' });
    await engine.flush();
    expect(server.courses.get('a')?.notes).toBe('keep me');
  });
});

describe('pulling the change feed', () => {
  it('shows another device’s new, changed and deleted courses', async () => {
    const server = new FakeServer();
    const one = await device(server);
    const two = await device(server);
    await one.engine.upsert(course('a'));
    await one.engine.upsert(course('b'));
    await one.engine.flush();
    await two.engine.pull();
    expect(two.engine.getSnapshot().courses.map((c) => c.id).sort()).toEqual(['a', 'b']);

    await one.engine.upsert({ ...one.engine.course('a')!, completionRatio: 55 });
    await one.engine.remove('b');
    await one.engine.flush();
    await two.engine.pull();
    expect(two.engine.course('a')?.completionRatio).toBe(55);
    expect(two.engine.course('b')).toBeNull();
    expect(server.requests.at(-2)?.path).toMatch(/^\/api\/changes\?since=\d+$/);
  });

  it('merges pulled changes into a course with a pending local edit', async () => {
    const server = new FakeServer();
    const { engine } = await device(server);
    server.write(course('a'));
    await engine.pull();
    await engine.upsert({ ...engine.course('a')!, isFavorite: true });
    server.write({ id: 'a', category: 'Music' });
    await engine.pull();
    expect(engine.course('a')?.isFavorite).toBe(true);
    expect(engine.course('a')?.category).toBe('Music');
    await engine.flush();
    expect(server.courses.get('a')?.isFavorite).toBe(true);
    expect(server.courses.get('a')?.category).toBe('Music');
  });

  it('keeps a pending setting over the server value until it is sent', async () => {
    const server = new FakeServer();
    server.settings.monthly_goal = 2;
    const { engine } = await device(server);
    await engine.pull();
    expect(engine.getSnapshot().settings.monthly_goal).toBe(2);
    server.down = true;
    await engine.setSetting('monthly_goal', 5);
    await engine.flush();
    server.down = false;
    await engine.pull();
    expect(engine.getSnapshot().settings.monthly_goal).toBe(5);
    await engine.flush();
    expect(server.settings.monthly_goal).toBe(5);
  });
});

describe('auth', () => {
  it('asks for a token on 401 and resumes with a bearer token once given', async () => {
    const server = new FakeServer();
    server.token = 's3cret';
    const { engine } = await device(server);
    await engine.upsert(course('a'));
    await engine.flush();
    expect(engine.getSnapshot().state).toBe('auth');
    engine.setToken('s3cret');
    await engine.idle();
    await engine.flush();
    expect(server.courses.has('a')).toBe(true);
    expect(engine.getSnapshot().state).toBe('synced');
  });

  it('keeps the queue through an ended session and sends it once resumed (a new session cookie)', async () => {
    const server = new FakeServer();
    const { engine } = await device(server);
    server.token = 'old-session-gone';
    await engine.upsert(course('a'));
    await engine.flush();
    expect(engine.getSnapshot().state).toBe('auth');
    // Nothing goes out while signed out, whatever triggers a round.
    const before = server.requests.length;
    await engine.syncNow();
    expect(server.requests.length).toBe(before);
    expect(engine.getSnapshot().pending).toBe(1);
    server.token = null;
    engine.resume();
    await engine.idle();
    await engine.flush();
    expect(server.courses.has('a')).toBe(true);
    expect(engine.getSnapshot().state).toBe('synced');
  });

  it('does nothing more once closed', async () => {
    const server = new FakeServer();
    const { engine } = await device(server);
    await engine.upsert(course('a'));
    await engine.close();
    await engine.syncNow();
    expect(server.requests.length).toBe(0);
  });
});
