import { z } from 'zod';
import { planRefusal, type ChildInNeedPlan } from './child-in-need-plan';
import { opaqueRef } from './ids';

/**
 * Outcomes that lead somewhere (process-rules.md section 9): what the sign-off must hold for
 * its outcome to be consistent and to start its follow-on (R-43 .. R-45), and the
 * records of emergency action and specialist assessments. Pure: the workflows
 * (workflows/assessment-outcomes.ts) call these.
 */

/** the kinds of specialist assessment 004 names (parenting capacity: R-46). */
export const specialistAssessmentKinds = [
  'parenting-capacity',
  'psychological',
  'psychiatric',
  'paediatric',
  'communication',
  'substance-misuse',
  'domestic-abuse',
  'other',
] as const;

/** a specialist assessment requested: its kind, provider and an opaque reference to follow it by. */
export const specialistAssessmentRequestSchema = z
  .object({
    requestRef: opaqueRef('requestRef'),
    kind: z.enum(specialistAssessmentKinds),
    /** Who provides it (a service or agency, as the case system names it). */
    provider: z.string().trim().min(2).max(120),
  })
  .strict();
export type SpecialistAssessmentRequest = z.infer<typeof specialistAssessmentRequestSchema>;

/** the kinds of emergency protective action. */
export const emergencyActionKinds = ['police-protection', 'emergency-protection-order', 'accommodation-with-consent', 'other'] as const;

/**
 * R-26 (as extended): who a strategy discussion invites: police and health at least, the
 * referring agency where an agency referred (one of police or health is already there), and
 * for a looked-after child the residential or fostering service caring for them (003).
 */
export function strategyDiscussionInvitees(referrerType: string, child: { lookedAfter?: boolean } = {}): string[] {
  const invitees = ['police', 'health'];
  if (!['police', 'health', 'family', 'self', 'anonymous'].includes(referrerType)) invitees.push(`referrer:${referrerType}`);
  if (child.lookedAfter) invitees.push('residential-or-fostering-service');
  return invitees;
}

/** What the R-42 check reads of a sign-off (a subset of the sign-off decision). */
export interface SignOffOutcome {
  outcome: string;
  determinations: { childInNeed: boolean; significantHarmSuspected: boolean; accommodationNeeded: boolean };
  childInNeedPlan?: ChildInNeedPlan;
  specialistAssessment?: SpecialistAssessmentRequest;
  childDisabled?: boolean;
  notInNeedReason?: string;
}

/** Outcomes that need "significant harm: yes". */
const harmOutcomes = new Set(['strategy-discussion', 'emergency-action']);

/**
 * R-42 (and for what their outcomes need): why this sign-off's outcome does not
 * fit its determinations, or undefined. Each reason names what is missing.
 */
export function outcomeRefusal(signOff: SignOffOutcome, nowMs: number): string | undefined {
  const { outcome, determinations } = signOff;
  if (outcome === 'child-in-need-plan' && !determinations.childInNeed) {
    return "R-42: a child in need plan needs the determination 'child in need: yes' (determinations.childInNeed)";
  }
  if (harmOutcomes.has(outcome) && !determinations.significantHarmSuspected) {
    return `R-42: the outcome ${outcome} needs the determination 'significant harm: yes' (determinations.significantHarmSuspected)`;
  }
  if (signOff.childDisabled === true && !determinations.childInNeed && signOff.notInNeedReason === undefined) {
    return 'R-42: a disabled child is a child in need by definition: "child in need: no" needs a reason (notInNeedReason)';
  }
  if (outcome === 'child-in-need-plan') {
    if (!signOff.childInNeedPlan) {
      return 'R-44: a child in need plan outcome needs the plan (childInNeedPlan: services, action points, review dates, intended outcomes, contingency, discussion)';
    }
    const refusal = planRefusal(signOff.childInNeedPlan, nowMs);
    if (refusal) return refusal;
  }
  if (outcome === 'specialist-assessment' && !signOff.specialistAssessment) {
    return 'R-45: a specialist assessment outcome needs the request (specialistAssessment: requestRef, kind, provider)';
  }
  return undefined;
}

/**
 * with "significant harm: yes", an outcome other than a strategy discussion or
 * emergency action needs a strategy discussion held (or running) for the concern; when
 * there is none, the engine starts one.
 */
export function needsStrategyDiscussion(signOff: SignOffOutcome, strategyDiscussionHeldOrRunning: boolean): boolean {
  return signOff.determinations.significantHarmSuspected && !harmOutcomes.has(signOff.outcome) && !strategyDiscussionHeldOrRunning;
}
