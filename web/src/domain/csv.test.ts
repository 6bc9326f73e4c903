import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCsv, previewCsv, toCsv } from './csv';
import { blankCourse } from './course';

describe('CSV', () => {
  it('parses quoted fields with commas, doubled quotes and line breaks', () => {
    const rows = parseCsv('a,"b, c","say ""hi""","line1\nline2"\r\n1,2,3,4\n');
    expect(rows).toEqual([
      ['a', 'b, c', 'say "hi"', 'line1\nline2'],
      ['1', '2', '3', '4'],
    ]);
  });

  it('previews the real 272-course export without errors', () => {
    const text = readFileSync(new URL('../../../tests/fixtures/udemy_course_list.csv', import.meta.url), 'utf8');
    const { rows, headerError } = previewCsv(text);
    expect(headerError).toBeNull();
    expect(rows.length).toBe(272);
    expect(rows.filter((r) => r.errors.length > 0)).toEqual([]);
    expect(rows[0].course?.id).toBe('6716873');
    expect(rows[0].course?.date).toBe('2025-12-26');
    expect(new Set(rows.map((r) => r.course?.id)).size).toBe(272);
  });

  it('reports row-level problems with their line numbers', () => {
    const { rows } = previewCsv('Id,Date,Category,Title,Notes,Completion ratio\nok,1/2/2025,Dev,Fine,,10\nbad id!,13/45/2025,Dev,,,140\n');
    expect(rows[0].errors).toEqual([]);
    expect(rows[1].line).toBe(3);
    expect(rows[1].errors.join(' ')).toMatch(/date/);
    expect(rows[1].errors.join(' ')).toMatch(/completion ratio/);
    expect(rows[1].errors.join(' ')).toMatch(/title/);
    expect(rows[1].errors.join(' ')).toMatch(/id must be/);
  });

  it('refuses a file without the expected header', () => {
    expect(previewCsv('foo,bar\n1,2').headerError).toMatch(/Expected a header/);
  });

  it('round-trips titles with commas, quotes and any UTF-8', () => {
    const course = { ...blankCourse(), id: 'x1', title: 'Ünïcode, "quoted" — 日本語', date: '2025-03-04', completionRatio: 50 };
    const back = previewCsv(toCsv([course])).rows[0].course!;
    expect(back.title).toBe(course.title);
    expect(back.date).toBe('2025-03-04');
    expect(back.status).toBe('In Progress');
  });
});
