import { describe, expect, it } from 'vitest';
import { courseFromBody, editableBody, parseChanges } from './wire';
import { blankCourse } from '../domain/course';

const wireCourse = {
  id: 'abc',
  title: 'X',
  category: '',
  date: null,
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
  rev: 7,
  createdAt: '2026-11-26T08:12:02.453Z',
  updatedAt: '2026-11-26T08:12:02.453Z',
  completedAt: null,
};

describe('wire format', () => {
  it('reads the current copy out of a 412 body, and nothing when the course is gone', () => {
    const body = { error: { code: 'precondition_failed', message: 'stale' }, current: wireCourse };
    expect(courseFromBody(body)?.rev).toBe(7);
    expect(courseFromBody({ error: { code: 'precondition_failed', message: 'gone' }, current: null })).toBeNull();
  });

  it('keeps a missing purchase date missing, both ways', () => {
    const c = courseFromBody(wireCourse)!;
    expect(c.date).toBe('');
    expect(editableBody(c).date).toBeNull();
    expect(editableBody({ ...blankCourse(), date: '2025-01-02' }).date).toBe('2025-01-02');
  });

  it('sends no server-managed field', () => {
    const body = editableBody(courseFromBody(wireCourse)!);
    for (const f of ['rev', 'createdAt', 'updatedAt', 'completedAt']) expect(body).not.toHaveProperty(f);
  });

  it('reads a change-feed page with its high-water rev and the more flag', () => {
    const feed = parseChanges({ since: 0, rev: 9, more: true, courses: [wireCourse], deleted: ['gone-1'] })!;
    expect(feed.courses.map((c) => c.id)).toEqual(['abc']);
    expect(feed.deleted).toEqual(['gone-1']);
    expect(feed.rev).toBe(9);
    expect(feed.more).toBe(true);
    expect(parseChanges({ courses: [] })).toBeNull();
  });
});
