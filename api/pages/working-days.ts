import { buildWorkingCalendar } from '../../activities/calendar';
import { workingDaysBetween, type WorkingCalendar } from '../../domain/working-days';

/**
 * Working days for what the pages show (how late, how many left): Monday to Friday less
 * England and Wales bank holidays, from the same maintained data and arithmetic the
 * workflows use. The deadlines themselves are the engine's; this only counts towards them.
 */
let cached: { year: number; calendar: WorkingCalendar } | undefined;

function calendarFor(now: Date): WorkingCalendar {
  const year = now.getUTCFullYear();
  if (cached?.year !== year) {
    cached = { year, calendar: buildWorkingCalendar({ region: 'england-and-wales', timeZone: 'Europe/London', fromYear: year - 3, toYear: year + 2 }) };
  }
  return cached.calendar;
}

/** Working days from now until `dueAt` (negative once it has passed). */
export function workingDaysLeft(dueAt: string, now: Date): number {
  return workingDaysBetween(calendarFor(now), now.getTime(), Date.parse(dueAt));
}

/** How late something due at `dueAt` is, said in working days (or hours, within the first working day). */
export function lateness(dueAt: string | undefined, now: Date): string | undefined {
  if (!dueAt || Date.parse(dueAt) >= now.getTime()) return undefined;
  const days = -workingDaysLeft(dueAt, now);
  if (days >= 1) return `${days} working day${days === 1 ? '' : 's'}`;
  const hours = Math.max(1, Math.floor((now.getTime() - Date.parse(dueAt)) / 3_600_000));
  return `${hours} hour${hours === 1 ? '' : 's'}`;
}
