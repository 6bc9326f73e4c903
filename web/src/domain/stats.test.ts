import { describe, expect, it } from 'vitest';
import { completionSeries, deadlines, goalProgress, libraryStats, progressByCategory, statusBreakdown } from './stats';
import { blankCourse } from './course';
import type { Course } from '../api/types';

function c(id: string, p: Partial<Course> = {}): Course {
  return { ...blankCourse(new Date(2026, 0, 1)), id, title: id, ...p };
}

/** A completion at local noon on the given day, as the server would stamp it (UTC ISO). */
const doneAt = (y: number, m0: number, d: number, h = 12) => new Date(y, m0, d, h).toISOString();

describe('library stats', () => {
  it('counts statuses and averages progress', () => {
    const s = libraryStats([
      c('a', { status: 'Completed', completionRatio: 100 }),
      c('b', { status: 'In Progress', completionRatio: 50 }),
      c('c', { status: 'Up Next' }),
      c('d'),
    ]);
    expect(s).toEqual({ total: 4, completed: 1, inProgress: 1, upNext: 1, pending: 1, averageProgress: 38 });
  });

  it('gives zero, not NaN, for an empty library', () => {
    expect(libraryStats([]).averageProgress).toBe(0);
  });

  it('groups progress by category with a name for the uncategorised', () => {
    const rows = progressByCategory([c('a', { category: 'Dev', completionRatio: 20 }), c('b', { category: 'Dev', completionRatio: 40 }), c('x')]);
    expect(rows[0]).toEqual({ category: 'Dev', count: 2, completed: 0, averageProgress: 30 });
    expect(rows[1].category).toBe('Uncategorised');
  });

  it('breaks down by every status, zeros included', () => {
    expect(statusBreakdown([c('a')]).map((r) => r.count)).toEqual([1, 0, 0, 0]);
  });
});

describe('monthly goal', () => {
  const courses = [
    c('jan31', { status: 'Completed', completionRatio: 100, completedAt: doneAt(2026, 0, 31, 23) }),
    c('feb1', { status: 'Completed', completionRatio: 100, completedAt: doneAt(2026, 1, 1, 0) }),
    c('feb10', { status: 'Completed', completionRatio: 100, completedAt: doneAt(2026, 1, 10) }),
    // Bought in February but completed in January: counted by completedAt.
    c('bought-feb', { date: '2026-02-03', status: 'Completed', completionRatio: 100, completedAt: doneAt(2026, 0, 5) }),
    // completedAt left over on a course that is no longer completed does not count.
    c('reopened', { status: 'In Progress', completionRatio: 50, completedAt: doneAt(2026, 1, 4) }),
  ];

  it('counts completions in the current local month by completedAt', () => {
    const g = goalProgress(courses, 3, new Date(2026, 1, 14, 9));
    expect(g.completed).toBe(2);
    expect(g.daysInMonth).toBe(28);
    expect(g.remaining).toBe(1);
  });

  it('is on track when completions keep pace with the day of the month', () => {
    expect(goalProgress(courses, 3, new Date(2026, 1, 14)).state).toBe('on-track');
    expect(goalProgress(courses, 4, new Date(2026, 1, 28)).state).toBe('behind');
    expect(goalProgress(courses, 2, new Date(2026, 1, 2)).state).toBe('met');
    expect(goalProgress([], 2, new Date(2026, 1, 1)).state).toBe('on-track');
    expect(goalProgress([], 2, new Date(2026, 1, 28)).state).toBe('behind');
  });

  it('builds a twelve-month completion series ending this month', () => {
    const series = completionSeries(courses, 12, new Date(2026, 1, 14));
    expect(series).toHaveLength(12);
    expect(series.at(-1)).toEqual({ key: '2026-02', count: 2 });
    expect(series.at(-2)).toEqual({ key: '2026-01', count: 2 });
  });
});

describe('deadlines', () => {
  it('splits open courses into overdue and upcoming, soonest first', () => {
    const now = new Date(2026, 2, 31, 18);
    const { overdue, upcoming } = deadlines(
      [
        c('late', { deadline: '2026-03-30' }),
        c('today', { deadline: '2026-03-31' }),
        c('soon', { deadline: '2026-04-02' }),
        c('far', { deadline: '2026-06-01' }),
        c('done', { deadline: '2026-03-01', status: 'Completed' }),
      ],
      14,
      now,
    );
    expect(overdue.map((d) => [d.course.id, d.days])).toEqual([['late', -1]]);
    expect(upcoming.map((d) => [d.course.id, d.days])).toEqual([
      ['today', 0],
      ['soon', 2],
    ]);
  });
});
