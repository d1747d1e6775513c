import Holidays from 'date-holidays';
import { DateTime } from 'luxon';
import { authorityPolicySchema } from '../domain/policy';
import type { ReferralRequest } from '../domain/referral';
import { caseCalendarYears, type WorkingCalendar } from '../domain/working-days';

const regionCodes = {
  'england-and-wales': ['GB', 'ENG'],
  scotland: ['GB', 'SCT'],
  'northern-ireland': ['GB', 'NIR'],
} as const;

export interface CalendarRequest {
  region: keyof typeof regionCodes;
  timeZone: string;
  fromYear: number;
  toYear: number;
}

/**
 * Bank holidays (from the maintained date-holidays data) and the time zone's UTC offset
 * changes (from the runtime's time zone database, through luxon) for a range of years.
 */
export function buildWorkingCalendar(request: CalendarRequest): WorkingCalendar {
  // Pure in its inputs (for a given data release), and asked for by every referral: computed once per process.
  const key = JSON.stringify([request.region, request.timeZone, request.fromYear, request.toYear]);
  const cached = calendars.get(key);
  if (cached) return cached;
  const calendar = computeWorkingCalendar(request);
  calendars.set(key, calendar);
  return calendar;
}

const calendars = new Map<string, WorkingCalendar>();

function computeWorkingCalendar(request: CalendarRequest): WorkingCalendar {
  const [country, state] = regionCodes[request.region];
  const holidays = new Holidays(country, state);
  const dates: string[] = [];
  for (let year = request.fromYear; year <= request.toYear; year += 1) {
    for (const holiday of holidays.getHolidays(year)) {
      if (holiday.type === 'public' || holiday.type === 'bank') dates.push(holiday.date.slice(0, 10));
    }
  }
  const offsets: WorkingCalendar['offsets'] = [];
  const start = DateTime.fromObject({ year: request.fromYear - 1, month: 12, day: 31 }, { zone: request.timeZone });
  if (!start.isValid) throw new Error(`unknown time zone ${request.timeZone}`);
  const end = DateTime.fromObject({ year: request.toYear + 1, month: 1, day: 2 }, { zone: request.timeZone });
  offsets.push({ fromMs: 0, offsetMinutes: start.offset });
  // Day steps find each change (a day holds at most one); hour steps inside that day find
  // its instant (UK changes fall on the hour). Hour steps over years would take seconds.
  let day = start;
  while (day < end) {
    const nextDay = day.plus({ days: 1 });
    if (nextDay.offset !== day.offset) {
      let hour = day;
      while (hour.plus({ hours: 1 }).offset === day.offset) hour = hour.plus({ hours: 1 });
      const changed = hour.plus({ hours: 1 });
      offsets.push({ fromMs: changed.toMillis(), offsetMinutes: changed.offset });
    }
    day = nextDay;
  }
  return {
    region: request.region,
    timeZone: request.timeZone,
    holidays: [...new Set(dates)].sort(),
    offsets,
    fromYear: request.fromYear,
    toYear: request.toYear,
  };
}

/**
 * The working calendar a referral's workflow would load by activity (its policy's region
 * and time zone, the case's years), built by the API and passed in with the start, so that
 * the duty decision prompt opens in the workflow's first task (workflows/referral.ts).
 */
export function referralWorkingCalendar(input: Pick<ReferralRequest, 'receivedAt' | 'policy'>, nowMs: number): WorkingCalendar {
  const policy = authorityPolicySchema.parse(input.policy ?? {});
  return buildWorkingCalendar({ region: policy.bankHolidayRegion, timeZone: policy.timeZone, ...caseCalendarYears(Date.parse(input.receivedAt), nowMs) });
}
