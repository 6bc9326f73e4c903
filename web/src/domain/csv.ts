// CSV in the format people already have: Id,Date,Category,Title,Notes,Completion ratio.
// Parsed client-side only for the import preview; the server parses again and is the judge.

import type { Course } from '../api/types';
import { blankCourse, clampRatio, statusFromRatio, validateCourse } from './course';
import { usDateToIso, isIsoDate } from './dates';

/** RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
      continue;
    }
    if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      rows.push(row);
      row = [];
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0].trim() === ''));
}

function quote(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function isoToUsDate(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  return m ? `${Number(m[2])}/${Number(m[3])}/${m[1]}` : iso;
}

export const CSV_HEADER = ['Id', 'Date', 'Category', 'Title', 'Notes', 'Completion ratio'];

export function toCsv(courses: Course[]): string {
  const lines = [CSV_HEADER.join(',')];
  for (const c of courses) {
    lines.push(
      [c.id, isoToUsDate(c.date), c.category, c.title, c.notes, String(c.completionRatio)].map(quote).join(','),
    );
  }
  return lines.join('\n') + '\n';
}

export interface PreviewRow {
  /** 1-based line of the record in the file, header being line 1. */
  line: number;
  course: Course | null;
  errors: string[];
}

const norm = (h: string) => h.trim().toLowerCase().replace(/[^a-z]/g, '');

export function previewCsv(text: string): { rows: PreviewRow[]; headerError: string | null } {
  const records = parseCsv(text);
  if (records.length === 0) return { rows: [], headerError: 'The file is empty.' };
  const header = records[0].map(norm);
  const col = (name: string) => header.indexOf(norm(name));
  const idx = {
    id: col('Id'),
    date: col('Date'),
    category: col('Category'),
    title: col('Title'),
    notes: col('Notes'),
    ratio: col('Completion ratio'),
  };
  if (idx.id < 0 || idx.title < 0) {
    return { rows: [], headerError: `Expected a header with ${CSV_HEADER.join(', ')}.` };
  }
  const rows: PreviewRow[] = records.slice(1).map((r, i) => {
    const get = (k: number) => (k >= 0 ? (r[k] ?? '') : '');
    const errors: string[] = [];
    const rawDate = get(idx.date).trim();
    let date = '';
    if (rawDate !== '') {
      const iso = isIsoDate(rawDate) ? rawDate : usDateToIso(rawDate);
      if (iso) date = iso;
      else errors.push(`date "${rawDate}" is not M/D/YYYY`);
    }
    const rawRatio = get(idx.ratio).trim();
    let ratio = 0;
    if (rawRatio !== '') {
      const n = Number(rawRatio.replace('%', ''));
      if (!Number.isInteger(n) || n < 0 || n > 100) errors.push(`completion ratio "${rawRatio}" is not 0..100`);
      else ratio = clampRatio(n);
    }
    const course: Course = {
      ...blankCourse(),
      id: get(idx.id).trim(),
      title: get(idx.title).trim(),
      category: get(idx.category).trim(),
      notes: get(idx.notes),
      date: date || blankCourse().date,
      completionRatio: ratio,
      status: statusFromRatio(ratio),
    };
    for (const e of validateCourse(course)) {
      if (e.field !== 'completionRatio' && e.field !== 'date') errors.push(e.message);
    }
    return { line: i + 2, course, errors };
  });
  return { rows, headerError: null };
}
