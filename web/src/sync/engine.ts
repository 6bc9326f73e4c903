// Local-first sync. Every change lands in the local copy and in a persistent queue at
// once; the queue is sent per course with If-Match after a short debounce, and the
// change feed is pulled on an interval and on focus/online. A 412 is answered by a
// three-way merge and a retry. No UI here: the app subscribes to snapshots.

import type { Course } from '../api/types';
import type { CourseRecord, LocalStore, QueueEntry, Batch } from './store';
import { mergeCourse } from './merge';
import { NetworkError, Transport, errorMessage } from './transport';
import { courseFromBody, editableBody, parseChanges, parseSettings, revFromBody } from './wire';

export type SyncState = 'synced' | 'saving' | 'offline' | 'error' | 'auth';

export interface Notice {
  id: number;
  message: string;
}

export interface SyncSnapshot {
  /** Every course present locally (deleted ones left out), in no particular order. */
  courses: Course[];
  settings: Record<string, unknown>;
  state: SyncState;
  pending: number;
  error: string | null;
  notices: Notice[];
  /** True once the local copy was read, so the first paint shows real data. */
  loaded: boolean;
  /** True once the server answered a pull at least once. */
  reachedServer: boolean;
  /**
   * True when the courses shown are worth showing: the local copy had synced before,
   * or the server answered, or it cannot be reached. A new device waits for its first
   * pull instead of flashing "your library is empty".
   */
  ready: boolean;
}

export interface EngineOptions {
  debounceMs?: number;
  pullIntervalMs?: number;
  /** Attach window focus/online/visibility listeners and timers. */
  autoPull?: boolean;
  now?: () => Date;
}

const SINCE_KEY = 'sinceRev';
const SETTINGS_KEY = 'settings';
const PENDING_SETTINGS_KEY = 'pendingSettings';
const MAX_MERGE_RETRIES = 5;

