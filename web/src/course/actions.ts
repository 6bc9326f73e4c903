// What the UI can do to a course, expressed as edits handed to the sync engine.
// Keeps the status rules in one place for every button that changes progress.

import type { Course } from '../api/types';
import { applyProgressRules, clampRatio, newId, ratioFromLessons } from '../domain/course';
import type { SyncEngine } from '../sync/engine';

export function saveEdit(engine: SyncEngine, prev: Course | null, next: Course): Promise<void> {
  return engine.upsert(applyProgressRules(prev, next));
}

export function patchCourse(engine: SyncEngine, c: Course, patch: Partial<Course>): Promise<void> {
  return saveEdit(engine, c, { ...c, ...patch });
}

export function bumpProgress(engine: SyncEngine, c: Course, delta: number): Promise<void> {
  const completionRatio = clampRatio(c.completionRatio + delta);
  const patch: Partial<Course> = { completionRatio };
  if (c.totalLessons > 0) {
    patch.completedLessons = Math.min(c.totalLessons, Math.round((completionRatio / 100) * c.totalLessons));
  }
  return patchCourse(engine, c, patch);
}

export function setLessons(engine: SyncEngine, c: Course, done: number): Promise<void> {
  const completedLessons = Math.max(0, Math.min(c.totalLessons, done));
  const ratio = ratioFromLessons(completedLessons, c.totalLessons);
  return patchCourse(engine, c, { completedLessons, ...(ratio !== null ? { completionRatio: ratio } : {}) });
}

export function duplicate(engine: SyncEngine, c: Course): Promise<void> {
  const now = new Date().toISOString();
  return engine.upsert({
    ...c,
    id: newId(),
    title: `${c.title} (copy)`.slice(0, 300),
    rev: 0,
    createdAt: now,
    updatedAt: now,
    pinnedToDashboard: false,
  });
}

/**
 * Moves a course one place up or down in manual order among `ordered` (the list as
 * shown). Equal sortOrders (imports leave many at 0) are renumbered first so the
 * move is well defined; only courses whose number changes are written.
 */
export function move(engine: SyncEngine, ordered: Course[], id: string, dir: -1 | 1): Promise<void> {
  const i = ordered.findIndex((c) => c.id === id);
  const j = i + dir;
  if (i < 0 || j < 0 || j >= ordered.length) return Promise.resolve();
  const list = ordered.slice();
  [list[i], list[j]] = [list[j], list[i]];
  const writes: Promise<void>[] = [];
  list.forEach((c, idx) => {
    if (c.sortOrder !== idx) writes.push(engine.upsert({ ...c, sortOrder: idx }));
  });
  return Promise.all(writes).then(() => undefined);
}
