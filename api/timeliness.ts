import { DateTime } from 'luxon';
import { DFE_ASSESSMENT_WORKING_DAYS, DFE_INITIAL_CONFERENCE_WORKING_DAYS } from '../domain/cin-census/measures';

/** What the report needs of a completed assessment (its search attributes). */
export interface CompletedAssessment {
  completedAt: string;
  completedWithinTimescale?: boolean;
  seenWithinTimescale?: boolean;
  workingDaysToComplete?: number;
  /** The census duration (CensusWorkingDays): start to authorisation, or section 47 start to conference. */
  censusWorkingDays?: number;
}

/**
 * The DfE's national measure the report counts beside the engine's own (the census's
 * definition, domain/cin-census/measures.ts): the same cases, counted the same way, as
 * the census return.
 */
export interface DfeMeasure {
  measure: 'assessment-start-to-authorisation' | 'section-47-start-to-initial-conference';
  workingDays: number;
}

export const DFE_MEASURES = {
  assessment: { measure: 'assessment-start-to-authorisation', workingDays: DFE_ASSESSMENT_WORKING_DAYS },
  'section-47-enquiry': { measure: 'section-47-start-to-initial-conference', workingDays: DFE_INITIAL_CONFERENCE_WORKING_DAYS },
} as const satisfies Record<string, DfeMeasure>;

/** What the report needs of an open assessment. */
export interface OpenAssessment {
  completionDueAt?: string;
  overdue?: boolean;
}

export interface Share {
  count: number;
  /** Out of how many the fact is known for. */
  of: number;
  /** count / of, or null when none is known. */
  share: number | null;
}

export interface TimelinessPeriod {
  /** A calendar month in Europe/London, YYYY-MM. */
  period: string;
  completed: number;
  within45WorkingDays: Share;
  withinOwnTimescale: Share;
  seenWithinTimescale: Share;
  medianWorkingDaysToComplete: number | null;
  /** Open assessments past due whose due date falls in this month. */
  openPastDue: number;
  /** The DfE measure for this month's completed ones (where the report's type has one; cases from before the census measures are not known). */
  dfe?: DfeMeasure & Share & { medianWorkingDays: number | null };
}

export interface TimelinessReport {
  from: string;
  to: string;
  periods: TimelinessPeriod[];
  /** Every open assessment past due now (Overdue=true, or CompletionDueAt before now). */
  openPastDueTotal: number;
}

export const STATUTORY_WORKING_DAYS = 45;
const ZONE = 'Europe/London';

export function monthOf(instant: string): string {
  return DateTime.fromISO(instant, { zone: 'utc' }).setZone(ZONE).toFormat('yyyy-MM');
}

/** The months from..to inclusive (YYYY-MM). */
export function monthsBetween(from: string, to: string): string[] {
  const months: string[] = [];
  let at = DateTime.fromFormat(from, 'yyyy-MM', { zone: ZONE });
  const end = DateTime.fromFormat(to, 'yyyy-MM', { zone: ZONE });
  while (at <= end && months.length < 240) {
    months.push(at.toFormat('yyyy-MM'));
    at = at.plus({ months: 1 });
  }
  return months;
}

/** The instants bounding the months from..to: [start of from, start of the month after to). */
export function periodBounds(from: string, to: string): { start: string; end: string } {
  const start = DateTime.fromFormat(from, 'yyyy-MM', { zone: ZONE }).startOf('month');
  const end = DateTime.fromFormat(to, 'yyyy-MM', { zone: ZONE }).startOf('month').plus({ months: 1 });
  return { start: start.toUTC().toISO() as string, end: end.toUTC().toISO() as string };
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function share(values: Array<boolean | undefined>): Share {
  const known = values.filter((value): value is boolean => typeof value === 'boolean');
  const count = known.filter(Boolean).length;
  return { count, of: known.length, share: known.length === 0 ? null : count / known.length };
}

export function isPastDue(open: OpenAssessment, now: Date): boolean {
  return open.overdue === true || (open.completionDueAt !== undefined && Date.parse(open.completionDueAt) < now.getTime());
}

/** The timeliness report from the search attributes of completed and open assessments (pure). */
export function aggregateTimeliness(input: { from: string; to: string; completed: CompletedAssessment[]; open: OpenAssessment[]; now: Date; dfe?: DfeMeasure }): TimelinessReport {
  const periods = monthsBetween(input.from, input.to).map((period): TimelinessPeriod => {
    const completed = input.completed.filter((assessment) => monthOf(assessment.completedAt) === period);
    const days = completed.map((assessment) => assessment.workingDaysToComplete).filter((value): value is number => typeof value === 'number');
    return {
      period,
      completed: completed.length,
      within45WorkingDays: share(completed.map((assessment) => (typeof assessment.workingDaysToComplete === 'number' ? assessment.workingDaysToComplete <= STATUTORY_WORKING_DAYS : undefined))),
      withinOwnTimescale: share(completed.map((assessment) => assessment.completedWithinTimescale)),
      seenWithinTimescale: share(completed.map((assessment) => assessment.seenWithinTimescale)),
      medianWorkingDaysToComplete: median(days),
      openPastDue: input.open.filter((open) => isPastDue(open, input.now) && open.completionDueAt !== undefined && monthOf(open.completionDueAt) === period).length,
      ...(input.dfe ? { dfe: dfeFigures(input.dfe, completed) } : {}),
    };
  });
  return { from: input.from, to: input.to, periods, openPastDueTotal: input.open.filter((open) => isPastDue(open, input.now)).length };
}

function dfeFigures(measure: DfeMeasure, completed: CompletedAssessment[]): NonNullable<TimelinessPeriod['dfe']> {
  const days = completed.map((assessment) => assessment.censusWorkingDays).filter((value): value is number => typeof value === 'number');
  return {
    ...measure,
    ...share(completed.map((assessment) => (typeof assessment.censusWorkingDays === 'number' ? assessment.censusWorkingDays <= measure.workingDays : undefined))),
    medianWorkingDays: median(days),
  };
}
