import { describe, expect, it } from 'vitest';
import { buildWorkingCalendar } from '../../activities/calendar';
import { addWorkingDays, isWorkingDay, localDate, workingDaysBetween } from '../../domain/working-days';

const calendar = buildWorkingCalendar({ region: 'england-and-wales', timeZone: 'Europe/London', fromYear: 2025, toYear: 2027 });
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('working days (England and Wales)', () => {
  it('knows the bank holidays from the maintained data, with substitute days', () => {
    expect(calendar.holidays).toContain('2026-12-25');
    expect(calendar.holidays).toContain('2026-12-28'); // Boxing Day falls on a Saturday
    expect(calendar.holidays).toContain('2026-08-31');
    expect(isWorkingDay(calendar, at('2026-12-28T10:00:00Z'))).toBe(false);
    expect(isWorkingDay(calendar, at('2026-12-29T10:00:00Z'))).toBe(true);
  });

  it('skips weekends: Friday + 1 working day is Monday, same time of day', () => {
    expect(iso(addWorkingDays(calendar, at('2026-11-20T10:00:00Z'), 1))).toBe('2026-11-23T10:00:00.000Z');
  });

  it('skips Christmas and Boxing Day substitute', () => {
    // Thursday 24 December 2026 + 1 working day = Tuesday 29 December
    expect(iso(addWorkingDays(calendar, at('2026-12-24T09:00:00Z'), 1))).toBe('2026-12-29T09:00:00.000Z');
  });

  it('counts a weekend start from the next working day', () => {
    // Saturday: a one-day deadline leaves all of Monday, so it falls at Tuesday 00:00 local
    expect(iso(addWorkingDays(calendar, at('2026-11-21T15:00:00Z'), 1))).toBe('2026-11-24T00:00:00.000Z');
  });

  it('keeps local time across the clocks going forward', () => {
    // Friday 27 March 2026 09:00 GMT + 1 working day = Monday 30 March 09:00 BST = 08:00 UTC
    expect(iso(addWorkingDays(calendar, at('2026-03-27T09:00:00Z'), 1))).toBe('2026-03-30T08:00:00.000Z');
    expect(localDate(calendar, at('2026-03-29T23:30:00Z'))).toBe('2026-03-30');
  });

  it('45 working days from a referral spans 9 weeks when no holiday intervenes', () => {
    const received = at('2026-09-01T09:00:00Z');
    const due = addWorkingDays(calendar, received, 45);
    expect(iso(due)).toBe('2026-11-03T10:00:00.000Z'); // clocks went back on 25 October
    expect(workingDaysBetween(calendar, received, due)).toBe(45);
  });
});
