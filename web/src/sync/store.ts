// The device's copy of the data, in IndexedDB, so the app renders at once and keeps
// working with the server down. Three stores:
//   courses: per course the local version (null once deleted here) and the base,
//            the last copy the server confirmed, which the three-way merge needs;
//   queue:   pending operations, one entry per course or setting (later edits coalesce);
//   meta:    the change-feed high-water rev, settings and their pending values.

import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { Course } from '../api/types';

export interface CourseRecord {
  id: string;
  local: Course | null;
  base: Course | null;
}

export interface QueueEntry {
  /** "course:<id>" or "setting:<key>". */
  key: string;
  kind: 'course' | 'setting';
  target: string;
  /** Bumped on every local edit, so a send that raced an edit does not drop it. */
  seq: number;
  /** Set when the server refused the write for a reason retrying will not fix. */
  failed?: string;
  enqueuedAt: number;
}

interface Schema extends DBSchema {
  courses: { key: string; value: CourseRecord };
  queue: { key: string; value: QueueEntry };
  meta: { key: string; value: unknown };
}

/** One atomic change to the local copy. */
export interface Batch {
  records?: CourseRecord[];
  deleteRecords?: string[];
  queue?: QueueEntry[];
  deleteQueue?: string[];
  meta?: [string, unknown][];
}

export interface LocalStore {
  loadAll(): Promise<{ records: CourseRecord[]; queue: QueueEntry[]; meta: Map<string, unknown> }>;
  /** Transactions are created synchronously, so batches land in the order written. */
  write(batch: Batch): Promise<void>;
  close(): void;
}

export const DB_NAME = 'skilltrack';

export async function openLocalStore(name = DB_NAME): Promise<LocalStore> {
  const db: IDBPDatabase<Schema> = await openDB<Schema>(name, 1, {
    upgrade(d) {
      d.createObjectStore('courses', { keyPath: 'id' });
      d.createObjectStore('queue', { keyPath: 'key' });
      d.createObjectStore('meta');
    },
  });
  return {
    async loadAll() {
      const tx = db.transaction(['courses', 'queue', 'meta'], 'readonly');
      const [records, queue, metaKeys, metaValues] = await Promise.all([
        tx.objectStore('courses').getAll(),
        tx.objectStore('queue').getAll(),
        tx.objectStore('meta').getAllKeys(),
        tx.objectStore('meta').getAll(),
      ]);
      const meta = new Map<string, unknown>();
      metaKeys.forEach((k, i) => meta.set(String(k), metaValues[i]));
      return { records, queue, meta };
    },
    async write(b) {
      const tx = db.transaction(['courses', 'queue', 'meta'], 'readwrite');
      const ops: Promise<unknown>[] = [];
      for (const r of b.records ?? []) ops.push(tx.objectStore('courses').put(r));
      for (const id of b.deleteRecords ?? []) ops.push(tx.objectStore('courses').delete(id));
      for (const e of b.queue ?? []) ops.push(tx.objectStore('queue').put(e));
      for (const k of b.deleteQueue ?? []) ops.push(tx.objectStore('queue').delete(k));
      for (const [k, v] of b.meta ?? []) ops.push(tx.objectStore('meta').put(v, k));
      ops.push(tx.done);
      await Promise.all(ops);
    },
    close() {
      db.close();
    },
  };
}
