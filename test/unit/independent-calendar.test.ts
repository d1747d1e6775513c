import { describe, expect, it } from 'vitest';
import {
  addWorkingDaysIndependent,
  bankHolidaysBetweenIndependent,
  isWorkingDayIndependent,
  londonDate,
  londonMidnightMs,
  workingDaysBetweenIndependent,
} from '../support/independent-calendar';

// Hand-checked cases: fixed dates are right here, because these test arithmetic on given
// instants, not anything relative to the day the tests run.
describe('independent working-day calculator (test/support/independent-calendar.ts)', () => {
  it('knows weekends and the bank holidays of England, substitute days included', () => {
    expect(isWorkingDayIndependent('2026-11-20T10:00:00Z')).toBe(true); // Friday
    expect(isWorkingDayIndependent('2026-11-21T10:00:00Z')).toBe(false); // Saturday
    expect(isWorkingDayIndependent('2026-12-25T10:00:00Z')).toBe(false); // Christmas Day, Friday
    expect(isWorkingDayIndependent('2026-12-28T10:00:00Z')).toBe(false); // Boxing Day (Saturday) substitute
    expect(isWorkingDayIndependent('2026-12-29T10:00:00Z')).toBe(true);
    expect(isWorkingDayIndependent('2027-12-27T10:00:00Z')).toBe(false); // Christmas Day (Saturday) substitute
    expect(isWorkingDayIndependent('2028-01-03T10:00:00Z')).toBe(false); // New Year's Day (Saturday) substitute
    expect(isWorkingDayIndependent('2027-03-26T10:00:00Z')).toBe(false); // Good Friday
    expect(isWorkingDayIndependent('2027-03-29T10:00:00Z')).toBe(false); // Easter Monday
    expect(isWorkingDayIndependent('2026-08-31T10:00:00Z')).toBe(false); // Summer bank holiday
    // The local date decides: 23:30 UTC on Sunday 29 March 2026 is already Monday in London.
    expect(londonDate('2026-03-29T23:30:00Z')).toBe('2026-03-30');
    expect(isWorkingDayIndependent('2026-03-29T23:30:00Z')).toBe(true);
    // 23:30 UTC on Thursday 24 December 2026 is still the 24th (GMT): a working day.
    expect(isWorkingDayIndependent('2026-12-24T23:30:00Z')).toBe(true);
  });

  it('adds working days at the same local time of day, over a weekend', () => {
    expect(addWorkingDaysIndependent('2026-11-20T10:00:00Z', 1)).toBe('2026-11-23T10:00:00.000Z'); // Friday → Monday
    expect(addWorkingDaysIndependent('2026-11-23T10:00:00Z', 0)).toBe('2026-11-23T10:00:00.000Z');
    expect(addWorkingDaysIndependent('2026-11-23T10:00:00Z', 5)).toBe('2026-11-30T10:00:00.000Z');
  });

  it('skips Christmas and New Year 2026-27 (Boxing Day substitute on Monday 28 December)', () => {
    // Thursday 24 December 2026: 25 Fri, 26-27 weekend, 28 Mon substitute → Tuesday 29th.
    expect(addWorkingDaysIndependent('2026-12-24T09:00:00Z', 1)).toBe('2026-12-29T09:00:00.000Z');
    // 29, 30, 31 December, (1 January a Friday bank holiday), Monday 4 January.
    expect(addWorkingDaysIndependent('2026-12-24T09:00:00Z', 4)).toBe('2027-01-04T09:00:00.000Z');
    // An initial strategy discussion on Monday 14 December 2026 + 15 working days = Thursday 7 January 2027.
    expect(addWorkingDaysIndependent('2026-12-14T10:00:00Z', 15)).toBe('2027-01-07T10:00:00.000Z');
    expect(bankHolidaysBetweenIndependent('2026-12-14T10:00:00Z', '2027-01-07T10:00:00Z')).toEqual(['2026-12-25', '2026-12-28', '2027-01-01']);
  });

  it('skips Christmas 2027 and New Year 2028 (both Christmas days and New Year on weekends: substitutes)', () => {
    // Friday 24 December 2027: 25-26 weekend, 27 and 28 substitutes → Wednesday 29th.
    expect(addWorkingDaysIndependent('2027-12-24T10:00:00Z', 1)).toBe('2027-12-29T10:00:00.000Z');
    // Friday 31 December 2027: 1-2 January weekend, Monday 3rd substitute → Tuesday 4th.
    expect(addWorkingDaysIndependent('2027-12-31T10:00:00Z', 1)).toBe('2028-01-04T10:00:00.000Z');
  });

  it('skips Easter 2027, which shares its weekend with the spring clock change (28 March)', () => {
    // Thursday 25 March 2027 10:00 GMT: Good Friday, weekend (clocks go forward), Easter Monday
    // → Tuesday 30 March 10:00 BST, which is 09:00 UTC.
    expect(addWorkingDaysIndependent('2027-03-25T10:00:00Z', 1)).toBe('2027-03-30T09:00:00.000Z');
    expect(workingDaysBetweenIndependent('2027-03-25T10:00:00Z', '2027-03-30T09:00:00Z')).toBe(1);
  });

  it('keeps the local time of day across the clock changes of March and October', () => {
    // Friday 27 March 2026 09:00 GMT → Monday 30 March 09:00 BST = 08:00 UTC.
    expect(addWorkingDaysIndependent('2026-03-27T09:00:00Z', 1)).toBe('2026-03-30T08:00:00.000Z');
    // Friday 23 October 2026 09:00 BST (08:00 UTC) → Monday 26 October 09:00 GMT = 09:00 UTC.
    expect(addWorkingDaysIndependent('2026-10-23T08:00:00Z', 1)).toBe('2026-10-26T09:00:00.000Z');
    // Friday 23:30 BST → Monday 23:30 GMT.
    expect(addWorkingDaysIndependent('2026-10-23T22:30:00Z', 1)).toBe('2026-10-26T23:30:00.000Z');
    // A time of day that does not exist on the spring-forward Sunday (01:00-02:00) is kept:
    // Tuesday 25 March 2025 01:00 GMT + 4 working days = Monday 31 March 01:00 BST = 00:00 UTC.
    expect(addWorkingDaysIndependent('2025-03-25T01:00:00Z', 4)).toBe('2025-03-31T00:00:00.000Z');
    expect(addWorkingDaysIndependent('2026-03-27T01:30:00Z', 1)).toBe('2026-03-30T00:30:00.000Z');
    // 45 working days from Tuesday 1 September 2026 10:00 BST: Tuesday 3 November 10:00 GMT.
    expect(addWorkingDaysIndependent('2026-09-01T09:00:00Z', 45)).toBe('2026-11-03T10:00:00.000Z');
  });

  it('counts a start outside a working day from 00:00 local of the next working day', () => {
    // Saturday 21 November 2026 15:00 → from Monday 00:00 → Tuesday 24 November 00:00 GMT.
    expect(addWorkingDaysIndependent('2026-11-21T15:00:00Z', 1)).toBe('2026-11-24T00:00:00.000Z');
    // Sunday 29 March 2026 12:00 BST (clocks went forward that morning) → Tuesday 31 March 00:00 BST.
    expect(addWorkingDaysIndependent('2026-03-29T11:00:00Z', 1)).toBe('2026-03-30T23:00:00.000Z');
    // Summer bank holiday, Monday 31 August 2026 → from Tuesday 00:00 BST → Wednesday 2 September 00:00 BST.
    expect(addWorkingDaysIndependent('2026-08-31T09:00:00Z', 1)).toBe('2026-09-01T23:00:00.000Z');
    // Christmas Day 2026 → from Tuesday 29th 00:00 → Wednesday 30th 00:00 GMT.
    expect(addWorkingDaysIndependent('2026-12-25T12:00:00Z', 1)).toBe('2026-12-30T00:00:00.000Z');
  });

  it('counts working days between two instants: after the start day, up to and including the end day', () => {
    expect(workingDaysBetweenIndependent('2026-12-24T10:00:00Z', '2027-01-04T10:00:00Z')).toBe(4);
    expect(workingDaysBetweenIndependent('2027-01-04T10:00:00Z', '2026-12-24T10:00:00Z')).toBe(-4);
    expect(workingDaysBetweenIndependent('2026-11-23T08:00:00Z', '2026-11-23T17:00:00Z')).toBe(0);
    expect(workingDaysBetweenIndependent('2026-11-21T10:00:00Z', '2026-11-23T10:00:00Z')).toBe(1); // Saturday → Monday
    expect(workingDaysBetweenIndependent('2026-09-01T09:00:00Z', '2026-11-03T10:00:00Z')).toBe(45);
  });

  it('gives 00:00 London time of a local date in either season', () => {
    expect(new Date(londonMidnightMs('2026-12-20')).toISOString()).toBe('2026-12-20T00:00:00.000Z');
    expect(new Date(londonMidnightMs('2026-07-20')).toISOString()).toBe('2026-07-19T23:00:00.000Z');
    // Four weeks (28 calendar days) before 31 March 2027 (BST) is 3 March (GMT): midnight there, not 23:00.
    expect(new Date(londonMidnightMs('2027-03-31', -28)).toISOString()).toBe('2027-03-03T00:00:00.000Z');
  });
});
