import type { Course } from '../api/types';
import { blankCourse, newId } from '../domain/course';
import { toIsoDate } from '../domain/dates';

/** A small, realistic starter set for a first look at the app. */
export function sampleCourses(now: Date = new Date()): Course[] {
  const day = (offset: number) => toIsoDate(new Date(now.getFullYear(), now.getMonth(), now.getDate() + offset));
  const rows: Partial<Course>[] = [
    { title: 'The Rust Programming Language, hands-on', category: 'Development', completionRatio: 45, status: 'In Progress', totalLessons: 120, completedLessons: 54, pinnedToDashboard: true, deadline: day(21), notes: 'Book: https://doc.rust-lang.org/book/' },
    { title: 'TypeScript for React developers', category: 'Development', completionRatio: 80, status: 'In Progress', totalLessons: 60, completedLessons: 48, pinnedToDashboard: true, isFavorite: true, deadline: day(5) },
    { title: 'Docker and Kubernetes: the practical guide', category: 'DevOps', completionRatio: 0, status: 'Up Next', totalLessons: 250 },
    { title: 'Learning How to Learn', category: 'Improvement', completionRatio: 100, status: 'Completed', totalLessons: 40, completedLessons: 40, completedAt: now.toISOString() },
    { title: 'Music theory for beginners', category: 'Music', completionRatio: 10, status: 'In Progress', deadline: day(-3) },
    { title: 'Public speaking masterclass', category: 'Improvement', completionRatio: 0, status: 'Pending' },
  ];
  return rows.map((r, i) => ({ ...blankCourse(now), id: newId(), date: day(-30 - i * 9), sortOrder: i, ...r }));
}