export class SyncEngine {
  private records = new Map<string, CourseRecord>();
  private queue = new Map<string, QueueEntry>();
  private settings: Record<string, unknown> = {};
  private pendingSettings: Record<string, unknown> = {};
  private sinceRev = 0;
  private listeners = new Set<() => void>();
  private snapshot: SyncSnapshot;
  private debounceTimer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pullTimer: ReturnType<typeof setInterval> | null = null;
  private lock: Promise<unknown> = Promise.resolve();
  private seq = 0;
  private noticeSeq = 0;
  private notices: Notice[] = [];
  private offline = false;
  private needsAuth = false;
  private closed = false;
  private transientError: string | null = null;
  private inFlight = 0;
  private loaded = false;
  private reachedServer = false;
  private retryDelay = 1000;
  private detach: (() => void)[] = [];
  private readonly debounceMs: number;
  private readonly pullIntervalMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly store: LocalStore,
    readonly transport: Transport,
    private readonly opts: EngineOptions = {},
  ) {
    this.debounceMs = opts.debounceMs ?? 500;
    this.pullIntervalMs = opts.pullIntervalMs ?? 3000;
    this.now = opts.now ?? (() => new Date());
    this.snapshot = this.buildSnapshot();
  }

  // ---- lifecycle -------------------------------------------------------------

  async load(): Promise<void> {
    const { records, queue, meta } = await this.store.loadAll();
    for (const r of records) this.records.set(r.id, r);
    for (const e of queue) {
      this.queue.set(e.key, e);
      this.seq = Math.max(this.seq, e.seq);
    }
    this.sinceRev = Number(meta.get(SINCE_KEY) ?? 0) || 0;
    this.settings = (meta.get(SETTINGS_KEY) as Record<string, unknown>) ?? {};
    this.pendingSettings = (meta.get(PENDING_SETTINGS_KEY) as Record<string, unknown>) ?? {};
    this.loaded = true;
    this.emit();
  }

  /** Starts pulling and sending; with autoPull, also the interval and window events. */
  start(): void {
    if (this.opts.autoPull && typeof window !== 'undefined') {
      const onFocus = () => void this.syncNow();
      const onOnline = () => {
        this.offline = false;
        void this.syncNow();
      };
      const onOffline = () => {
        this.offline = true;
        this.emit();
      };
      const onVisible = () => {
        if (document.visibilityState === 'visible') void this.syncNow();
      };
      window.addEventListener('focus', onFocus);
      window.addEventListener('online', onOnline);
      window.addEventListener('offline', onOffline);
      document.addEventListener('visibilitychange', onVisible);
      this.detach.push(
        () => window.removeEventListener('focus', onFocus),
        () => window.removeEventListener('online', onOnline),
        () => window.removeEventListener('offline', onOffline),
        () => document.removeEventListener('visibilitychange', onVisible),
      );
      this.pullTimer = setInterval(() => {
        if (document.visibilityState === 'visible') void this.syncNow();
      }, this.pullIntervalMs);
    }
    void this.syncNow();
  }

  stop(): void {
    for (const d of this.detach) d();
    this.detach = [];
    if (this.pullTimer) clearInterval(this.pullTimer);
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.pullTimer = this.debounceTimer = this.retryTimer = null;
  }

  /** Stops and lets go of the local store (another account's copy is opened next). */
  async close(): Promise<void> {
    this.stop();
    this.closed = true;
    this.listeners.clear();
    await this.lock;
    this.store.close();
  }

  /** Resolves once every write issued so far reached the local store and queued work settled. */
  async idle(): Promise<void> {
    await this.lock;
  }

  // ---- reading ---------------------------------------------------------------

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  getSnapshot = (): SyncSnapshot => this.snapshot;

  course(id: string): Course | null {
    return this.records.get(id)?.local ?? null;
  }

  /** The last server-confirmed copy (for tests and diagnostics). */
  baseOf(id: string): Course | null {
    return this.records.get(id)?.base ?? null;
  }

  pendingCount(): number {
    return this.queue.size;
  }

  // ---- local edits -------------------------------------------------------------

  upsert(course: Course): Promise<void> {
    const prev = this.records.get(course.id);
    const local: Course = { ...course, updatedAt: this.now().toISOString() };
    const rec: CourseRecord = { id: course.id, local, base: prev?.base ?? null };
    return this.enqueueCourse(rec);
  }

  upsertMany(courses: Course[]): Promise<void> {
    return Promise.all(courses.map((c) => this.upsert(c))).then(() => undefined);
  }

  remove(id: string): Promise<void> {
    const prev = this.records.get(id);
    if (!prev) return Promise.resolve();
    return this.enqueueCourse({ id, local: null, base: prev.base });
  }

  /** Settings are JSON values (monthly_goal is an integer). */
  setSetting(key: string, value: unknown): Promise<void> {
    this.settings = { ...this.settings, [key]: value };
    this.pendingSettings = { ...this.pendingSettings, [key]: value };
    const entry = this.queueEntry('setting', key);
    const write = this.store.write({
      queue: [entry],
      meta: [
        [SETTINGS_KEY, this.settings],
        [PENDING_SETTINGS_KEY, this.pendingSettings],
      ],
    });
    this.emit();
    this.scheduleFlush();
    return write;
  }

  private enqueueCourse(rec: CourseRecord): Promise<void> {
    this.records.set(rec.id, rec);
    const entry = this.queueEntry('course', rec.id);
    const write = this.store.write({ records: [rec], queue: [entry] });
    this.emit();
    this.scheduleFlush();
    return write;
  }

  private queueEntry(kind: QueueEntry['kind'], target: string): QueueEntry {
    const key = `${kind}:${target}`;
    const prev = this.queue.get(key);
    const entry: QueueEntry = { key, kind, target, seq: ++this.seq, enqueuedAt: prev?.enqueuedAt ?? Date.now() };
    this.queue.set(key, entry);
    return entry;
  }

  // ---- notices -----------------------------------------------------------------

  dismissNotice(id: number): void {
    this.notices = this.notices.filter((n) => n.id !== id);
    this.emit();
  }

  private notify(message: string): void {
    this.notices = [...this.notices, { id: ++this.noticeSeq, message }];
  }

  // ---- auth --------------------------------------------------------------------

  setToken(token: string): void {
    this.transport.tokens.set(token.trim() || null);
    this.resume();
  }

  /** Signed in again (a new session cookie): the queue kept meanwhile goes out now. */
  resume(): void {
    this.needsAuth = false;
    for (const e of this.queue.values()) if (e.failed) delete e.failed;
    this.emit();
    void this.syncNow();
  }

  // ---- talking to the server ---------------------------------------------------

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const guarded = (): Promise<T> => (this.closed ? Promise.resolve(undefined as T) : fn());
    const run = this.lock.then(guarded, guarded);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private scheduleFlush(): void {
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = null;
      void this.flush();
    }, this.debounceMs);
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, 15_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.syncNow();
    }, delay);
  }

  /** Push what is pending, then pull; also what the error state's "retry" does. */
  async syncNow(): Promise<void> {
    await this.flush();
    await this.pull();
  }

  /** The user's "retry": also resends writes the server refused before. */
  retry(): Promise<void> {
    this.transientError = null;
    for (const e of this.queue.values()) if (e.failed) delete e.failed;
    this.emit();
    return this.syncNow();
  }

  flush(): Promise<void> {
    return this.serial(async () => {
      if (this.needsAuth) return;
      for (const entry of [...this.queue.values()]) {
        if (entry.failed) continue;
        const ok = await this.sendOne(entry);
        if (!ok) break;
      }
      this.emit();
    });
  }

  pull(): Promise<void> {
    return this.serial(async () => {
      if (this.needsAuth) return;
      try {
        // A long feed comes in pages; `more` says another page follows.
        for (let page = 0; page < 1000; page++) {
          const res = await this.transport.request(`/api/changes?since=${this.sinceRev}`);
          if (!this.handleCommon(res.status, res.body)) return;
          if (res.status === 409) {
            // The server's data was restored or replaced behind our back: replay from the start.
            this.sinceRev = 0;
            continue;
          }
          const feed = parseChanges(res.body);
          if (res.status !== 200 || !feed) {
            this.transientError = `unexpected answer to /api/changes (${res.status})`;
            return;
          }
          this.applyFeed(feed.courses, feed.deleted, feed.rev);
          if (!feed.more) break;
        }
        await this.pullSettings();
        this.markOnline();
        this.reachedServer = true;
      } catch (e) {
        this.handleThrown(e);
      } finally {
        this.emit();
      }
      // Edits made while offline go out as soon as the server answers again.
      if (this.queue.size > 0 && !this.offline && !this.debounceTimer) this.scheduleFlush();
    });
  }

  private async pullSettings(): Promise<void> {
    const res = await this.transport.request('/api/settings');
    if (res.status !== 200) return;
    const server = parseSettings(res.body);
    const next = { ...this.settings, ...server };
    for (const [k, v] of Object.entries(this.pendingSettings)) next[k] = v;
    if (JSON.stringify(next) !== JSON.stringify(this.settings)) {
      this.settings = next;
      await this.store.write({ meta: [[SETTINGS_KEY, next]] });
    }
  }

  private applyFeed(courses: Course[], deleted: string[], rev: number): void {
    const batch: Required<Pick<Batch, 'records' | 'deleteRecords'>> = { records: [], deleteRecords: [] };
    for (const server of courses) {
      const rec = this.records.get(server.id);
      const pending = this.queue.has(`course:${server.id}`);
      if (!rec || !pending) {
        const next = { id: server.id, local: server, base: server };
        this.records.set(server.id, next);
        batch.records.push(next);
        continue;
      }
      if (rec.base && server.rev <= rec.base.rev) continue;
      if (rec.local === null) {
        // Deleted here, changed there: the delete still goes out, against the newer rev.
        const next = { id: server.id, local: null, base: server };
        this.records.set(server.id, next);
        batch.records.push(next);
        continue;
      }
      const { merged, conflicts } = mergeCourse(rec.base, rec.local, server);
      this.reportConflicts(merged, conflicts);
      const next = { id: server.id, local: merged, base: server };
      this.records.set(server.id, next);
      batch.records.push(next);
    }
    for (const id of deleted) {
      const rec = this.records.get(id);
      if (!rec) continue;
      const pending = this.queue.has(`course:${id}`);
      if (pending && rec.local) {
        // Edited here, deleted there: keep the edit, it will be written back as new.
        const next = { id, local: rec.local, base: null };
        this.records.set(id, next);
        batch.records.push(next);
      } else {
        this.records.delete(id);
        batch.deleteRecords.push(id);
        if (pending) {
          this.queue.delete(`course:${id}`);
        }
      }
    }
    this.sinceRev = Math.max(this.sinceRev, rev);
    void this.store.write({
      ...batch,
      deleteQueue: deleted.filter((id) => !this.queue.has(`course:${id}`)).map((id) => `course:${id}`),
      meta: [[SINCE_KEY, this.sinceRev]],
    });
  }

  private reportConflicts(c: Course, fields: string[]): void {
    if (fields.length === 0) return;
    const title = c.title.length > 40 ? `${c.title.slice(0, 39)}…` : c.title;
    this.notify(`“${title}” was also changed on another device (${fields.join(', ')}); your edit was kept.`);
  }

  /** Sends one queue entry; false stops the round (offline, auth, server trouble). */
  private async sendOne(entry: QueueEntry): Promise<boolean> {
    this.inFlight++;
    this.emit();
    try {
      if (entry.kind === 'setting') return await this.sendSetting(entry);
      return await this.sendCourse(entry);
    } catch (e) {
      this.handleThrown(e);
      return false;
    } finally {
      this.inFlight--;
    }
  }

  private async sendSetting(entry: QueueEntry): Promise<boolean> {
    const value = this.pendingSettings[entry.target];
    if (entry.target in this.pendingSettings) {
      const res = await this.transport.request(`/api/settings/${encodeURIComponent(entry.target)}`, {
        method: 'POST',
        json: { value },
      });
      if (!this.handleCommon(res.status, res.body)) return false;
      if (res.status >= 400) return this.refuse(entry, res.body, res.status);
    }
    this.markOnline();
    if (this.queue.get(entry.key)?.seq === entry.seq) {
      this.queue.delete(entry.key);
      const rest = { ...this.pendingSettings };
      delete rest[entry.target];
      this.pendingSettings = rest;
      await this.store.write({ deleteQueue: [entry.key], meta: [[PENDING_SETTINGS_KEY, rest]] });
    }
    return true;
  }

  private async sendCourse(entry: QueueEntry): Promise<boolean> {
    const id = entry.target;
    for (let attempt = 0; attempt < MAX_MERGE_RETRIES; attempt++) {
      const rec = this.records.get(id);
      if (!rec) {
        await this.dropEntry(entry);
        return true;
      }
      const path = `/api/courses/${encodeURIComponent(id)}`;
      const headers: Record<string, string> = {};
      if (rec.base) headers['If-Match'] = `"${rec.base.rev}"`;

      if (rec.local === null) {
        if (!rec.base) {
          // Never reached the server: nothing to delete there.
          this.records.delete(id);
          await this.store.write({ deleteRecords: [id] });
          await this.dropEntry(entry);
          return true;
        }
        const res = await this.transport.request(path, { method: 'DELETE', headers });
        if (!this.handleCommon(res.status, res.body)) return false;
        const gone = res.status === 412 && courseFromBody(res.body) === null;
        if (res.status === 412 && !gone) {
          rec.base = courseFromBody(res.body);
          continue;
        }
        if (res.status < 300 || res.status === 404 || gone) {
          this.markOnline();
          if (this.queue.get(entry.key)?.seq === entry.seq) {
            this.records.delete(id);
            await this.store.write({ deleteRecords: [id] });
            await this.dropEntry(entry);
          }
          return true;
        }
        return this.refuse(entry, res.body, res.status);
      }

      const sent = rec.local;
      const res = await this.transport.request(path, { method: 'PUT', headers, json: editableBody(sent) });
      if (!this.handleCommon(res.status, res.body)) return false;
      if (res.status === 412) {
        const server = courseFromBody(res.body);
        if (!server) {
          // Deleted on the server meanwhile; the local edit wins and recreates it.
          this.records.set(id, { id, local: rec.local, base: null });
          continue;
        }
        const current = this.records.get(id);
        const local = current?.local ?? sent;
        const { merged, conflicts } = mergeCourse(rec.base, local, server);
        this.reportConflicts(merged, conflicts);
        const next = { id, local: merged, base: server };
        this.records.set(id, next);
        await this.store.write({ records: [next] });
        this.emit();
        continue;
      }
      if (res.status === 404 && rec.base) {
        // Deleted on the server meanwhile; the local edit wins and recreates it.
        const next = { id, local: rec.local, base: null };
        this.records.set(id, next);
        continue;
      }
      if (res.status >= 200 && res.status < 300) {
        this.markOnline();
        const rev = revFromBody(res.body);
        const confirmed = courseFromBody(res.body) ?? { ...sent, rev: rev ?? (rec.base?.rev ?? 0) + 1 };
        const current = this.records.get(id);
        const stillSame = this.queue.get(entry.key)?.seq === entry.seq;
        const next: CourseRecord = stillSame
          ? { id, local: confirmed, base: confirmed }
          : { id, local: current?.local ? { ...current.local, rev: confirmed.rev } : null, base: confirmed };
        this.records.set(id, next);
        await this.store.write({ records: [next] });
        if (stillSame) await this.dropEntry(entry);
        return true;
      }
      return this.refuse(entry, res.body, res.status);
    }
    return this.refuse(entry, null, 412);
  }

  private async dropEntry(entry: QueueEntry): Promise<void> {
    if (this.queue.get(entry.key)?.seq !== entry.seq) return;
    this.queue.delete(entry.key);
    await this.store.write({ deleteQueue: [entry.key] });
  }

  /** A 4xx that retrying will not fix: park the entry and say why. */
  private async refuse(entry: QueueEntry, body: unknown, status: number): Promise<boolean> {
    if (status >= 500) {
      this.transientError = errorMessage(body, `server error ${status}`);
      this.scheduleRetry();
      return false;
    }
    const what = entry.kind === 'course' ? (this.records.get(entry.target)?.local?.title ?? entry.target) : entry.target;
    entry.failed = `${what}: ${errorMessage(body, `refused (${status})`)}`;
    await this.store.write({ queue: [entry] });
    return true;
  }

  /** Handles 401 and 5xx for every request; false means stop this round. */
  private handleCommon(status: number, body: unknown): boolean {
    if (status === 401) {
      this.needsAuth = true;
      return false;
    }
    if (status >= 500) {
      this.transientError = errorMessage(body, `server error ${status}`);
      this.scheduleRetry();
      return false;
    }
    return true;
  }

  private handleThrown(e: unknown): void {
    if (e instanceof NetworkError) {
      this.offline = true;
      this.scheduleRetry();
    } else {
      this.transientError = e instanceof Error ? e.message : String(e);
      this.scheduleRetry();
    }
  }

  private markOnline(): void {
    this.offline = false;
    this.transientError = null;
    this.retryDelay = 1000;
  }

  // ---- snapshots -----------------------------------------------------------------

  private emit(): void {
    this.snapshot = this.buildSnapshot();
    for (const l of this.listeners) l();
  }

  private buildSnapshot(): SyncSnapshot {
    const courses: Course[] = [];
    for (const r of this.records.values()) if (r.local) courses.push(r.local);
    const failed = [...this.queue.values()].find((e) => e.failed);
    let state: SyncState;
    if (this.needsAuth) state = 'auth';
    else if (this.offline) state = 'offline';
    else if (failed || this.transientError) state = 'error';
    else if (this.queue.size > 0 || this.inFlight > 0) state = 'saving';
    else state = 'synced';
    return {
      courses,
      settings: this.settings,
      state,
      pending: this.queue.size,
      error: failed?.failed ?? this.transientError,
      notices: this.notices,
      loaded: this.loaded,
      reachedServer: this.reachedServer,
      ready: this.loaded && (this.sinceRev > 0 || this.records.size > 0 || this.reachedServer || this.offline || this.needsAuth || !!this.transientError),
    };
  }
}
