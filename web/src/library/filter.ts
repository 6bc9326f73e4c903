import type { Course, Status } from '../api/types';
import { categoryLabel } from '../domain/stats';

export type SortKey = 'manual' | 'date' | 'title' | 'progress' | 'deadline';

export interface LibraryFilter {
  query: string;
  category: string | null;
  status: Status | 'all';
  sort: SortKey;
  showArchived: boolean;
  favoritesOnly: boolean;
}

export const DEFAULT_FILTER: LibraryFilter = {
  query: '',
  category: null,
  status: 'all',
  sort: 'manual',
  showArchived: false,
  favoritesOnly: false,
};

export function byManualOrder(a: Course, b: Course): number {
  return a.sortOrder - b.sortOrder || b.date.localeCompare(a.date) || a.title.localeCompare(b.title) || a.id.localeCompare(b.id);
}

const SORTS: Record<SortKey, (a: Course, b: Course) => number> = {
  manual: byManualOrder,
  date: (a, b) => b.date.localeCompare(a.date) || a.title.localeCompare(b.title),
  title: (a, b) => a.title.localeCompare(b.title, undefined, { sensitivity: 'base' }),
  progress: (a, b) => b.completionRatio - a.completionRatio || a.title.localeCompare(b.title),
  // Courses without a deadline go last.
  deadline: (a, b) => (a.deadline ?? '9999').localeCompare(b.deadline ?? '9999') || a.title.localeCompare(b.title),
};

export function applyFilter(courses: Course[], f: LibraryFilter): Course[] {
  const q = f.query.trim().toLowerCase();
  return courses
    .filter((c) => f.showArchived || !c.isArchived)
    .filter((c) => f.category === null || categoryLabel(c.category) === f.category)
    .filter((c) => f.status === 'all' || c.status === f.status)
    .filter((c) => !f.favoritesOnly || c.isFavorite)
    .filter((c) => !q || c.title.toLowerCase().includes(q) || c.category.toLowerCase().includes(q) || c.notes.toLowerCase().includes(q))
    .sort(SORTS[f.sort]);
}

export function categoryCounts(courses: Course[], showArchived: boolean): { category: string; count: number }[] {
  const m = new Map<string, number>();
  for (const c of courses) {
    if (!showArchived && c.isArchived) continue;
    const k = categoryLabel(c.category);
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return [...m.entries()].map(([category, count]) => ({ category, count })).sort((a, b) => a.category.localeCompare(b.category));
}
