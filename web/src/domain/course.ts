import type { Course, Status } from '../api/types';
import { STATUSES } from '../api/types';
import { isIsoDate, toIsoDate } from './dates';

export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export interface FieldError {
  field: string;
  message: string;
}

/** The same rules, field names and wording as the API's validation. */
export function validateCourse(c: Partial<Course>): FieldError[] {
  const errors: FieldError[] = [];
  const id = c.id ?? '';
  if (!ID_PATTERN.test(id)) {
    errors.push({ field: 'id', message: 'id must be 1..64 characters of A-Z, a-z, 0-9, _ or -' });
  }
  const title = (c.title ?? '').trim();
  const titleLen = [...title].length;
  if (titleLen < 1 || titleLen > 300) {
    errors.push({ field: 'title', message: 'title must be 1..300 characters' });
  }
  const ratio = c.completionRatio;
  if (typeof ratio !== 'number' || !Number.isInteger(ratio) || ratio < 0 || ratio > 100) {
    errors.push({ field: 'completionRatio', message: 'completionRatio must be an integer from 0 to 100' });
  }
  if (c.status !== undefined && !STATUSES.includes(c.status)) {
    errors.push({ field: 'status', message: `status must be one of ${STATUSES.join(', ')}` });
  }
  const total = c.totalLessons ?? 0;
  const done = c.completedLessons ?? 0;
  if (!Number.isInteger(total) || total < 0) {
    errors.push({ field: 'totalLessons', message: 'totalLessons must be a non-negative integer' });
  }
  if (!Number.isInteger(done) || done < 0) {
    errors.push({ field: 'completedLessons', message: 'completedLessons must be a non-negative integer' });
  } else if (done > total) {
    errors.push({ field: 'completedLessons', message: 'completedLessons must not exceed totalLessons' });
  }
  if (c.date !== undefined && c.date !== '' && !isIsoDate(c.date)) {
    errors.push({ field: 'date', message: 'date must be an ISO 8601 date (YYYY-MM-DD)' });
  }
  if (c.deadline !== undefined && c.deadline !== null && c.deadline !== '' && !isIsoDate(c.deadline)) {
    errors.push({ field: 'deadline', message: 'deadline must be an ISO 8601 date (YYYY-MM-DD) or empty' });
  }
  return errors;
}

export function newId(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') {
    return crypto.randomUUID();
  }
  // randomUUID needs a secure context; a page served over plain http on a LAN address has none.
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function blankCourse(now: Date = new Date()): Course {
  return {
    id: newId(),
    title: '',
    category: '',
    date: toIsoDate(now),
    notes: '',
    completionRatio: 0,
    status: 'Pending',
    isFavorite: false,
    totalLessons: 0,
    completedLessons: 0,
    deadline: null,
    sortOrder: 0,
    pinnedToDashboard: false,
    isArchived: false,
    rev: 0,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    completedAt: null,
  };
}

/**
 * Applies the status rules after an edit of progress or status:
 * 100 % means Completed, leaving 0 % moves a Pending course to In Progress,
 * and completedAt follows the Completed status.
 */
export function applyProgressRules(prev: Course | null, next: Course, now: Date = new Date()): Course {
  const out = { ...next };
  const ratioChanged = !prev || prev.completionRatio !== next.completionRatio;
  if (ratioChanged) {
    if (out.completionRatio >= 100) out.status = 'Completed';
    else if (out.completionRatio > 0 && out.status === 'Pending') out.status = 'In Progress';
    else if (prev && prev.status === 'Completed' && out.status === 'Completed' && out.completionRatio < 100) {
      out.status = 'In Progress';
    }
  } else if (prev && prev.status !== out.status) {
    // Only the status changed: it decides the ratio, as the API does. Completed
    // means 100; leaving Completed must leave 100 too, which the API otherwise refuses.
    if (out.status === 'Completed') out.completionRatio = 100;
    else if (out.completionRatio >= 100) out.completionRatio = out.status === 'In Progress' ? 99 : 0;
  }
  if (out.status === 'Completed') {
    if (!prev || prev.status !== 'Completed' || !out.completedAt) out.completedAt = out.completedAt ?? now.toISOString();
  } else {
    out.completedAt = null;
  }
  return out;
}

export function clampRatio(n: number): number {
  return Math.max(0, Math.min(100, Math.round(n)));
}

/** Ratio implied by lessons, when the course counts lessons. */
export function ratioFromLessons(done: number, total: number): number | null {
  if (total <= 0) return null;
  return clampRatio((done / total) * 100);
}

export function statusFromRatio(ratio: number): Status {
  if (ratio >= 100) return 'Completed';
  if (ratio > 0) return 'In Progress';
  return 'Pending';
}

/** Fills in what an older or partial record lacks, coercing types where the meaning is clear. */
export function normalizeCourse(raw: Record<string, unknown>, now: Date = new Date()): Course {
  const base = blankCourse(now);
  const str = (v: unknown, d: string) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : d);
  const num = (v: unknown, d: number) => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    return Number.isFinite(n) ? n : d;
  };
  const bool = (v: unknown) => v === true || v === 'true' || v === 1;
  const ratio = clampRatio(num(raw.completionRatio ?? raw.completion_ratio ?? raw.progress, 0));
  const status = STATUSES.includes(raw.status as Status) ? (raw.status as Status) : statusFromRatio(ratio);
  const date = raw.date === null ? '' : str(raw.date, base.date);
  const deadline = typeof raw.deadline === 'string' && raw.deadline !== '' ? raw.deadline : null;
  return {
    ...base,
    id: str(raw.id, base.id),
    title: str(raw.title, ''),
    category: str(raw.category, ''),
    date,
    notes: str(raw.notes, ''),
    completionRatio: ratio,
    status,
    isFavorite: bool(raw.isFavorite),
    totalLessons: Math.max(0, Math.trunc(num(raw.totalLessons, 0))),
    completedLessons: Math.max(0, Math.trunc(num(raw.completedLessons, 0))),
    deadline,
    sortOrder: Math.trunc(num(raw.sortOrder, 0)),
    pinnedToDashboard: bool(raw.pinnedToDashboard),
    isArchived: bool(raw.isArchived),
    rev: Math.trunc(num(raw.rev, 0)),
    createdAt: str(raw.createdAt, base.createdAt),
    updatedAt: str(raw.updatedAt, base.updatedAt),
    completedAt: typeof raw.completedAt === 'string' ? raw.completedAt : null,
  };
}
