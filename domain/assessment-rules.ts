/**
 * Pure rules of a single assessment (process-rules.md R-4 .. R-28): deadlines, which
 * events fit which stage, what the record shows for each checklist item, and the checks
 * a sign-off must pass. No clock and no I/O: the workflow passes in the times events
 * carry and the working calendar its parent loaded.
 */
import type { DomainEventType } from './events';
import { STATUTORY_MAXIMUM_WORKING_DAYS, type AuthorityPolicy } from './policy';
import { addDaysInUnit } from './procedure-checks';
import type { Track } from './process';
import { baseChecklistItems, checklistItems, type ChecklistItem, type DecisionFor } from './prompts';
import type { Child } from './referral';
import { addHours, addWorkingDays, endOfLocalDay, localDate, shiftLocalDate, startOfLocalDay, workingDaysBetween, type WorkingCalendar } from './working-days';

const DAY_MS = 86_400_000;

export type AssessmentStage = 'awaiting-allocation' | 'in-progress' | 'awaiting-sign-off' | 'completed';
export type AssessmentType = 'brief' | 'complex';

/** Whole years between a date of birth and a local date (both YYYY-MM-DD). */
export function ageInYears(dateOfBirth: string, onDate: string): number {
  const [by, bm, bd] = dateOfBirth.split('-').map(Number) as [number, number, number];
  const [y, m, d] = onDate.split('-').map(Number) as [number, number, number];
  let age = y - by;
  if (m < bm || (m === bm && d < bd)) age -= 1;
  return age;
}

/** R-11: school age as the case system says, else derived from the date of birth (5 to 16). Unknown → undefined. */
export function isSchoolAge(child: Child, onDate: string): boolean | undefined {
  if (child.schoolAge !== undefined) return child.schoolAge;
  if (child.expectedDeliveryDate) return false;
  if (!child.dateOfBirth) return undefined;
  const age = ageInYears(child.dateOfBirth, onDate);
  return age >= 5 && age <= 16;
}

/** R-24: a child of 12 or more receives the written outcome themselves. Unknown age → false (recorded as such). */
export const CHILD_COPY_MINIMUM_AGE = 12;
export function childReceivesOutcome(child: Child, onDate: string): boolean {
  if (!child.dateOfBirth) return false;
  return ageInYears(child.dateOfBirth, onDate) >= CHILD_COPY_MINIMUM_AGE;
}

/** R-28: a young person of 16 or 17 (at the referral date) who is homeless or at risk of it. */
export function isHomeless16Or17(child: Child, referralDate: string): boolean {
  if (!child.homelessOrAtRisk || !child.dateOfBirth) return false;
  const age = ageInYears(child.dateOfBirth, referralDate);
  return age === 16 || age === 17;
}

/** R-4 / R-5: the completion timescale in working days. */
export function timescaleWorkingDays(policy: AuthorityPolicy, assessmentType: AssessmentType, requested?: number): number {
  if (requested !== undefined) return Math.min(Math.max(requested, 15), STATUTORY_MAXIMUM_WORKING_DAYS);
  return assessmentType === 'brief' ? policy.briefWorkingDays : policy.complexWorkingDays;
}

export interface CompletionDue {
  /** The referral date plus the timescale (R-4: the clock runs from the referral date). */
  normalDueAt: number;
  /** R-20: the expected delivery date less the policy's weeks, for an unborn child. */
  preBirthDueAt?: number;
  /** The earlier of the two. */
  completionDueAt: number;
}

/**
 * When an assessment of `workingDays` is due. `byDay` (cases started since the
 * deadline-integrity change): at the end of the last working day, and a pre-birth date
 * at London's midnight, so that the deadline, the breach and the timeliness report agree.
 */
