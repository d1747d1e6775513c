import Holidays from 'date-holidays';
import { DateTime } from 'luxon';
import type { WorkingCalendar } from '../domain/working-days';

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
  const [country, state] = regionCodes[request.region];
  const holidays = new Holidays(country, state);
  const dates: string[] = [];
  for (let year = request.fromYear; year <= request.toYear; year += 1) {
    for (const holiday of holidays.getHolidays(year)) {
      if (holiday.type === 'public' || holiday.type === 'bank') dates.push(holiday.date.slice(0, 10));
    }
  }
  const offsets: WorkingCalendar['offsets'] = [];
  let cursor = DateTime.fromObject({ year: request.fromYear - 1, month: 12, day: 31 }, { zone: request.timeZone });
  if (!cursor.isValid) throw new Error(`unknown time zone ${request.timeZone}`);
  const end = DateTime.fromObject({ year: request.toYear + 1, month: 1, day: 2 }, { zone: request.timeZone });
  offsets.push({ fromMs: 0, offsetMinutes: cursor.offset });
  // Hour steps find every change; a change lands on the hour in UK time zones.
  while (cursor < end) {
    const next = cursor.plus({ hours: 1 });
    if (next.offset !== cursor.offset) offsets.push({ fromMs: next.toMillis(), offsetMinutes: next.offset });
    cursor = next;
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
