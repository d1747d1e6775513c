/**
 * The engine's working-day arithmetic (domain/working-days.ts, on a calendar built as the
 * calendar activity builds it) agrees with the independent calculator on generated
 * instants: any time of day, weekends, bank holidays, the clock-change weekends.
 */
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { buildWorkingCalendar } from '../../activities/calendar';
import { addWorkingDays, workingDaysBetween } from '../../domain/working-days';
import { addWorkingDaysIndependentMs, LONDON, workingDaysBetweenIndependent } from '../support/independent-calendar';
import { propertyParameters, propertyRuns } from './settings';

const DEFAULT_RUNS = 300;

const FROM_YEAR = 2019;
const TO_YEAR = 2035;
const calendar = buildWorkingCalendar({ region: 'england-and-wales', timeZone: LONDON, fromYear: FROM_YEAR - 1, toYear: TO_YEAR + 1 });

/** A London local date and time: uniformly spread, or on a day that is easy to get wrong. */
const instant = fc.oneof(
  fc.integer({ min: Date.UTC(FROM_YEAR, 0, 1), max: Date.UTC(TO_YEAR, 11, 31) }),
  fc
    .record({
      year: fc.integer({ min: FROM_YEAR, max: TO_YEAR }),
      day: fc.constantFrom('12-24', '12-25', '12-26', '12-27', '12-28', '12-31', '01-01', '01-02', '01-03', 'easter', 'spring-change', 'autumn-change'),
      offsetDays: fc.integer({ min: -2, max: 2 }),
      // Any time, or the night hours a clock change skips or repeats (and the hour before midnight).
      minuteOfDay: fc.oneof(fc.integer({ min: 0, max: 24 * 60 - 1 }), fc.integer({ min: 0, max: 3 * 60 - 1 }), fc.integer({ min: 23 * 60, max: 24 * 60 - 1 })),
    })
    .map(({ year, day, offsetDays, minuteOfDay }) => {
      let date: DateTime;
      if (day === 'easter') date = easterSunday(year);
      else if (day === 'spring-change') date = lastSunday(year, 3);
      else if (day === 'autumn-change') date = lastSunday(year, 10);
      else date = DateTime.fromISO(`${year}-${day}`, { zone: LONDON });
      return date.plus({ days: offsetDays }).startOf('day').plus({ minutes: minuteOfDay }).toMillis();
    }),
);

function lastSunday(year: number, month: number): DateTime {
  const last = DateTime.fromObject({ year, month }, { zone: LONDON }).endOf('month').startOf('day');
  return last.minus({ days: last.weekday % 7 });
}

/** Easter Sunday (the anonymous Gregorian algorithm). */
function easterSunday(year: number): DateTime {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return DateTime.fromObject({ year, month, day }, { zone: LONDON });
}

describe('working days: engine arithmetic against the independent calculator', () => {
  it('addWorkingDays and workingDaysBetween agree for any instant and 0 to 60 working days', () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: 0, max: 60 }), (fromMs, days) => {
        const engine = addWorkingDays(calendar, fromMs, days);
        expect(new Date(engine).toISOString()).toBe(new Date(addWorkingDaysIndependentMs(fromMs, days)).toISOString());
        expect(workingDaysBetween(calendar, fromMs, engine)).toBe(workingDaysBetweenIndependent(fromMs, engine));
      }),
      propertyParameters('working-day arithmetic', DEFAULT_RUNS),
    );
  }, 60_000 + propertyRuns(DEFAULT_RUNS) * 25);
});
