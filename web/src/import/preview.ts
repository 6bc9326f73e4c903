import { previewCsv, type PreviewRow } from '../domain/csv';
import { normalizeCourse, validateCourse } from '../domain/course';

export interface Preview {
  kind: 'csv' | 'json';
  fileName: string;
  text: string;
  rows: PreviewRow[];
  fatal: string | null;
}

/** Reads a backup client-side for the preview; the server validates again on import. */
export function previewFile(fileName: string, text: string): Preview {
  const trimmed = text.trimStart();
  const json = /\.json$/i.test(fileName) || trimmed.startsWith('{') || trimmed.startsWith('[');
  if (!json) {
    const { rows, headerError } = previewCsv(text);
    return { kind: 'csv', fileName, text, rows, fatal: headerError };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { kind: 'json', fileName, text, rows: [], fatal: `Not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  const list = Array.isArray(data) ? data : data && typeof data === 'object' ? (data as Record<string, unknown>).courses : null;
  if (!Array.isArray(list)) return { kind: 'json', fileName, text, rows: [], fatal: 'Expected a SkillTrack backup: an object with a "courses" array.' };
  const rows: PreviewRow[] = list.map((item, i) => {
    if (!item || typeof item !== 'object') return { line: i + 1, course: null, errors: ['not an object'] };
    const course = normalizeCourse(item as Record<string, unknown>);
    if (typeof (item as Record<string, unknown>).id !== 'string') course.id = '';
    return { line: i + 1, course, errors: validateCourse(course).map((e) => e.message) };
  });
  return { kind: 'json', fileName, text, rows, fatal: null };
}
