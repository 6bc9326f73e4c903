import { describe, expect, it } from 'vitest';
import { applyProgressRules, blankCourse, validateCourse, ID_PATTERN, newId } from './course';
import { splitLinks } from './links';

describe('course rules', () => {
  it('validates like the API', () => {
    const ok = { ...blankCourse(), title: 'T' };
    expect(validateCourse(ok)).toEqual([]);
    const fields = (p: object) => validateCourse({ ...ok, ...p }).map((e) => e.field);
    expect(fields({ id: '' })).toEqual(['id']);
    expect(fields({ id: 'a'.repeat(65) })).toEqual(['id']);
    expect(fields({ id: 'bad id' })).toEqual(['id']);
    expect(fields({ title: 'x'.repeat(301) })).toEqual(['title']);
    expect(fields({ completionRatio: 101 })).toEqual(['completionRatio']);
    expect(fields({ completionRatio: 2.5 })).toEqual(['completionRatio']);
    expect(fields({ totalLessons: 3, completedLessons: 4 })).toEqual(['completedLessons']);
    expect(fields({ deadline: '2025-02-30' })).toEqual(['deadline']);
  });

  it('generates ids the API accepts', () => {
    expect(ID_PATTERN.test(newId())).toBe(true);
  });

  it('marks a course Completed at 100 and In Progress when leaving 0', () => {
    const now = new Date('2026-05-01T10:00:00Z');
    const pending = { ...blankCourse(now), title: 'T' };
    const started = applyProgressRules(pending, { ...pending, completionRatio: 5 }, now);
    expect(started.status).toBe('In Progress');
    const done = applyProgressRules(started, { ...started, completionRatio: 100 }, now);
    expect(done.status).toBe('Completed');
    expect(done.completedAt).toBe(now.toISOString());
    const reopened = applyProgressRules(done, { ...done, completionRatio: 95 }, now);
    expect(reopened.status).toBe('In Progress');
    expect(reopened.completedAt).toBeNull();
    const upNext = { ...pending, status: 'Up Next' as const };
    expect(applyProgressRules(upNext, { ...upNext, completionRatio: 5 }, now).status).toBe('Up Next');
  });

  it('lets a status-only change decide the ratio, as the API does', () => {
    const now = new Date('2026-05-01T10:00:00Z');
    const done = { ...blankCourse(now), title: 'T', status: 'Completed' as const, completionRatio: 100 };
    const reopened = applyProgressRules(done, { ...done, status: 'In Progress' }, now);
    expect([reopened.status, reopened.completionRatio, reopened.completedAt]).toEqual(['In Progress', 99, null]);
    expect(applyProgressRules(done, { ...done, status: 'Pending' }, now).completionRatio).toBe(0);
    const started = { ...done, status: 'In Progress' as const, completionRatio: 40 };
    const completed = applyProgressRules(started, { ...started, status: 'Completed' }, now);
    expect([completed.completionRatio, completed.completedAt]).toEqual([100, now.toISOString()]);
  });
});

describe('links in notes', () => {
  it('links only http and https URLs, leaving punctuation outside', () => {
    const parts = splitLinks('See https://github.com/x/y. Not javascript:alert(1) or data:text/html,hi');
    const links = parts.filter((p) => p.kind === 'link');
    expect(links).toEqual([{ kind: 'link', text: 'https://github.com/x/y', href: 'https://github.com/x/y' }]);
    expect(parts.map((p) => p.text).join('')).toBe('See https://github.com/x/y. Not javascript:alert(1) or data:text/html,hi');
  });
});
