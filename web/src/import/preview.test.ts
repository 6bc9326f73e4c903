import { describe, expect, it } from 'vitest';
import { previewFile } from './preview';

describe('import preview', () => {
  it('recognises a CSV by content and reads its rows', () => {
    const p = previewFile('courses.txt', 'Id,Date,Category,Title,Notes,Completion ratio\n1,1/2/2025,Dev,"Rust, the book",,100\n');
    expect(p.kind).toBe('csv');
    expect(p.rows[0].course?.title).toBe('Rust, the book');
    expect(p.rows[0].course?.status).toBe('Completed');
  });

  it('reads a JSON backup and flags invalid courses', () => {
    const p = previewFile('b.json', JSON.stringify({ courses: [{ id: 'a', title: 'A', completionRatio: 5 }, { id: 7, title: '' }] }));
    expect(p.kind).toBe('json');
    expect(p.rows[0].errors).toEqual([]);
    expect(p.rows[1].errors.length).toBeGreaterThan(0);
  });

  it('explains a broken JSON file instead of throwing', () => {
    expect(previewFile('b.json', '{"courses": [').fatal).toMatch(/Not valid JSON/);
    expect(previewFile('b.json', '{"x": 1}').fatal).toMatch(/courses/);
  });
});
