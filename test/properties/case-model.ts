/**
 * Generated cases for the deadline invariants: what a case is (the referral as it arrives,
 * the children, the receivers' outages, the messages and waits that follow), its
 * fast-check arbitraries (shrink-friendly: fewer steps, shorter waits, no outage, a
 * weekday receipt today), and how a spec becomes concrete times on the server's clock.
 */
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { isBankHolidayIndependent, isWorkingDayIndependent, LONDON } from '../support/independent-calendar';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export const receiptKinds = ['weekday-daytime', 'weekday-evening', 'weekend', 'bank-holiday', 'clock-change-weekend'] as const;
export type ReceiptKind = (typeof receiptKinds)[number];

export interface ReceiptSpec {
  kind: ReceiptKind;
  /** Back-dated this many days (then back to the nearest day of the kind). */
  backDays: number;
  /** Minute of the local day (read within the kind's hours). */
  minuteOfDay: number;
}

export type ChildAge = 'unborn' | 5 | 12 | 16 | 17;

export interface ChildSpec {
  age: ChildAge;
  /** Days since the last birthday (an age, not a birth date, is what the case is about). */
  daysPastBirthday: number;
  /** R-28: a 16 or 17 year old homeless or at risk of it (ignored for other ages). */
  homeless: boolean;
  /** Unborn: the expected delivery date this many weeks after the case starts. */
  dueInWeeks: number;
}

export interface OutageSpec {
  /** From the start of the case, in workflow time. */
  startAfterMinutes: number;
  durationMinutes: number;
}

export type Transport = 'update' | 'signal';

export type Step =
  /** Workflow time passes (the test server skips it). */
  | { kind: 'wait'; minutes: number }
  /** Sleep until just past one of the dues the case shows (a deadline, a prompt's dueBy). */
  | { kind: 'wait-past-due'; which: number; overMinutes: number }
  /** One of the actions open now (a decision, a field event), picked by `choice`; dated `lateMinutes` back. */
  | { kind: 'act'; choice: number; lateMinutes: number }
  /** `times` actions on the main path of one child's case (decide, allocate, see, record, submit, sign off, hold, conclude). */
  | { kind: 'progress'; child: number; times: number; choice: number }
  /** An earlier event again, with its eventId (a retried delivery). */
  | { kind: 'repeat'; which: number }
  /** A stream of new-information events, each a new eventId, `gapMinutes` apart. */
  | { kind: 'new-information'; child: number; count: number; gapMinutes: number }
  /** R-13 at any stage, possibly reported late. */
  | { kind: 'significant-harm'; child: number; lateMinutes: number }
  /**
   * Section 9's follow-on (issue 17) for one child: an assessment plan, an action done,
   * immediate safety and its plan, a specialist assessment, a child in need plan and its
   * review, whichever is open now (else a step on the main path towards them).
   */
  | { kind: 'follow-on'; child: number; choice: number }
  /** An event that probably does not fit the stage yet; its eventId is kept for a corrected resend. */
  | { kind: 'out-of-order'; child: number; event: 'assessment-submitted' | 'child-seen' | 'home-visited' };

export interface CaseSpec {
  receipt: ReceiptSpec;
  childProtectionConcern: boolean;
  children: ChildSpec[];
  outages: OutageSpec[];
  /** How field events reach the workflows: the recordEvent update (as the API sends them) or the event signal. */
  transport: Transport;
  /**
   * Section 9: the authority's policy sets the times the seeds leave open (assessment plan,
   * safety planning meeting, specialist result, plan review), so those steps are deadlines;
   * without them each is listed as awaiting.
   */
  followOnTimes: boolean;
  steps: Step[];
}

// ---- arbitraries ----

const receipt: fc.Arbitrary<ReceiptSpec> = fc.record({
  kind: fc.constantFrom(...receiptKinds),
  backDays: fc.integer({ min: 0, max: 90 }),
  minuteOfDay: fc.integer({ min: 0, max: 24 * 60 - 1 }),
});

const child: fc.Arbitrary<ChildSpec> = fc.record({
  age: fc.constantFrom<ChildAge>(12, 5, 16, 17, 'unborn'),
  daysPastBirthday: fc.integer({ min: 1, max: 360 }),
  homeless: fc.boolean(),
  dueInWeeks: fc.integer({ min: 1, max: 36 }),
});

const outage: fc.Arbitrary<OutageSpec> = fc.record({
  // From the start (the first notifications of a case are the urgent ones), within hours, or within days.
  startAfterMinutes: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 6 * 60 }), fc.integer({ min: 0, max: 5 * 24 * 60 })),
  // minutes to days
  durationMinutes: fc.oneof(fc.integer({ min: 5, max: 6 * 60 }), fc.integer({ min: 6 * 60, max: 4 * 24 * 60 })),
});

