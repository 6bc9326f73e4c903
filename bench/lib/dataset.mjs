// The benchmark library: the real 272-course Udemy export topped up to
// 300 with generated courses, in the API's Course shape. Deterministic, so every run
// and every server gets the same data.
import { readFileSync } from 'node:fs';

export const COURSE_COUNT = 300;
const STATUSES = ['Pending', 'In Progress', 'Up Next', 'Completed'];

/** Splits one CSV line with RFC 4180 quoting. */
function splitCsvLine(line) {
  const fields = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { fields.push(field); field = ''; }
    else field += c;
  }
  fields.push(field);
  return fields;
}

function isoDate(mdy) {
  const [m, d, y] = mdy.split('/').map(Number);
  if (!m || !d || !y) return '2025-01-01';
  return `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

function statusFor(ratio) {
  if (ratio >= 100) return 'Completed';
  return ratio > 0 ? 'In Progress' : 'Pending';
}

// A small fixed-seed PRNG (mulberry32): the same "random" courses every run.
function prng(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function course(i, { id, date, category, title, notes, ratio }, rand) {
  const totalLessons = 20 + Math.floor(rand() * 180);
  return {
    id,
    title,
    category: category || 'Uncategorised',
    date,
    notes,
    completionRatio: ratio,
    status: statusFor(ratio),
    isFavorite: rand() < 0.1,
    totalLessons,
    completedLessons: Math.round((totalLessons * ratio) / 100),
    deadline: rand() < 0.2 ? '2026-06-30' : null,
    sortOrder: i,
    pinnedToDashboard: rand() < 0.05,
    isArchived: false,
  };
}

/** The 300 benchmark courses (without server-managed fields). */
export function loadCourses(csvPath) {
  const rand = prng(20251126);
  const lines = readFileSync(csvPath, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  const courses = [];
  const seen = new Set();
  for (const line of lines.slice(1)) {
    const [id, date, category, title, notes, ratio] = splitCsvLine(line);
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id) || seen.has(id) || !title) continue;
    seen.add(id);
    const r = Math.max(0, Math.min(100, Math.round(Number(ratio) || 0)));
    courses.push(course(courses.length, { id, date: isoDate(date), category, title: title.slice(0, 300), notes, ratio: r }, rand));
  }
  const categories = ['Programming', 'Design', 'Improvement', 'Business', 'Music'];
  for (let n = 1; courses.length < COURSE_COUNT; n++) {
    const ratio = Math.floor(rand() * 101);
    courses.push(course(courses.length, {
      id: `bench-${n}`,
      date: `2025-${String(1 + (n % 12)).padStart(2, '0')}-${String(1 + (n % 28)).padStart(2, '0')}`,
      category: categories[n % categories.length],
      title: `Generated benchmark course ${n}: a title of ordinary length for a course`,
      notes: n % 3 === 0 ? `https://example.com/notes/${n}` : '',
      ratio,
    }, rand));
  }
  return courses.slice(0, COURSE_COUNT);
}
