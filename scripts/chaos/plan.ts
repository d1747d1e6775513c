/**
 * What a campaign will do, decided by its seed alone (pure, so it is unit-tested): the
 * faults in order (kind, the pause before each, how long the part stays down) and each
 * case's scenario, with the notifications and case records that case must produce.
 */
import { assessmentWorkflowId, childInNeedPlanWorkflowId, referralWorkflowId, section47EnquiryWorkflowId, strategyDiscussionWorkflowId } from '../../domain/ids';
import { childInNeedPlan } from '../../test/support/child-in-need-plan-example';
import type { Rng } from './prng';
import type { FaultKind } from './settings';

// ---------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------

export interface PlannedFault {
  index: number;
  kind: FaultKind;
  /** Pause after the previous fault has recovered (or after the start) before this one. */
  gapMs: number;
  /** How long the part stays down: the pause before a restart, or the receiver's outage. */
  downMs: number;
}

/** How long each kind of fault keeps its part down, in ms (a restart then takes what it takes). */
export const downRangeMs: Record<FaultKind, readonly [number, number]> = {
  'worker-kill': [500, 4_000],
  'api-kill': [500, 3_000],
  'temporal-kill': [1_000, 6_000],
  'receiver-outage': [5_000, 25_000],
};

/** Each round of faults holds every enabled kind, the worker twice (it is the part that restarts most in practice), in a seeded order. */
const perRound: Record<FaultKind, number> = { 'worker-kill': 2, 'api-kill': 1, 'temporal-kill': 1, 'receiver-outage': 1 };

/** The endless, reproducible sequence of faults for these kinds; the campaign takes from it while cases run. */
export function* faultPlan(rng: Rng, kinds: readonly FaultKind[], gapSeconds: { min: number; max: number }): Generator<PlannedFault> {
  if (kinds.length === 0) return;
  let index = 0;
  for (;;) {
    const round = rng.shuffle(kinds.flatMap((kind) => Array.from({ length: perRound[kind] }, () => kind)));
    for (const kind of round) {
      const [low, high] = downRangeMs[kind];
      index += 1;
      yield {
        index,
        kind,
        gapMs: rng.int(Math.round(gapSeconds.min * 1000), Math.round(gapSeconds.max * 1000)),
        downMs: rng.int(low, high),
      };
    }
  }
}

// ---------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------

/**
 * s17: a section 17 assessment from referral to sign-off.
 * s47: the same, with significant harm suspected during the fieldwork: a strategy
 *   discussion decides on a section 47 enquiry, the child is seen in it, its outcome is
 *   decided, and the assessment is still completed.
 * deadline: a referral with a child protection concern received so long ago that its duty
 *   decision (4 hours) comes due while the campaign runs (perhaps during a fault): the
 *   driver waits for the escalation before deciding, then goes on as s17.
 */
export type CaseKind = 's17' | 's47' | 'deadline';

export const CHILD_REF = 'C-1';
/** The agency whose information the driver records (R-24: a copy of the assessment goes to it). */
export const CONTRIBUTING_AGENCY = 'education';
/** The manager the driver's child in need plans name. */
export const PLAN_MANAGER = childInNeedPlan(0).planManagerId;

/** Sign-off outcomes the driver chooses from (not emergency-action or strategy-discussion: those start workflows of their own that this driver does not drive). */
export const signOffOutcomes = ['child-in-need-plan', 'early-help', 'no-further-action', 'information-and-advice', 'specialist-assessment'] as const;
/** R-23: outcomes that start work elsewhere: a case record and the social worker told at once. */
const followOnOutcomes: readonly SignOffOutcome[] = ['child-in-need-plan', 'early-help', 'specialist-assessment'];
export type SignOffOutcome = (typeof signOffOutcomes)[number];

