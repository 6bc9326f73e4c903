// One-time move of the old app's data (localStorage) into the synced store.
// It waits until the server has answered once, so courses already on the server
// (the same ids, perhaps newer, from another device) are left alone: no duplicates,
// no overwrite. The done-mark lives in localStorage beside the old data.

import type { Course } from '../api/types';
import { normalizeCourse, validateCourse } from '../domain/course';
import { usDateToIso, isIsoDate } from '../domain/dates';
import type { SyncEngine } from './engine';

export const OLD_COURSES_KEY = 'skilltrack_courses';
export const OLD_GOAL_KEY = 'skilltrack_monthly_goal';
export const MIGRATED_KEY = 'skilltrack_migrated_v1';
export const DEFAULT_GOAL = 2;

export interface KeyValue {
  getItem(k: string): string | null;
  setItem(k: string, v: string): void;
}

export function readOldCourses(storage: KeyValue): Course[] {
  const raw = storage.getItem(OLD_COURSES_KEY);
  if (!raw) return [];
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!Array.isArray(list)) return [];
  const out: Course[] = [];
  list.forEach((item, i) => {
    if (!item || typeof item !== 'object') return;
    const rec = { ...(item as Record<string, unknown>) };
    if (rec.id === undefined || rec.id === null || rec.id === '') rec.id = `legacy-${i + 1}`;
    if (typeof rec.id === 'number') rec.id = String(rec.id);
    if (typeof rec.date === 'string' && !isIsoDate(rec.date)) {
      rec.date = usDateToIso(rec.date) ?? (rec.date.length >= 10 && isIsoDate(rec.date.slice(0, 10)) ? rec.date.slice(0, 10) : undefined);
    }
    if (typeof rec.deadline === 'string' && rec.deadline !== '' && !isIsoDate(rec.deadline)) {
      rec.deadline = usDateToIso(rec.deadline) ?? (isIsoDate(rec.deadline.slice(0, 10)) ? rec.deadline.slice(0, 10) : null);
    }
    const c = normalizeCourse(rec);
    if (c.completedLessons > c.totalLessons) c.completedLessons = c.totalLessons;
    if (c.status === 'Completed' && !c.completedAt) {
      // The old app kept no completion time; its last update is the best guess.
      c.completedAt = typeof rec.updatedAt === 'string' ? rec.updatedAt : null;
    }
    if (validateCourse(c).length === 0) out.push(c);
  });
  return out;
}

export interface MigrationResult {
  ran: boolean;
  imported: number;
  skipped: number;
}

/** Call after the engine reached the server once. Idempotent through the done-mark. */
export async function migrateOldData(engine: SyncEngine, storage: KeyValue): Promise<MigrationResult> {
  if (storage.getItem(MIGRATED_KEY)) return { ran: false, imported: 0, skipped: 0 };
  const snap = engine.getSnapshot();
  if (!snap.reachedServer) return { ran: false, imported: 0, skipped: 0 };
  const old = readOldCourses(storage);
  const fresh = old.filter((c) => engine.course(c.id) === null && engine.baseOf(c.id) === null);
  if (fresh.length > 0) await engine.upsertMany(fresh);
  const goal = storage.getItem(OLD_GOAL_KEY);
  // The server answers its default (2) for a goal nobody set; an old goal replaces only that.
  const current = snap.settings.monthly_goal;
  if (goal && /^\d+$/.test(goal.trim()) && (current === undefined || Number(current) === DEFAULT_GOAL)) {
    await engine.setSetting('monthly_goal', Number(goal.trim()));
  }
  storage.setItem(MIGRATED_KEY, new Date().toISOString());
  return { ran: true, imported: fresh.length, skipped: old.length - fresh.length };
}