export function completionDue(
  calendar: WorkingCalendar,
  policy: AuthorityPolicy,
  receivedAtMs: number,
  workingDays: number,
  expectedDeliveryDate?: string,
  byDay = false,
): CompletionDue {
  if (byDay) {
    const normalDueAt = endOfLocalDay(calendar, addWorkingDays(calendar, receivedAtMs, workingDays));
    if (!expectedDeliveryDate) return { normalDueAt, completionDueAt: normalDueAt };
    const preBirthDueAt = startOfLocalDay(calendar, shiftLocalDate(expectedDeliveryDate, -7 * policy.preBirthWeeksBeforeDelivery));
    return { normalDueAt, preBirthDueAt, completionDueAt: Math.min(normalDueAt, preBirthDueAt) };
  }
  const normalDueAt = addWorkingDays(calendar, receivedAtMs, workingDays);
  if (!expectedDeliveryDate) return { normalDueAt, completionDueAt: normalDueAt };
  const preBirthDueAt = Date.parse(`${expectedDeliveryDate}T00:00:00Z`) - policy.preBirthWeeksBeforeDelivery * 7 * DAY_MS;
  return { normalDueAt, preBirthDueAt, completionDueAt: Math.min(normalDueAt, preBirthDueAt) };
}

/** R-6: when the child must be seen, from the allocation decision. */
export function visitDue(
  calendar: WorkingCalendar,
  policy: AuthorityPolicy,
  track: Track,
  allocatedAtMs: number,
  visitWithin: { hours?: number; workingDays?: number } = {},
): number {
  if (visitWithin.hours !== undefined) return addHours(allocatedAtMs, visitWithin.hours);
  if (visitWithin.workingDays !== undefined) return addWorkingDays(calendar, allocatedAtMs, visitWithin.workingDays);
  // Units: the section 17 visit in working days (the default) or calendar days, as the policy says.
  return track === 'S47' ? addHours(allocatedAtMs, policy.visitS47Hours) : addDaysInUnit(calendar, allocatedAtMs, policy.visitS17WorkingDays, policy.visitS17Unit);
}

/** The latest instant (at the same time of day) that lies `workingDays` working days before `dueMs`. */
export function workingDaysBefore(calendar: WorkingCalendar, dueMs: number, workingDays: number): number {
  let candidate = dueMs;
  for (let step = 1; step <= workingDays * 3 + 30; step += 1) {
    candidate = dueMs - step * DAY_MS;
    if (workingDaysBetween(calendar, candidate, dueMs) >= workingDays) return candidate;
  }
  return candidate;
}

/**
 * R-18 / R-19: what to ask the manager ahead of the completion deadline. A brief assessment
 * below the statutory maximum may become complex; anything else needs agreement to exceed.
 */
export function extensionPromptKind(
  calendar: WorkingCalendar,
  assessmentType: AssessmentType,
  receivedAtMs: number,
  completionDueAtMs: number,
): 'extend-to-complex' | 'exceed-timescale' {
  if (assessmentType === 'brief' && workingDaysBetween(calendar, receivedAtMs, completionDueAtMs) < STATUTORY_MAXIMUM_WORKING_DAYS) {
    return 'extend-to-complex';
  }
  return 'exceed-timescale';
}

/** R-16: recorded later than the policy's working days after it happened. */
export function isLateRecording(calendar: WorkingCalendar, policy: AuthorityPolicy, occurredAt: string, recordedAt?: string): boolean {
  if (!recordedAt) return false;
  return workingDaysBetween(calendar, Date.parse(occurredAt), Date.parse(recordedAt)) > policy.recordingWorkingDays;
}

/** Fieldwork: the work of an allocated social worker on an assessment not yet submitted. */
const fieldwork: ReadonlySet<DomainEventType> = new Set<DomainEventType>([
  'home-visited',
  'parent-seen',
  'analysis-completed',
  'interpreter-needed',
  'interpreter-provided',
  'interpreter-waiver-requested',
  'father-exclusion-requested',
  'family-declined-engagement',
  'not-in-education',
]);
/** Concerns and information that may arrive at any stage before completion. */
const beforeCompletion: ReadonlySet<DomainEventType> = new Set<DomainEventType>([
  'significant-harm-suspected',
  'agency-information-received',
  'consent-recorded',
]);
/** R-12 / R-14: acted on at once, whatever the stage. */
const anyStage: ReadonlySet<DomainEventType> = new Set<DomainEventType>(['crime-suspected', 'needs-identified']);