export interface CaseScenario {
  index: number;
  referralId: string;
  kind: CaseKind;
  team: string;
  socialWorkerId: string;
  referrerType: 'education' | 'health' | 'police' | 'anonymous';
  /** 8 (no copy of the outcome for the child) or 14 (a copy, R-24). */
  childAge: 8 | 14;
  /** A service the family needs (R-14): referred at once, and told the outcome. */
  needsService?: string;
  /** A crime suspected during the fieldwork (R-12): police and manager told at once. */
  crimeSuspected: boolean;
  outcome: SignOffOutcome;
  /** s47 only: the enquiry's outcome. */
  section47Outcome?: 'child-in-need-plan' | 'not-substantiated';
  /** deadline only: how long after the referral is sent its duty decision comes due. */
  dutyDueAfterMs?: number;
}

export function caseScenario(rng: Rng, seed: string, index: number): CaseScenario {
  const roll = rng.next();
  const kind: CaseKind = roll < 0.2 ? 's47' : roll < 0.3 ? 'deadline' : 's17';
  const scenario: CaseScenario = {
    index,
    referralId: `REF-${seed}-${index}`,
    kind,
    team: `T${rng.int(1, 3)}`,
    socialWorkerId: `SW-${rng.int(1, 9)}`,
    referrerType: rng.chance(0.1) ? 'anonymous' : rng.pick(['education', 'health', 'police'] as const),
    childAge: rng.chance(0.5) ? 14 : 8,
    crimeSuspected: rng.chance(0.1),
    outcome: rng.pick(signOffOutcomes),
  };
  if (rng.chance(0.25)) scenario.needsService = `SVC-${rng.int(1, 5)}`;
  if (kind === 's47') scenario.section47Outcome = rng.pick(['child-in-need-plan', 'not-substantiated'] as const);
  if (kind === 'deadline') scenario.dutyDueAfterMs = rng.int(15_000, 90_000);
  return scenario;
}

export interface CaseWorkflowIds {
  referral: string;
  assessment: string;
  strategy?: string;
  section47?: string;
  /** R-43, R-44: the child in need plan the sign-off starts. */
  planFromAssessment?: string;
  /** R-44: the child in need plan a section 47 enquiry's outcome starts. */
  planFromSection47?: string;
}

export function caseWorkflowIds(scenario: CaseScenario): CaseWorkflowIds {
  const ref = scenario.referralId;
  return {
    referral: referralWorkflowId(ref),
    assessment: assessmentWorkflowId(ref, CHILD_REF),
    ...(scenario.kind === 's47' ? { strategy: strategyDiscussionWorkflowId(ref, CHILD_REF, 1), section47: section47EnquiryWorkflowId(ref, CHILD_REF, 1) } : {}),
    ...(scenario.outcome === 'child-in-need-plan' ? { planFromAssessment: childInNeedPlanWorkflowId(ref, CHILD_REF, { kind: 'assessment' }) } : {}),
    ...(scenario.kind === 's47' && scenario.section47Outcome === 'child-in-need-plan'
      ? { planFromSection47: childInNeedPlanWorkflowId(ref, CHILD_REF, { kind: 'section-47', sequence: 1 }) }
      : {}),
  };
}

// ---------------------------------------------------------------------------------------
// What each case must deliver
// ---------------------------------------------------------------------------------------

/** One outbound message by what it means: workflow, channel, kind or reason, recipient, rule, target. */
export interface Meaning {
  channel: 'notification' | 'case-record';
  workflowId: string;
  /** A case record's kind, or a notification's reason. */
  what: string;
  recipient?: string;
  rule?: string;
  target?: string;
}

export function meaningKey(meaning: Meaning): string {
  return [meaning.channel, meaning.workflowId, meaning.what, meaning.recipient ?? '', meaning.rule ?? '', meaning.target ?? ''].join('|');
}

