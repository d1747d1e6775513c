/**
 * An independent working-day calculator, for tests to check the engine's arithmetic
 * (domain/working-days.ts) against. Written separately on purpose: it does not import the
 * engine's calendar or arithmetic, and works differently: luxon DateTimes in
 * Europe/London stepped a local day at a time (the time zone database decides the UTC
 * offsets, for any year), and the bank holidays of England straight from date-holidays
 * (GB / ENG, types public and bank), looked up per year on demand, so any year is covered.
 *
 * The convention is the engine's (process-rules.md, R-1): a working day is Monday to
 * Friday, less the bank holidays; a deadline `n` working days after an instant is the
 * same local time of day `n` working days later; a start outside a working day (a
 * weekend, a bank holiday) counts from 00:00 local of the next working day.
 */
import Holidays from 'date-holidays';
import { DateTime } from 'luxon';

export const LONDON = 'Europe/London';

const england = new Holidays('GB', 'ENG');
const holidaysByYear = new Map<number, ReadonlySet<string>>();

/** The bank holidays of England (and Wales) in a year, as local dates (YYYY-MM-DD). */
export function bankHolidaysIndependent(year: number): ReadonlySet<string> {
  let holidays = holidaysByYear.get(year);
  if (!holidays) {
    holidays = new Set(
      england
        .getHolidays(year)
        .filter((holiday) => holiday.type === 'public' || holiday.type === 'bank')
        .map((holiday) => holiday.date.slice(0, 10)),
    );
    holidaysByYear.set(year, holidays);
  }
  return holidays;
}

function parse(instant: string | number | DateTime): DateTime {
  const parsed = typeof instant === 'number' ? DateTime.fromMillis(instant) : typeof instant === 'string' ? DateTime.fromISO(instant, { setZone: true }) : instant;
  if (!parsed.isValid) throw new Error(`not an instant: ${String(instant)}`);
  return parsed.setZone(LONDON);
}

/** Whether the London local date of this instant is a working day. */
export function isWorkingDayIndependent(instant: string | number | DateTime): boolean {
  const local = parse(instant);
  if (local.weekday > 5) return false; // luxon: Monday 1 .. Sunday 7
  return !bankHolidaysIndependent(local.year).has(local.toISODate()!);
}

/** Whether a London local date (YYYY-MM-DD) is a bank holiday of England. */
export function isBankHolidayIndependent(localDate: string): boolean {
  return bankHolidaysIndependent(Number(localDate.slice(0, 4))).has(localDate);
}

/**
 * The instant `workingDays` working days after `from`, at the same London local time of
 * day (so across a clock change the UTC time moves by an hour). A start on a day that is
 * not a working day counts from 00:00 of the next working day. Returns ISO 8601 in UTC.
 */
export function addWorkingDaysIndependent(from: string | number, workingDays: number): string {
  if (!Number.isInteger(workingDays) || workingDays < 0) throw new Error(`working days must be a whole number >= 0, not ${workingDays}`);
  let start = parse(from);
  if (!isWorkingDayIndependent(start)) {
    start = start.startOf('day');
    while (!isWorkingDayIndependent(start)) start = start.plus({ days: 1 }).startOf('day');
  }
  // Step whole local days, and put the time of day back at the end: a time carried through a
  // spring-forward Sunday (01:00-02:00 does not exist then) would come out an hour later.
  const { hour, minute, second, millisecond } = start;
  let day = start.startOf('day');
  let counted = 0;
  while (counted < workingDays) {
    day = day.plus({ days: 1 }).startOf('day');
    if (isWorkingDayIndependent(day)) counted += 1;
  }
  // A working day is never a clock-change Sunday, so this local time exists.
  return new Date(day.set({ hour, minute, second, millisecond }).toMillis()).toISOString();
}

/** The same, in epoch milliseconds. */
export function addWorkingDaysIndependentMs(from: string | number, workingDays: number): number {
  return Date.parse(addWorkingDaysIndependent(from, workingDays));
}

/**
 * Working days from `from` to `to`: the working days after the start's local date, up to
 * and including the end's local date (London). Negative when `to` is before `from`.
 */
export function workingDaysBetweenIndependent(from: string | number, to: string | number): number {
  const start = parse(from);
  const end = parse(to);
  if (end < start) return -workingDaysBetweenIndependent(to, from);
  let count = 0;
  let day = start.startOf('day').plus({ days: 1 });
  const last = end.startOf('day');
  while (day <= last) {
    if (isWorkingDayIndependent(day)) count += 1;
    day = day.plus({ days: 1 }).startOf('day');
  }
  return count;
}

/** The bank holidays (London local dates) after `from`'s local date, up to and including `to`'s. */
export function bankHolidaysBetweenIndependent(from: string | number, to: string | number): string[] {
  const found: string[] = [];
  let day = parse(from).startOf('day').plus({ days: 1 });
  const last = parse(to).startOf('day');
  while (day <= last) {
    const date = day.toISODate()!;
    if (day.weekday <= 5 && isBankHolidayIndependent(date)) found.push(date);
    day = day.plus({ days: 1 }).startOf('day');
  }
  return found;
}

/** 00:00 London time on a local date (YYYY-MM-DD), moved by whole calendar days if asked, as epoch milliseconds. */
export function londonMidnightMs(localDate: string, plusDays = 0): number {
  const local = DateTime.fromISO(localDate, { zone: LONDON });
  if (!local.isValid) throw new Error(`not a date: ${localDate}`);
  return local.plus({ days: plusDays }).startOf('day').toMillis();
}

/** The last millisecond of the London local day an instant falls on (a timescale in days is met on its last day). */
export function londonEndOfDay(instant: string | number): string {
  return parse(instant).endOf('day').toUTC().toISO()!;
}

/** The London local date (YYYY-MM-DD) of an instant. */
export function londonDate(instant: string | number): string {
  return parse(instant).toISODate()!;
}
