import type { Course, EditableField } from '../api/types';
import { EDITABLE_FIELDS } from '../api/types';

export interface MergeResult {
  merged: Course;
  /** Fields both sides changed to different values; the local edit was kept. */
  conflicts: EditableField[];
}

function same(a: unknown, b: unknown): boolean {
  return a === b || (a == null && b == null);
}

/**
 * Three-way merge of one course. A field changed on one side only keeps that change;
 * a field changed on both sides keeps the local edit. Server-managed fields (rev,
 * timestamps) always come from the server, whose copy the result is based on.
 * Without a base (both sides created the same id) every difference counts as a conflict.
 */
export function mergeCourse(base: Course | null, local: Course, server: Course): MergeResult {
  const merged: Course = { ...server };
  const conflicts: EditableField[] = [];
  const out = merged as unknown as Record<EditableField, unknown>;
  for (const f of EDITABLE_FIELDS) {
    const l = local[f];
    const s = server[f];
    if (base === null) {
      if (!same(l, s)) conflicts.push(f);
      out[f] = l;
      continue;
    }
    const b = base[f];
    const localChanged = !same(l, b);
    const serverChanged = !same(s, b);
    if (localChanged && serverChanged && !same(l, s)) conflicts.push(f);
    out[f] = localChanged ? l : s;
  }
  // completedAt follows the merged status: keep whichever side's stamp matches it.
  if (merged.status === 'Completed') {
    merged.completedAt = server.status === 'Completed' ? server.completedAt : (local.completedAt ?? server.completedAt);
  } else {
    merged.completedAt = null;
  }
  return { merged, conflicts };
}

/** Fields whose values differ between two versions of a course. */
export function changedFields(a: Course, b: Course): EditableField[] {
  return EDITABLE_FIELDS.filter((f) => !same(a[f], b[f]));
}
