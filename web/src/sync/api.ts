// Online-only calls that are not part of the queued sync: activity, import, export.

import type { ImportResult, ImportRowError } from '../api/types';
import { errorMessage, type Transport } from './transport';

export interface ActivityItem {
  courseId: string;
  title: string | null;
  action: string;
  at: string;
}

export async function fetchActivity(t: Transport, limit = 20): Promise<ActivityItem[] | null> {
  try {
    const res = await t.request(`/api/activity?limit=${limit}`);
    if (res.status !== 200) return null;
    const body = res.body as unknown;
    const list = Array.isArray(body) ? body : body && typeof body === 'object' ? ((body as Record<string, unknown>).activity ?? (body as Record<string, unknown>).items ?? (body as Record<string, unknown>).entries) : null;
    if (!Array.isArray(list)) return null;
    return list
      .filter((e): e is Record<string, unknown> => !!e && typeof e === 'object')
      .map((e) => ({
        courseId: String(e.courseId ?? e.course_id ?? e.id ?? ''),
        title: typeof e.title === 'string' ? e.title : null,
        action: String(e.action ?? e.kind ?? e.type ?? 'changed'),
        at: String(e.at ?? e.createdAt ?? e.time ?? e.timestamp ?? ''),
      }));
  } catch {
    return null;
  }
}

export interface ImportOutcome {
  ok: boolean;
  status: number;
  result: ImportResult | null;
  message: string | null;
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

export function parseImportResult(body: unknown): ImportResult | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as Record<string, unknown>;
  const src = (b.result && typeof b.result === 'object' ? b.result : b) as Record<string, unknown>;
  const errs = (src.errors ?? (b.error as Record<string, unknown> | undefined)?.errors ?? (b.error as Record<string, unknown> | undefined)?.rows) as unknown;
  const errors: ImportRowError[] = Array.isArray(errs)
    ? errs.map((e) => {
        const r = (e ?? {}) as Record<string, unknown>;
        return {
          row: typeof r.row === 'number' ? r.row : undefined,
          line: typeof r.line === 'number' ? r.line : undefined,
          index: typeof r.index === 'number' ? r.index : undefined,
          id: typeof r.id === 'string' ? r.id : undefined,
          field: typeof r.field === 'string' ? r.field : undefined,
          code: typeof r.code === 'string' ? r.code : undefined,
          message: typeof r.message === 'string' ? r.message : JSON.stringify(r),
        };
      })
    : [];
  if (!('created' in src) && !('updated' in src) && errors.length === 0) return null;
  return { created: num(src.created), updated: num(src.updated), skipped: num(src.skipped), errors };
}

export async function importBackup(t: Transport, text: string, kind: 'csv' | 'json', partial: boolean): Promise<ImportOutcome> {
  const res = await t.request(`/api/import${partial ? '?partial=true' : ''}`, {
    method: 'POST',
    headers: { 'Content-Type': kind === 'csv' ? 'text/csv' : 'application/json' },
    body: text,
  });
  const result = parseImportResult(res.body);
  const ok = res.status >= 200 && res.status < 300;
  return { ok, status: res.status, result, message: ok ? null : errorMessage(res.body, `import refused (${res.status})`) };
}

export async function downloadExport(t: Transport, kind: 'json' | 'csv'): Promise<void> {
  const path = kind === 'json' ? '/api/export' : '/api/export.csv';
  const res = await t.request(path, { blob: true, headers: { Accept: kind === 'json' ? 'application/json' : 'text/csv' } });
  if (res.status !== 200 || !(res.body instanceof Blob)) throw new Error(errorMessage(res.body, `export failed (${res.status})`));
  const stamp = new Date().toISOString().slice(0, 10);
  const url = URL.createObjectURL(res.body);
  const a = document.createElement('a');
  a.href = url;
  a.download = `skilltrack-${stamp}.${kind}`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
