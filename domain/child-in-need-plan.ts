import { z } from 'zod';
import { reasonForClosureSchema } from './cin-census/codes';
import { instantSchema, opaqueRef, staffIdSchema } from './ids';
import type { CaseContext } from './process';

/**
 * The child in need plan: what a sign-off with the outcome "child in need plan"
 * or a section 47 enquiry's "child in need plan" outcome, must state, and
 * what the plan's own workflow (workflows/child-in-need-plan.ts) keeps track of. Its
 * contents are case content: they travel in encrypted payloads only; the plan's workflow
 * id, search attributes and notifications carry opaque references.
 */
const planText = z.string().trim().min(1).max(2000);

/** Bounds of a plan's lists: generous against what a plan holds, tight against a runaway sender. */
export const PLAN_LIST_LIMITS = { services: 30, actions: 50, reviewDates: 24, intendedOutcomes: 20 } as const;

/** A discussion of the plan with someone: when it took place, or why it did not. */
export const planDiscussionSchema = z.union([
  z.object({ discussed: z.literal(true), on: instantSchema }).strict(),
  z.object({ discussed: z.literal(false), reason: planText }).strict(),
]);

export const childInNeedPlanSchema = z
  .object({
    /** Who manages the plan and reviews it (the plan's reviewing officer): its review prompts go to them. */
    planManagerId: staffIdSchema,
    /** The services to be provided, each by an agency (an opaque reference): the plan goes in writing to each agency. */
    services: z
      .array(z.object({ service: z.string().trim().min(2).max(120), agencyRef: opaqueRef('agencyRef') }).strict())
      .min(1, 'R-44: the plan states the services to be provided')
      .max(PLAN_LIST_LIMITS.services),
    /** Action points: who does what, by when. */
    actions: z
      .array(z.object({ actionRef: opaqueRef('actionRef'), action: planText, owner: z.string().trim().min(1).max(120), dueBy: instantSchema }).strict())
      .min(1, 'R-44: the plan states its action points (who, by when)')
      .max(PLAN_LIST_LIMITS.actions),
    /** The plan's review dates: each is a deadline that prompts the plan's manager. */
    reviewDates: z.array(instantSchema).min(1, 'R-44: the plan states its review dates').max(PLAN_LIST_LIMITS.reviewDates),
    /** What the plan intends for the child. */
    intendedOutcomes: z.array(planText).min(1, 'R-44: the plan states its intended outcomes for the child').max(PLAN_LIST_LIMITS.intendedOutcomes),
    /** What happens should the plan fail. */
    contingency: planText,
    /** the plan was discussed with the child, the family and the professionals (or why not). */
    discussion: z.object({ child: planDiscussionSchema, family: planDiscussionSchema, professionals: planDiscussionSchema }).strict(),
  })
  .strict()
  .superRefine((plan, ctx) => {
    const refs = plan.actions.map((action) => action.actionRef);
    if (new Set(refs).size !== refs.length) ctx.addIssue({ code: 'custom', path: ['actions'], message: 'each actionRef may appear once' });
  });

export type ChildInNeedPlan = z.infer<typeof childInNeedPlanSchema>;

/** The agencies a plan goes to in writing: one entry per agency providing a service. */
export function planAgencies(plan: ChildInNeedPlan): string[] {
  return [...new Set(plan.services.map((service) => service.agencyRef))];
}

/** Why this plan cannot be accepted at `nowMs` (a review date already past), or undefined. */
export function planRefusal(plan: ChildInNeedPlan, nowMs: number): string | undefined {
  const past = plan.reviewDates.filter((date) => Date.parse(date) <= nowMs);
  if (past.length === plan.reviewDates.length) return 'R-44: the plan needs at least one review date still to come';
  return undefined;
}

/** Where a plan came from: the assessment's sign-off, or a section 47 enquiry (its sequence). */
export type PlanOrigin = { kind: 'assessment' } | { kind: 'section-47'; sequence: number };

export interface ChildInNeedPlanInput extends CaseContext {
  childRef: string;
  origin: PlanOrigin;
  /** When the outcome that made the plan was decided (the plan starts then). */
  startedAt: string;
  /** Who decided the outcome (the plan's manager may be another). */
  decidedBy: string;
  plan: ChildInNeedPlan;
  /**
   * Set by the plan's own run when it continues as new (issue 13): what the run before
   * handed over. Absent when the plan starts. Its type is the workflow's (the engine's
   * prompts, record and deadlines, and the plan's reviews, agencies and actions due).
   */
  continued?: unknown;
  /** Lowers the engine's hand-over bound (tests only; production runs use the engine's default). */
  continueAsNewAtHistoryEvents?: number;
  /** Lowers what a hand-over carries (tests only; production runs use the engine's CARRY_OVER_LIMITS). */
  carryOverLimits?: { recordEntries?: number; eventIds?: number };
}

/** The answers to a plan's review (a prompt of kind 'cin-plan-review'). */
export const planReviewOutcomes = ['continue', 'close', 'step-up'] as const;

export { reasonForClosureSchema };

export interface ChildInNeedPlanResult {
  status: 'closed' | 'stepped-up';
  closedAt: string;
  /** The CIN census ReasonForClosure code (RC1..RC9) given at closure. */
  reasonForClosure?: z.infer<typeof reasonForClosureSchema>;
}
