import { describe, expect, it } from 'vitest';
import { daysInMonth, daysUntil, isIsoDate, lastMonths, monthKey, toIsoDate, usDateToIso } from './dates';

// These run under several TZ values (scripts/test-tz.mjs); local-time constructors
// keep the intent ("the 31st of March, here") the same in every zone.
describe('dates', () => {
  it('knows month lengths, leap years included', () => {
    expect(daysInMonth(2024, 1)).toBe(29);
    expect(daysInMonth(2025, 1)).toBe(28);
    expect(daysInMonth(2100, 1)).toBe(28);
    expect(daysInMonth(2025, 11)).toBe(31);
    expect(daysInMonth(2025, 3)).toBe(30);
  });

  it('validates ISO dates strictly', () => {
    expect(isIsoDate('2024-02-29')).toBe(true);
    expect(isIsoDate('2025-02-29')).toBe(false);
    expect(isIsoDate('2025-13-01')).toBe(false);
    expect(isIsoDate('2025-1-01')).toBe(false);
    expect(isIsoDate('')).toBe(false);
  });

  it('converts M/D/YYYY and rejects impossible dates', () => {
    expect(usDateToIso('12/26/2025')).toBe('2025-12-26');
    expect(usDateToIso('2/29/2023')).toBeNull();
    expect(usDateToIso('1/5/2026')).toBe('2026-01-05');
  });

  it('counts whole days to a deadline across a month end and a DST change', () => {
    const now = new Date(2025, 2, 30, 23, 59); // 30 March, late evening, local
    expect(daysUntil('2025-03-31', now)).toBe(1);
    expect(daysUntil('2025-04-01', now)).toBe(2);
    expect(daysUntil('2025-03-30', now)).toBe(0);
    expect(daysUntil('2025-03-29', now)).toBe(-1);
    const autumn = new Date(2025, 9, 25, 0, 30);
    expect(daysUntil('2025-10-27', autumn)).toBe(2);
  });

  it('lists the last twelve months without skipping short months from the 31st', () => {
    const months = lastMonths(12, new Date(2025, 2, 31, 12));
    expect(months).toHaveLength(12);
    expect(months[11]).toBe('2025-03');
    expect(months[10]).toBe('2025-02');
    expect(months[0]).toBe('2024-04');
    expect(new Set(months).size).toBe(12);
  });

  it('formats local dates and month keys in the local zone', () => {
    const d = new Date(2026, 0, 31, 23, 30);
    expect(toIsoDate(d)).toBe('2026-01-31');
    expect(monthKey(d)).toBe('2026-01');
  });
});