const minutesLate = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 * 24 * 60 }) });

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('act' as const), choice: fc.nat({ max: 10_000 }), lateMinutes: minutesLate }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('progress' as const), child: fc.nat({ max: 1 }), times: fc.integer({ min: 1, max: 8 }), choice: fc.nat({ max: 10_000 }) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('wait' as const),
      minutes: fc.oneof(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 120, max: 3 * 24 * 60 }), fc.integer({ min: 3 * 24 * 60, max: 30 * 24 * 60 })),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('wait-past-due' as const), which: fc.nat({ max: 1000 }), overMinutes: fc.integer({ min: 0, max: 180 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('repeat' as const), which: fc.nat({ max: 1000 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('new-information' as const),
      child: fc.nat({ max: 1 }),
      count: fc.integer({ min: 2, max: 4 }),
      gapMinutes: fc.integer({ min: 10, max: 20 * 60 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('significant-harm' as const), child: fc.nat({ max: 1 }), lateMinutes: minutesLate }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('follow-on' as const), child: fc.nat({ max: 1 }), choice: fc.nat({ max: 10_000 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('out-of-order' as const),
      child: fc.nat({ max: 1 }),
      event: fc.constantFrom('assessment-submitted' as const, 'child-seen' as const, 'home-visited' as const),
    }),
  },
);

export function caseArbitrary(options: { maxSteps?: number } = {}): fc.Arbitrary<CaseSpec> {
  return fc.record({
    receipt,
    childProtectionConcern: fc.boolean(),
    children: fc.array(child, { minLength: 1, maxLength: 2 }),
    outages: fc.oneof(fc.constant<OutageSpec[]>([]), fc.array(outage, { minLength: 1, maxLength: 2 })),
    transport: fc.constantFrom<Transport>('update', 'signal'),
    followOnTimes: fc.boolean(),
    steps: fc.array(step, { minLength: 1, maxLength: options.maxSteps ?? 24 }),
  });
}

/** The section 9 times a generated authority sets when `followOnTimes` (each within the policy schema's bounds). */
export const followOnPolicyTimes = {
  assessmentPlanWorkingDays: 3,
  safetyPlanningMeetingWorkingDays: 2,
  specialistAssessmentResultWorkingDays: 10,
  planReviewWorkingDays: 2,
} as const;

// ---- from a spec to times on the server's clock ----

function matchesKind(day: DateTime, kind: ReceiptKind): boolean {
  const date = day.toISODate()!;
  switch (kind) {
    case 'weekday-daytime':
    case 'weekday-evening':
      return isWorkingDayIndependent(day);
    case 'weekend':
      return day.weekday >= 6;
    case 'bank-holiday':
      return day.weekday <= 5 && isBankHolidayIndependent(date);
    case 'clock-change-weekend': {
      if (day.weekday < 6) return false;
      const sunday = day.weekday === 7 ? day : day.plus({ days: 1 });
      return sunday.offset !== sunday.plus({ days: 1 }).offset || sunday.offset !== sunday.minus({ days: 1 }).offset;
    }
  }
}

function minuteWithinKind(kind: ReceiptKind, minuteOfDay: number): number {
  if (kind === 'weekday-daytime') return 9 * 60 + (minuteOfDay % (8 * 60)); // 09:00 - 16:59
  if (kind === 'weekday-evening') return 18 * 60 + (minuteOfDay % (6 * 60)); // 18:00 - 23:59
  return minuteOfDay;
}

/**
 * When the referral was received: `backDays` before `nowMs`, then back to the nearest day of
 * the kind (a bank holiday or a clock change may lie further back), at the generated local
 * time, and never after `nowMs`.
 */
export function resolveReceipt(spec: ReceiptSpec, nowMs: number): number {
  let day = DateTime.fromMillis(nowMs, { zone: LONDON }).minus({ days: spec.backDays }).startOf('day');
  for (let tries = 0; tries < 800; tries += 1) {
    if (matchesKind(day, spec.kind)) {
      const at = day.plus({ minutes: minuteWithinKind(spec.kind, spec.minuteOfDay) });
      if (at.toMillis() <= nowMs) return at.toMillis();
    }
    day = day.minus({ days: 1 }).startOf('day');
  }
  throw new Error(`no ${spec.kind} day found before ${new Date(nowMs).toISOString()}`);
}

export interface ResolvedChild {
  childRef: string;
  spec: ChildSpec;
  dateOfBirth?: string;
  expectedDeliveryDate?: string;
  homelessOrAtRisk?: boolean;
}

/** Children with ages relative to the server's clock. */
export function resolveChildren(children: ChildSpec[], nowMs: number): ResolvedChild[] {
  const today = DateTime.fromMillis(nowMs, { zone: LONDON }).startOf('day');
  return children.map((spec, index) => {
    const childRef = `C-${index + 1}`;
    if (spec.age === 'unborn') return { childRef, spec, expectedDeliveryDate: today.plus({ weeks: spec.dueInWeeks }).toISODate()! };
    const dateOfBirth = today.minus({ years: spec.age, days: spec.daysPastBirthday }).toISODate()!;
    const homeless = spec.homeless && (spec.age === 16 || spec.age === 17);
    return { childRef, spec, dateOfBirth, ...(homeless ? { homelessOrAtRisk: true } : {}) };
  });
}

export function describeReceipt(receivedAtMs: number, nowMs: number): string {
  const local = DateTime.fromMillis(receivedAtMs, { zone: LONDON });
  const ago = (nowMs - receivedAtMs) / DAY_MS;
  return `${local.toFormat('ccc yyyy-MM-dd HH:mm ZZZZ')} (${ago < 1 ? `${Math.round((nowMs - receivedAtMs) / MINUTE_MS)} min` : `${ago.toFixed(1)} days`} before the start)`;
}

export function describeChild(child: ResolvedChild): string {
  if (child.expectedDeliveryDate) return `${child.childRef} unborn (due ${child.expectedDeliveryDate})`;
  return `${child.childRef} aged ${String(child.spec.age)} (born ${child.dateOfBirth})${child.homelessOrAtRisk ? ' homeless' : ''}`;
}