/**
 * Which events fit which stage in cases started since the deadline-integrity change: a
 * child out of school (R-11) is reported at any stage; a significant-harm concern after
 * sign-off calls a strategy discussion at once (R-13, R-25); while a strategy discussion
 * or its enquiry runs, the child being seen and a conference go to it whatever the stage.
 */
export function eventMisfitWithIntegrity(type: DomainEventType, stage: AssessmentStage, strategyDiscussionRunning: boolean): string | undefined {
  if (type === 'not-in-education' || type === 'significant-harm-suspected') return undefined;
  if ((type === 'child-seen' || type === 'child-protection-conference-held') && strategyDiscussionRunning) return undefined;
  return eventMisfit(type, stage, strategyDiscussionRunning);
}

/**
 * Which events fit which stage: the reason an event does not fit, or undefined. The child
 * being seen and a child protection conference also fit before allocation while a
 * strategy discussion runs (the section 47 enquiry sees the child within 24 hours).
 */
export function eventMisfit(type: DomainEventType, stage: AssessmentStage, strategyDiscussionRunning: boolean): string | undefined {
  if (anyStage.has(type)) return undefined;
  if (beforeCompletion.has(type)) {
    return stage === 'completed' ? `the assessment is completed: send new-information instead of ${type} (R-25)` : undefined;
  }
  switch (type) {
    case 'child-seen':
      if (stage === 'in-progress' || (strategyDiscussionRunning && stage !== 'completed')) return undefined;
      return `a child-seen event needs an allocated assessment in progress (stage is ${stage})`;
    case 'child-protection-conference-held':
      if (strategyDiscussionRunning && stage !== 'completed') return undefined;
      return 'no strategy discussion or section 47 enquiry is running for this child';
    case 'assessment-submitted':
      return stage === 'in-progress' ? undefined : `only an assessment in progress can be submitted (stage is ${stage})`;
    case 'family-comments-recorded':
    case 'new-information':
      return stage === 'completed' ? undefined : `${type} applies to a completed assessment (stage is ${stage})`;
    default:
      if (fieldwork.has(type)) {
        if (stage === 'in-progress') return undefined;
        if (stage === 'awaiting-sign-off') return `the assessment awaits sign-off: the manager returns it to the worker for more fieldwork (${type})`;
        return `${type} needs an allocated assessment in progress (stage is ${stage})`;
      }
      return `${type} does not fit an assessment at stage ${stage}`;
  }
}

/** What the record shows, for the R-21 checklist. */
export interface AssessmentEvidence {
  childSeen: Array<{ eventId: string; occurredAt: string; seenAlone: boolean; viewsRecorded: boolean; immediateConcerns: boolean }>;
  homeVisits: Array<{ eventId: string; occurredAt: string; bedroomSeen: boolean }>;
  parentsSeen: Array<{ eventId: string; occurredAt: string; parentRef: string; relationship: string; viewsRecorded: boolean }>;
  agencyInformation: Array<{ eventId: string; occurredAt: string; agency: string }>;
  analyses: Array<{ eventId: string; occurredAt: string; sourceCount: number }>;
  householdChildRefs: string[];
}

export function emptyEvidence(householdChildRefs: string[]): AssessmentEvidence {
  return { childSeen: [], homeVisits: [], parentsSeen: [], agencyInformation: [], analyses: [], householdChildRefs };
}

export type ItemEvidence = { shown: boolean; basis: string } | { shown: 'manager-confirms'; basis: string };

export type BaseChecklistItem = (typeof baseChecklistItems)[number];

