import { z } from 'zod';
import { staffIdSchema } from './ids';

/**
 * An authority's assessment policy (process-rules.md: where sources disagree, a rule is a
 * policy setting with a default). Validated on the way in, and pinned into each
 * assessment when it starts, so that a later change of policy never moves the deadlines
 * of a running case.
 */
export const bankHolidayRegions = ['england-and-wales', 'scotland', 'northern-ireland'] as const;

/** the events that change a child's circumstances (004), each of which may prompt a plan review. */
export const planReviewTriggers = ['new-information', 'significant-harm-suspected', 'immediate-safety-concern', 'strategy-discussion', 'emergency-action'] as const;
export type PlanReviewTrigger = (typeof planReviewTriggers)[number];

export const authorityPolicySchema = z
  .object({
    /** duty decision within this many working days of the referral. */
    dutyDecisionWorkingDays: z.number().int().min(1).max(5).default(1),
    /** sooner where there is a child protection concern. */
    dutyDecisionChildProtectionHours: z.number().int().min(1).max(24).default(4),
    /** S17 visit within this many working days of allocation (001 says 3, 004 says 5). */
    visitS17WorkingDays: z.number().int().min(1).max(10).default(5),
    /** S47 visit within this many hours of allocation. */
    visitS47Hours: z.number().int().min(1).max(72).default(24),
    /** brief and complex completion timescales, working days from the referral. */
    briefWorkingDays: z.number().int().min(15).max(45).default(15),
    complexWorkingDays: z.number().int().min(15).max(45).default(45),
    /** the manager allocates within this many working days of the assessment starting (escalated when late). */
    allocationWorkingDays: z.number().int().min(1).max(10).default(1),
    /** Any other prompt (a consent override, an escalation, ...) is answered within this many working days. */
    promptResponseWorkingDays: z.number().int().min(1).max(10).default(1),
    /** supervision discussion within this many working days of the referral. */
    supervisionReviewWorkingDays: z.number().int().min(1).max(45).default(25),
    /** information recorded within this many working days of being received. */
    recordingWorkingDays: z.number().int().min(1).max(10).default(2),
    /** ask the manager this many working days before the completion deadline. */
    extensionWarningWorkingDays: z.number().int().min(1).max(15).default(5),
    /** a pre-birth assessment completes at least this many weeks before delivery. */
    preBirthWeeksBeforeDelivery: z.number().int().min(1).max(20).default(4),
    /** the strategy discussion is held within this many working days of being called. */
    strategyDiscussionWorkingDays: z.number().int().min(1).max(5).default(1),
    /** S47 child seen within this many hours; conference within these working days. */
    section47ChildSeenHours: z.number().int().min(1).max(72).default(24),
    initialConferenceWorkingDays: z.number().int().min(1).max(30).default(15),
    /** How long a completed assessment stays open to family comments and new information. */
    reviewWindowDays: z.number().int().min(1).max(365).default(90),
    // ---- the second reading (process-rules.md sections 9 and 10; cases since the procedure-checks patch) ----
    /** R-1: 002's "within 24 hours" counted as working days (dutyDecisionWorkingDays, the default) or as clock hours (dutyDecisionHours): they differ over a weekend. */
    dutyDecisionUnit: z.enum(['working-days', 'hours']).default('working-days'),
    dutyDecisionHours: z.number().int().min(1).max(72).default(24),
    /** the duty decision is sent to the parent or carer; not telling them needs a recorded reason. */
    dutyDecisionToParents: z.boolean().default(true),
    /** where the authority supplies staff roles, the allocated social worker and supervising manager must be among them. */
    qualifiedStaff: z
      .object({
        // Bounded so that a referral carrying them stays within the API's 100 kB body (a
        // generated policy of 5,000 each was refused 413 as too large: schemathesis).
        socialWorkers: z.array(staffIdSchema).max(600, 'at most 600 social workers in one policy'),
        managers: z.array(staffIdSchema).max(100, 'at most 100 managers in one policy'),
      })
      .strict()
      .optional(),
    /** Units: 001's "three days" / "15 days" read as working or calendar days (R-6 section 17 visit). */
    visitS17Unit: z.enum(['working-days', 'calendar-days']).default('working-days'),
    /** Units: R-15's supervision review counted in working or calendar days. */
    supervisionReviewUnit: z.enum(['working-days', 'calendar-days']).default('working-days'),
    /** new and significant information prompts further supervision. */
    supervisionOnSignificantInformation: z.boolean().default(true),
    /** further supervision at this regular interval after each review (no default in the seeds: unset, no regular review is scheduled). */
    supervisionIntervalWorkingDays: z.number().int().min(1).max(45).optional(),
    /** an unborn child's assessment is allocated within this many working days of its start (no default: unset, the allocation time applies and the step is listed as awaiting). */
    preBirthCommenceWorkingDays: z.number().int().min(1).max(10).optional(),
    /** the first-visit information (letter and pack, consent form, complaints procedure) is checked at sign-off. */
    firstVisitInformation: z.boolean().default(true),
    /** a permanent (written or recorded) explanation for the child. */
    childWishesExplanation: z.boolean().default(true),
    /** the child's views shared with the parents unless unsafe. */
    childViewsSharedWithParents: z.boolean().default(true),
    /** an agency asked to contribute replies within this many working days (no default in the seeds: unset, listed as awaiting). */
    agencyReplyWorkingDays: z.number().int().min(1).max(30).optional(),
    /** the line manager says how a professional disagreement is resolved within this many working days (unset: the prompt response time). */
    disagreementResolutionWorkingDays: z.number().int().min(1).max(30).optional(),
    /**
     * a specialist assessment's result is due within this many working days of the
     * request. No default in the seeds: with none set, the result is listed as awaiting
     * (and the manager reminded every `awaitingReminderWorkingDays`), never dropped.
     */
    specialistAssessmentResultWorkingDays: z.number().int().min(1).max(130).optional(),
    /**
     * the safety planning meeting is held within this many working days of immediate
     * safety being recorded as an issue. No default in the seeds: with none set, the meeting
     * is listed as awaiting and its prompt takes `promptResponseWorkingDays`.
     */
    safetyPlanningMeetingWorkingDays: z.number().int().min(1).max(10).optional(),
    /** the assessment plan is recorded within this many working days of allocation. No default in the seeds: with none set, an assessment without a plan lists it as awaiting. */
    assessmentPlanWorkingDays: z.number().int().min(1).max(20).optional(),
    /** which events that change the child's circumstances prompt a plan review; with none set, every one the rule names. */
    planReviewTriggers: z.array(z.enum(planReviewTriggers)).max(planReviewTriggers.length).optional(),
    /** the plan review is due within this many working days. No default in the seeds: with none set, listed as awaiting (its prompt takes `promptResponseWorkingDays`). */
    planReviewWorkingDays: z.number().int().min(1).max(10).optional(),
    /** a completed pre-birth assessment is disclosed to the parents within this many working days. No default in the seeds: with none set, listed as awaiting. */
    preBirthDisclosureWorkingDays: z.number().int().min(1).max(20).optional(),
    /** How often a step with no time in the policy (see above) is brought back to the manager while it awaits. */
    awaitingReminderWorkingDays: z.number().int().min(1).max(60).default(20),
    bankHolidayRegion: z.enum(bankHolidayRegions).default('england-and-wales'),
    timeZone: z.literal('Europe/London').default('Europe/London'),
  })
  .strict()
  .refine((policy) => policy.briefWorkingDays <= policy.complexWorkingDays, {
    message: 'briefWorkingDays must not exceed complexWorkingDays',
    path: ['briefWorkingDays'],
  });

export type AuthorityPolicy = z.infer<typeof authorityPolicySchema>;
export type AuthorityPolicyInput = z.input<typeof authorityPolicySchema>;

/** The default for England: every setting at the default above. */
export const defaultPolicy: AuthorityPolicy = authorityPolicySchema.parse({});

/** the statutory maximum; beyond it only with a manager's prior agreement. */
export const STATUTORY_MAXIMUM_WORKING_DAYS = 45;
