import { describe, expect, it } from 'vitest';
import { mergeCourse } from './merge';
import { blankCourse } from '../domain/course';
import type { Course } from '../api/types';

const base: Course = { ...blankCourse(new Date('2026-01-10T10:00:00Z')), id: 'c1', title: 'Rust', category: 'Dev', rev: 5 };

describe('three-way merge', () => {
  it('keeps changes made on different fields by each side', () => {
    const local = { ...base, completionRatio: 40, status: 'In Progress' as const };
    const server = { ...base, title: 'Rust in Action', rev: 6 };
    const { merged, conflicts } = mergeCourse(base, local, server);
    expect(merged.title).toBe('Rust in Action');
    expect(merged.completionRatio).toBe(40);
    expect(merged.status).toBe('In Progress');
    expect(merged.rev).toBe(6);
    expect(conflicts).toEqual([]);
  });

  it('takes the local edit when both sides changed the same field and reports it', () => {
    const local = { ...base, notes: 'mine' };
    const server = { ...base, notes: 'theirs', rev: 7 };
    const { merged, conflicts } = mergeCourse(base, local, server);
    expect(merged.notes).toBe('mine');
    expect(conflicts).toEqual(['notes']);
  });

  it('does not report a conflict when both sides made the same change', () => {
    const local = { ...base, isFavorite: true };
    const server = { ...base, isFavorite: true, rev: 6 };
    expect(mergeCourse(base, local, server).conflicts).toEqual([]);
  });

  it('takes server-managed fields from the server copy', () => {
    const local = { ...base, updatedAt: '2030-01-01T00:00:00Z', rev: 5 };
    const server = { ...base, updatedAt: '2026-02-01T00:00:00Z', rev: 9 };
    const { merged } = mergeCourse(base, local, server);
    expect(merged.rev).toBe(9);
    expect(merged.updatedAt).toBe('2026-02-01T00:00:00Z');
  });

  it('clears completedAt when the merged status is no longer Completed', () => {
    const b = { ...base, status: 'Completed' as const, completionRatio: 100, completedAt: '2026-01-05T00:00:00Z' };
    const local = { ...b, status: 'In Progress' as const, completionRatio: 90, completedAt: null };
    const server = { ...b, notes: 'x', rev: 6 };
    const { merged } = mergeCourse(b, local, server);
    expect(merged.status).toBe('In Progress');
    expect(merged.completedAt).toBeNull();
    expect(merged.notes).toBe('x');
  });

  it('treats every difference as a conflict when there is no base', () => {
    const local = { ...base, title: 'A' };
    const server = { ...base, title: 'B', rev: 1 };
    const { merged, conflicts } = mergeCourse(null, local, server);
    expect(merged.title).toBe('A');
    expect(conflicts).toEqual(['title']);
  });
});
