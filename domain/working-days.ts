/**
 * Working-day arithmetic (process-rules.md: Monday to Friday, less the region's bank
 * holidays). Pure: the calendar data (bank holidays and the local time zone's UTC
 * offsets) is loaded by an activity and recorded in the workflow history, so a data
 * update never changes the replay of a running assessment.
 */
export interface WorkingCalendar {
  region: string;
  timeZone: string;
  /** Bank holidays as local dates, YYYY-MM-DD. */
  holidays: string[];
  /** UTC offset changes, ascending: from `fromMs` on, local time = UTC + offsetMinutes. */
  offsets: Array<{ fromMs: number; offsetMinutes: number }>;
  /** The years the data covers; beyond them only weekends are known. */
  fromYear: number;
  toYear: number;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

function offsetAt(calendar: WorkingCalendar, utcMs: number): number {
  let offset = calendar.offsets[0]?.offsetMinutes ?? 0;
  for (const change of calendar.offsets) {
    if (change.fromMs <= utcMs) offset = change.offsetMinutes;
    else break;
  }
  return offset;
}

/** Local wall-clock time as if it were UTC: the day and time-of-day read off directly. */
function toLocal(calendar: WorkingCalendar, utcMs: number): number {
  return utcMs + offsetAt(calendar, utcMs) * 60_000;
}

function fromLocal(calendar: WorkingCalendar, localMs: number): number {
  // The offset to subtract is the one in force at the resulting instant; one correction
  // settles it except inside the skipped hour of a spring-forward change.
  const guess = localMs - offsetAt(calendar, localMs) * 60_000;
  return localMs - offsetAt(calendar, guess) * 60_000;
}

function localDateKey(localMs: number): string {
  return new Date(Math.floor(localMs / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

function isWorkingLocalDay(calendar: WorkingCalendar, localMs: number): boolean {
  const weekday = new Date(localMs).getUTCDay();
  if (weekday === 0 || weekday === 6) return false;
  return !calendar.holidays.includes(localDateKey(localMs));
}

export function isWorkingDay(calendar: WorkingCalendar, utcMs: number): boolean {
  return isWorkingLocalDay(calendar, toLocal(calendar, utcMs));
}

/**
 * The instant `workingDays` working days after `fromMs`, at the same local time of day.
 * A start outside a working day counts from the start of the next working day, so that
 * a referral received on Saturday has all of Monday for a one-day deadline.
 */
export function addWorkingDays(calendar: WorkingCalendar, fromMs: number, workingDays: number): number {
  let local = toLocal(calendar, fromMs);
  if (!isWorkingLocalDay(calendar, local)) {
    local = Math.floor(local / DAY_MS) * DAY_MS;
    while (!isWorkingLocalDay(calendar, local)) local += DAY_MS;
  }
  let counted = 0;
  while (counted < workingDays) {
    local += DAY_MS;
    if (isWorkingLocalDay(calendar, local)) counted += 1;
  }
  return fromLocal(calendar, local);
}

/** Working days from `fromMs` to `toMs`: the working days after the start day, up to and including the end day. */
export function workingDaysBetween(calendar: WorkingCalendar, fromMs: number, toMs: number): number {
  if (toMs < fromMs) return -workingDaysBetween(calendar, toMs, fromMs);
  const startDay = Math.floor(toLocal(calendar, fromMs) / DAY_MS) * DAY_MS;
  const endDay = Math.floor(toLocal(calendar, toMs) / DAY_MS) * DAY_MS;
  let count = 0;
  for (let day = startDay + DAY_MS; day <= endDay; day += DAY_MS) {
    if (isWorkingLocalDay(calendar, day)) count += 1;
  }
  return count;
}

export function addHours(fromMs: number, hours: number): number {
  return fromMs + hours * HOUR_MS;
}

/** The local date (YYYY-MM-DD) of an instant, for display and for age calculations. */
export function localDate(calendar: WorkingCalendar, utcMs: number): string {
  return localDateKey(toLocal(calendar, utcMs));
}

/** The first instant of a local date (YYYY-MM-DD), e.g. midnight in London. */
export function startOfLocalDay(calendar: WorkingCalendar, dateKey: string): number {
  return fromLocal(calendar, Date.parse(`${dateKey}T00:00:00Z`));
}

/**
 * The last instant of the local day `fromMs` falls on. A timescale counted in days is met
 * by anything done on its last day (the census counts dates, not hours).
 */
export function endOfLocalDay(calendar: WorkingCalendar, fromMs: number): number {
  const nextDay = Math.floor(toLocal(calendar, fromMs) / DAY_MS) * DAY_MS + DAY_MS;
  return fromLocal(calendar, nextDay) - 1;
}

/** The local date `days` calendar days after (or before, if negative) a local date. */
export function shiftLocalDate(dateKey: string, days: number): string {
  return new Date(Date.parse(`${dateKey}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/**
 * The years a case's working calendar covers: from the year before its referral to three
 * years after the later of the referral and today (a back-dated referral's case runs until
 * years from now, so no working day of today is counted from weekends alone).
 */
export function caseCalendarYears(receivedAtMs: number, nowMs: number): { fromYear: number; toYear: number } {
  const receivedYear = new Date(receivedAtMs).getUTCFullYear();
  return { fromYear: receivedYear - 1, toYear: Math.max(receivedYear, new Date(nowMs).getUTCFullYear()) + 3 };
}

/** Whether a calendar someone else built serves a case: its region and time zone, and at least its years. */
export function calendarServes(calendar: WorkingCalendar, wanted: { region: string; timeZone: string; fromYear: number; toYear: number }): boolean {
  return calendar.region === wanted.region && calendar.timeZone === wanted.timeZone && calendar.fromYear <= wanted.fromYear && calendar.toYear >= wanted.toYear;
}