/** Per checklist item of the first reading: whether the record shows it, and on what basis (the second reading's: domain/procedure-checks.ts). */
export function checklistEvidence(evidence: AssessmentEvidence): Record<BaseChecklistItem, ItemEvidence> {
  const seenAlone = evidence.childSeen.find((visit) => visit.seenAlone && visit.viewsRecorded);
  const bedroom = evidence.homeVisits.find((visit) => visit.bedroomSeen);
  const parent = evidence.parentsSeen.find((seen) => seen.viewsRecorded);
  const agency = evidence.agencyInformation[0];
  const triangulated = evidence.analyses.find((analysis) => analysis.sourceCount >= 2);
  return {
    'child-seen-alone-and-views-recorded': seenAlone
      ? { shown: true, basis: `child-seen ${seenAlone.eventId}` }
      : { shown: false, basis: 'no child-seen event with the child seen alone and views recorded' },
    'all-children-in-household-seen': {
      shown: 'manager-confirms',
      basis: `household children: ${evidence.householdChildRefs.join(', ') || 'none named'}`,
    },
    'home-visited-and-bedroom-seen': bedroom
      ? { shown: true, basis: `home-visited ${bedroom.eventId}` }
      : { shown: false, basis: 'no home-visited event with the bedroom seen' },
    'parents-seen-and-views-recorded': parent
      ? { shown: true, basis: `parent-seen ${parent.eventId}` }
      : { shown: false, basis: 'no parent-seen event with views recorded' },
    'agency-information-obtained': agency
      ? { shown: true, basis: `agency-information-received ${agency.eventId}` }
      : { shown: false, basis: 'no agency-information-received event' },
    'analysis-triangulated': triangulated
      ? { shown: true, basis: `analysis-completed ${triangulated.eventId}` }
      : { shown: false, basis: 'no analysis-completed event with two or more sources' },
    'clear-evidence-for-decisions': { shown: 'manager-confirms', basis: "the manager's judgement" },
  };
}

export type SignOffDecision = Extract<DecisionFor<'sign-off'>, { decision: 'sign-off' }>;

/**
 * R-21 / R-28: why a sign-off must be refused, or undefined. Every item is answered; an
 * item marked met must not be contradicted by the record; a homeless 16 or 17 year old
 * needs section 20 considered and the accommodation need answered.
 */
export function signOffRefusal(
  decision: SignOffDecision,
  evidence: AssessmentEvidence,
  homeless16Or17: boolean,
  /** Since the procedure-checks patch: what the record shows for the second reading's items (all items are then asked). */
  procedureEvidence?: Partial<Record<ChecklistItem, ItemEvidence>>,
): string | undefined {
  const items: readonly ChecklistItem[] = procedureEvidence ? checklistItems : baseChecklistItems;
  const missing = items.filter((item) => decision.checklist[item] === undefined);
  if (missing.length > 0) return `R-21: every checklist item needs an answer; missing: ${missing.join(', ')}`;
  const shown: Partial<Record<ChecklistItem, ItemEvidence>> = { ...checklistEvidence(evidence), ...procedureEvidence };
  const contradicted = items.filter((item) => decision.checklist[item]?.met === true && shown[item]?.shown === false);
  if (contradicted.length > 0) {
    return `R-21: marked met but the record does not show it: ${contradicted.map((item) => `${item} (${shown[item]?.basis ?? ''})`).join('; ')}`;
  }
  if (homeless16Or17) {
    if (decision.section20Considered !== true) return 'R-28: a homeless 16 or 17 year old needs section 20 accommodation considered (section20Considered: true)';
    if (typeof decision.determinations.accommodationNeeded !== 'boolean') return 'R-28: the need for accommodation must be determined';
  }
  return undefined;
}

/** The local date of an instant, for age checks. */
export function localDateOf(calendar: WorkingCalendar, atMs: number): string {
  return localDate(calendar, atMs);
}