/** The meaning of a delivered body (as activities/outbound.ts sends it). */
export function meaningOfDelivery(body: Record<string, unknown>): string {
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  if (body.channel === 'case-record') {
    return meaningKey({ channel: 'case-record', workflowId: text(body.workflowId) ?? '?', what: text(body.kind) ?? '?' });
  }
  return meaningKey({
    channel: 'notification',
    workflowId: text(body.workflowId) ?? '?',
    what: text(body.reason) ?? '?',
    recipient: text(body.recipient),
    rule: text(body.rule),
    target: text(body.target),
  });
}

/**
 * Every notification and case record this case must produce, once each (workflows/*.ts:
 * referral.ts, assessment.ts, strategy-discussion.ts, section47-enquiry.ts). A change to
 * what the workflows send shows here as a loss or an unexpected delivery, on purpose.
 */
export function expectedMeanings(scenario: CaseScenario): Meaning[] {
  const ids = caseWorkflowIds(scenario);
  const record = (workflowId: string, what: string): Meaning => ({ channel: 'case-record', workflowId, what });
  const notice = (workflowId: string, recipient: string, what: string, rule: string, target?: string): Meaning => ({
    channel: 'notification',
    workflowId,
    what,
    recipient,
    rule,
    ...(target ? { target } : {}),
  });
  const expected: Meaning[] = [record(ids.referral, 'duty-decision')];
  if (scenario.kind === 'deadline') {
    expected.push(notice(ids.referral, 'manager', 'child-protection-referral-received', 'R-1'));
    expected.push(notice(ids.referral, 'manager', 'duty-decision-overdue', 'R-1'));
  }
  // R-1 (second reading): the duty decision goes to the referrer (unless anonymous) and to the parent or carer.
  if (scenario.referrerType !== 'anonymous') expected.push(notice(ids.referral, 'referrer', 'duty-decision-single-assessment', 'R-1'));
  expected.push(notice(ids.referral, 'family', 'duty-decision-single-assessment', 'R-1'));
  expected.push(record(ids.assessment, 'allocation'));
  // R-4 (second reading): the visit timescale goes to the social worker with the allocation.
  expected.push(record(ids.assessment, 'allocation-to-social-worker'));
  if (scenario.needsService) expected.push(notice(ids.assessment, 'service', 'needs-identified', 'R-14', scenario.needsService));
  if (scenario.crimeSuspected) {
    expected.push(notice(ids.assessment, 'police', 'crime-suspected', 'R-12'));
    expected.push(notice(ids.assessment, 'manager', 'crime-suspected', 'R-12'));
  }
  if (ids.strategy && ids.section47) {
    expected.push(notice(ids.strategy, 'manager', 'strategy-discussion-called', 'R-26'));
    expected.push(record(ids.strategy, 'strategy-discussion-outcome'));
    expected.push(record(ids.section47, 'section-47-outcome'));
    expected.push(record(ids.assessment, 'strategy-discussion-result'));
  }
  expected.push(record(ids.assessment, 'assessment-outcome'));
  if (followOnOutcomes.includes(scenario.outcome)) {
    expected.push(record(ids.assessment, 'follow-on-required'));
    expected.push(notice(ids.assessment, 'social-worker', `start-${scenario.outcome}`, 'R-23'));
  }
  // R-43, R-44: each child in need plan starts as its own workflow, recorded and its manager told.
  for (const plan of [ids.planFromAssessment, ids.planFromSection47]) {
    if (!plan) continue;
    expected.push(record(plan, 'cin-plan-started'));
    expected.push(notice(plan, 'manager', 'cin-plan-started', 'R-43', PLAN_MANAGER));
  }
  // R-45: the specialist assessment the outcome asks for is tracked from the sign-off.
  if (scenario.outcome === 'specialist-assessment') expected.push(record(ids.assessment, 'specialist-assessment-requested'));
  // R-24 (as extended): a copy of the assessment to the family, the child from 12, and each agency that contributed.
  expected.push(notice(ids.assessment, 'family', 'assessment-copy', 'R-24'));
  if (scenario.childAge >= 12) expected.push(notice(ids.assessment, 'child', 'assessment-copy', 'R-24'));
  expected.push(notice(ids.assessment, 'agency', 'assessment-copy', 'R-24', CONTRIBUTING_AGENCY));
  // R-24: the written outcome to the family, the child from 12, the referrer unless anonymous, each agency referred to.
  expected.push(notice(ids.assessment, 'family', 'assessment-outcome', 'R-24'));
  if (scenario.childAge >= 12) expected.push(notice(ids.assessment, 'child', 'assessment-outcome', 'R-24'));
  if (scenario.referrerType !== 'anonymous') expected.push(notice(ids.assessment, 'referrer', 'assessment-outcome', 'R-24'));
  if (scenario.needsService) expected.push(notice(ids.assessment, 'agency', 'assessment-outcome', 'R-24', scenario.needsService));
  return expected;
}

