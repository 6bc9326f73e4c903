import type { Course, Status } from '../api/types';
import { STATUSES } from '../api/types';
import { daysInMonth, daysUntil, lastMonths, monthKey, parseInstant } from './dates';

export interface LibraryStats {
  total: number;
  completed: number;
  inProgress: number;
  upNext: number;
  pending: number;
  averageProgress: number;
}

/** Aggregates over the courses given (callers pass the non-archived ones). */
export function libraryStats(courses: Course[]): LibraryStats {
  let completed = 0;
  let inProgress = 0;
  let upNext = 0;
  let pending = 0;
  let sum = 0;
  for (const c of courses) {
    sum += c.completionRatio;
    if (c.status === 'Completed') completed++;
    else if (c.status === 'In Progress') inProgress++;
    else if (c.status === 'Up Next') upNext++;
    else pending++;
  }
  return {
    total: courses.length,
    completed,
    inProgress,
    upNext,
    pending,
    averageProgress: courses.length ? Math.round(sum / courses.length) : 0,
  };
}

export function activeCourses(courses: Course[]): Course[] {
  return courses.filter((c) => !c.isArchived);
}

/** Completions per local month, counted by completedAt (not purchase date). */
export function completionsByMonth(courses: Course[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of courses) {
    if (c.status !== 'Completed') continue;
    const at = parseInstant(c.completedAt);
    if (!at) continue;
    const k = monthKey(at);
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

export function completionSeries(courses: Course[], months: number, now: Date = new Date()) {
  const by = completionsByMonth(courses);
  return lastMonths(months, now).map((key) => ({ key, count: by.get(key) ?? 0 }));
}

export interface GoalProgress {
  goal: number;
  completed: number;
  day: number;
  daysInMonth: number;
  /** Completions a steady pace would have reached by today. */
  expectedByNow: number;
  state: 'met' | 'on-track' | 'behind';
  remaining: number;
}

export function goalProgress(courses: Course[], goal: number, now: Date = new Date()): GoalProgress {
  const completed = completionsByMonth(courses).get(monthKey(now)) ?? 0;
  const dim = daysInMonth(now.getFullYear(), now.getMonth());
  const day = now.getDate();
  const expectedByNow = (goal * day) / dim;
  let state: GoalProgress['state'];
  if (goal > 0 && completed >= goal) state = 'met';
  else if (completed >= Math.floor(expectedByNow)) state = 'on-track';
  else state = 'behind';
  return {
    goal,
    completed,
    day,
    daysInMonth: dim,
    expectedByNow,
    state,
    remaining: Math.max(0, goal - completed),
  };
}

export function statusBreakdown(courses: Course[]): { status: Status; count: number }[] {
  return STATUSES.map((status) => ({ status, count: courses.filter((c) => c.status === status).length }));
}

export interface CategoryProgress {
  category: string;
  count: number;
  completed: number;
  averageProgress: number;
}

export function categoryLabel(c: string): string {
  return c.trim() === '' ? 'Uncategorised' : c.trim();
}

export function progressByCategory(courses: Course[]): CategoryProgress[] {
  const map = new Map<string, Course[]>();
  for (const c of courses) {
    const k = categoryLabel(c.category);
    const list = map.get(k);
    if (list) list.push(c);
    else map.set(k, [c]);
  }
  return [...map.entries()]
    .map(([category, list]) => {
      const s = libraryStats(list);
      return { category, count: list.length, completed: s.completed, averageProgress: s.averageProgress };
    })
    .sort((a, b) => b.count - a.count || a.category.localeCompare(b.category));
}

export interface DeadlineItem {
  course: Course;
  days: number;
}

/** Open (not completed) courses with a deadline, split into overdue and upcoming within `horizon` days. */
export function deadlines(courses: Course[], horizon: number, now: Date = new Date()) {
  const overdue: DeadlineItem[] = [];
  const upcoming: DeadlineItem[] = [];
  for (const c of courses) {
    if (!c.deadline || c.status === 'Completed' || c.isArchived) continue;
    const days = daysUntil(c.deadline, now);
    if (days === null) continue;
    if (days < 0) overdue.push({ course: c, days });
    else if (days <= horizon) upcoming.push({ course: c, days });
  }
  overdue.sort((a, b) => a.days - b.days);
  upcoming.sort((a, b) => a.days - b.days);
  return { overdue, upcoming };
}
