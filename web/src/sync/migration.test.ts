import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { SyncEngine } from './engine';
import { openLocalStore } from './store';
import { Transport, memoryTokens } from './transport';
import { FakeServer } from '../test/fakeServer';
import { MIGRATED_KEY, OLD_COURSES_KEY, OLD_GOAL_KEY, migrateOldData, readOldCourses } from './migration';

class MemStorage {
  m = new Map<string, string>();
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, v);
  }
}

const OLD = [
  { id: '6716873', title: 'Method of Loci', category: 'Improvement', date: '12/26/2025', completionRatio: 40, notes: '' },
  { id: 'shared', title: 'Already on server', category: 'Dev', date: '2025-01-02', completionRatio: 0 },
  { id: 'done1', title: 'Finished', category: 'Dev', date: '2025-01-02', completionRatio: '100', status: 'Completed' },
  { title: '', id: 'broken' },
];

async function setup(name: string) {
  const server = new FakeServer();
  server.write({ id: 'shared', title: 'Newer on server', completionRatio: 70 });
  const store = await openLocalStore(name);
  const engine = new SyncEngine(store, new Transport('', memoryTokens(), server.fetch), { debounceMs: 60_000 });
  await engine.load();
  return { server, engine, store };
}

describe('old-app migration', () => {
  it('reads old courses, converting dates and ratios, and drops invalid ones', () => {
    const s = new MemStorage();
    s.setItem(OLD_COURSES_KEY, JSON.stringify(OLD));
    const list = readOldCourses(s);
    expect(list.map((c) => c.id)).toEqual(['6716873', 'shared', 'done1']);
    expect(list[0].date).toBe('2025-12-26');
    expect(list[0].status).toBe('In Progress');
    expect(list[2].completionRatio).toBe(100);
  });

  it('imports once, by id, without touching courses the server already has', async () => {
    const { server, engine, store } = await setup('mig-1');
    const s = new MemStorage();
    s.setItem(OLD_COURSES_KEY, JSON.stringify(OLD));
    s.setItem(OLD_GOAL_KEY, '4');

    expect((await migrateOldData(engine, s)).ran).toBe(false); // server not reached yet
    await engine.pull();
    const r = await migrateOldData(engine, s);
    expect(r).toEqual({ ran: true, imported: 2, skipped: 1 });
    await engine.flush();
    expect([...server.courses.keys()].sort()).toEqual(['6716873', 'done1', 'shared']);
    expect(server.courses.get('shared')?.title).toBe('Newer on server');
    expect(server.settings.monthly_goal).toBe(4);
    expect(s.getItem(MIGRATED_KEY)).not.toBeNull();

    const puts = server.requests.filter((q) => q.method === 'PUT').length;
    expect((await migrateOldData(engine, s)).ran).toBe(false);
    await engine.flush();
    expect(server.requests.filter((q) => q.method === 'PUT').length).toBe(puts);
    engine.stop();
    store.close();
  });
});
