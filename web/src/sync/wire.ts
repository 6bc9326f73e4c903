// Reading the API's JSON into client types, tolerant of envelope shape so a
// wrapper object ({course: ...}) and a bare course read the same.

import type { Course } from '../api/types';
import { normalizeCourse } from '../domain/course';

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function looksLikeCourse(v: unknown): v is Record<string, unknown> {
  return isObj(v) && typeof v.id === 'string' && 'title' in v;
}

export function courseFromBody(body: unknown): Course | null {
  if (looksLikeCourse(body)) return normalizeCourse(body);
  if (isObj(body)) {
    for (const k of ['course', 'current', 'server', 'data']) {
      if (looksLikeCourse(body[k])) return normalizeCourse(body[k] as Record<string, unknown>);
    }
    if (isObj(body.error)) {
      for (const k of ['current', 'course']) {
        const inner = (body.error as Record<string, unknown>)[k];
        if (looksLikeCourse(inner)) return normalizeCourse(inner);
      }
    }
  }
  return null;
}

export function revFromBody(body: unknown): number | null {
  if (isObj(body) && typeof body.rev === 'number') return body.rev;
  return null;
}

export interface ChangeFeed {
  courses: Course[];
  deleted: string[];
  rev: number;
  more: boolean;
}

export function parseChanges(body: unknown): ChangeFeed | null {
  if (!isObj(body)) return null;
  const list = (body.courses ?? body.changes ?? body.changed ?? body.updated) as unknown;
  const del = (body.deleted ?? body.deletedIds ?? body.tombstones) as unknown;
  const rev = body.rev ?? body.highWater ?? body.high_water ?? body.latest ?? body.until;
  if (typeof rev !== 'number') return null;
  const courses = Array.isArray(list) ? list.filter(looksLikeCourse).map((c) => normalizeCourse(c)) : [];
  const deleted = Array.isArray(del)
    ? del.map((d) => (typeof d === 'string' ? d : isObj(d) && typeof d.id === 'string' ? d.id : null)).filter((d): d is string => d !== null)
    : [];
  return { courses, deleted, rev, more: body.more === true };
}

/** GET /api/settings: an object of JSON values, kept as they are. */
export function parseSettings(body: unknown): Record<string, unknown> {
  const src = isObj(body) && isObj(body.settings) ? body.settings : body;
  return isObj(src) ? { ...src } : {};
}

export function editableBody(c: Course): Record<string, unknown> {
  const { rev: _r, createdAt: _c, updatedAt: _u, completedAt: _d, ...rest } = c;
  // The server keeps "no purchase date" as null; locally it is the empty string.
  return { ...rest, date: rest.date === '' ? null : rest.date };
}