// ---------------------------------------------------------------------------------------
// Checking what arrived
// ---------------------------------------------------------------------------------------

export interface AcceptedDelivery {
  idempotencyKey: string;
  /** The body as it arrived (compared between redeliveries of one key). */
  raw: string;
  body: Record<string, unknown>;
  at: number;
}

export interface DeliveryCheck {
  expected: number;
  /** Distinct idempotency keys the receiver accepted (what a receiver deduplicating by key keeps). */
  distinctKeys: number;
  /** Accepted POSTs, counting redeliveries. */
  acceptedPosts: number;
  /** Accepted again under a key already accepted: the at-least-once retries the key exists for. */
  redeliveries: number;
  /** Expected meanings that never arrived. */
  lostMeanings: string[];
  /** Activities the histories scheduled whose idempotency key never arrived. */
  lostKeys: string[];
  /** One meaning under more than one idempotency key: a real duplicate the receiver cannot drop. */
  duplicateMeanings: Array<{ meaning: string; keys: string[] }>;
  /** One key carrying different bodies. */
  keyConflicts: string[];
  /** Arrived, but no case expected it. */
  unexpected: string[];
}

export function checkDeliveries(expected: Iterable<string>, historyKeys: Iterable<string>, accepted: readonly AcceptedDelivery[]): DeliveryCheck {
  const byKey = new Map<string, AcceptedDelivery[]>();
  for (const delivery of accepted) {
    const list = byKey.get(delivery.idempotencyKey) ?? [];
    list.push(delivery);
    byKey.set(delivery.idempotencyKey, list);
  }
  const keysByMeaning = new Map<string, string[]>();
  const keyConflicts: string[] = [];
  for (const [key, deliveries] of byKey) {
    const first = deliveries[0] as AcceptedDelivery;
    if (deliveries.some((delivery) => delivery.raw !== first.raw)) keyConflicts.push(key);
    const meaning = meaningOfDelivery(first.body);
    keysByMeaning.set(meaning, [...(keysByMeaning.get(meaning) ?? []), key]);
  }
  const expectedSet = new Set(expected);
  const lostKeys = [...new Set(historyKeys)].filter((key) => !byKey.has(key)).sort();
  return {
    expected: expectedSet.size,
    distinctKeys: byKey.size,
    acceptedPosts: accepted.length,
    redeliveries: accepted.length - byKey.size,
    lostMeanings: [...expectedSet].filter((meaning) => !keysByMeaning.has(meaning)).sort(),
    lostKeys,
    duplicateMeanings: [...keysByMeaning]
      .filter(([, keys]) => keys.length > 1)
      .map(([meaning, keys]) => ({ meaning, keys: [...keys].sort() }))
      .sort((a, b) => a.meaning.localeCompare(b.meaning)),
    keyConflicts: keyConflicts.sort(),
    unexpected: [...keysByMeaning.keys()].filter((meaning) => !expectedSet.has(meaning)).sort(),
  };
}
