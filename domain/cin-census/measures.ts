/**
 * The DfE's timeliness measures, as the Children in Need census defines them, in one
 * place: the timeliness report, the search attributes behind it and the census export all
 * count with these functions, so the report and the return cannot disagree.
 *
 * - An assessment's duration runs from its start (AssessmentActualStartDate: the duty
 *   decision that opened it, or its allocation) to its authorisation (sign-off).
 * - A section 47 enquiry's runs from its start (S47ActualStartDate) to the initial child
 *   protection conference (DateOfInitialCPC).
 *
 * Both count working days the way the census dates do: the start day not counted, the
 * end day counted, weekends and bank holidays of the case's calendar left out. (The
 * engine's own R-5 clock runs from the referral, and is reported beside this one.)
 * Pure: no clock, no I/O, safe in workflow code.
 */
import { workingDaysBetween, type WorkingCalendar } from '../working-days';

/** The national measure: an assessment authorised within 45 working days of its start. */
export const DFE_ASSESSMENT_WORKING_DAYS = 45;
/** The national measure: an initial conference within 15 working days of the section 47 start. */
export const DFE_INITIAL_CONFERENCE_WORKING_DAYS = 15;

/** Working days from a start to an end instant, counted on their local dates (see above). */
export function censusWorkingDays(calendar: WorkingCalendar, startedAt: string, endedAt: string): number {
  return workingDaysBetween(calendar, Date.parse(startedAt), Date.parse(endedAt));
}

/** When an assessment started for the census: the duty decision that opened it, else its allocation. */
export function assessmentStartedAt(state: { dutyDecidedAt?: string; allocatedAt?: string }): string | undefined {
  return state.dutyDecidedAt ?? state.allocatedAt;
}

export function withinDfeAssessmentTimescale(workingDays: number): boolean {
  return workingDays <= DFE_ASSESSMENT_WORKING_DAYS;
}

export function withinDfeConferenceTimescale(workingDays: number): boolean {
  return workingDays <= DFE_INITIAL_CONFERENCE_WORKING_DAYS;
}
