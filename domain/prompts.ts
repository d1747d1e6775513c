import { z } from 'zod';
import { assessmentFactorsSchema, primaryNeedCodeSchema, reasonForClosureSchema } from './cin-census/codes';
import { childInNeedPlanSchema } from './child-in-need-plan';
import { specialistAssessmentRequestSchema } from './outcomes';
import { instantSchema, staffIdSchema } from './ids';
import { procedureChecklistItemRules, procedureChecklistItems } from './procedure-checks';

/**
 * Decision prompts: what a manager is asked, by when, and the answers allowed. Each kind's
 * decision schema is the single definition used by the workflow (signal and update
 * validator), the API (request validation, 422 answers) and the OpenAPI document.
 */
export const outcomes = [
  'no-further-action',
  'information-and-advice',
  'early-help',
  'child-in-need-plan',
  'specialist-assessment',
  'strategy-discussion',
  'emergency-action',
] as const;
export type Outcome = (typeof outcomes)[number];

/** R-21 as first read: the items every case answers. */
export const baseChecklistItems = [
  'child-seen-alone-and-views-recorded',
  'all-children-in-household-seen',
  'home-visited-and-bedroom-seen',
  'parents-seen-and-views-recorded',
  'agency-information-obtained',
  'analysis-triangulated',
  'clear-evidence-for-decisions',
] as const;
/** Every item a sign-off answers: since the procedure-checks patch, the second reading's items too (domain/procedure-checks.ts). */
export const checklistItems = [...baseChecklistItems, ...procedureChecklistItems] as const;
export type ChecklistItem = (typeof checklistItems)[number];

/** The rule each checklist item serves: the sign-off prompt lists every item with its rule id. */
export const checklistItemRules: Record<ChecklistItem, string> = {
  'child-seen-alone-and-views-recorded': 'R-8',
  'all-children-in-household-seen': 'R-8',
  'home-visited-and-bedroom-seen': 'R-21',
  'parents-seen-and-views-recorded': 'R-9',
  'agency-information-obtained': 'R-21',
  'analysis-triangulated': 'R-21',
  'clear-evidence-for-decisions': 'R-21',
  ...procedureChecklistItemRules,
};

const rationale = z.string().trim().min(1, 'every decision needs a rationale').max(4000);
const decisionBase = {
  promptId: z.string().min(1).max(200),
  rationale,
  decidedBy: staffIdSchema,
  decidedAt: instantSchema,
};

const answer = <D extends string, S extends z.ZodRawShape>(decision: D, shape: S) =>
  z.object({ decision: z.literal(decision), ...decisionBase, ...shape }).strict();
const plain = <D extends string>(decision: D) => answer(decision, {});

export const checklistAnswerSchema = z.union([
  z.object({ met: z.literal(true) }).strict(),
  z.object({ met: z.literal(false), reason: z.string().trim().min(1, 'an item not met needs a recorded reason (R-21)').max(2000) }).strict(),
]);

export const determinationsSchema = z
  .object({
    childInNeed: z.boolean(),
    significantHarmSuspected: z.boolean(),
    accommodationNeeded: z.boolean(),
  })
  .strict();

/** the actions and commitments of a safety plan: who does what (case content: encrypted payloads only). */
const safetyCommitmentsSchema = z
  .array(z.object({ who: z.string().trim().min(1).max(120), does: z.string().trim().min(1).max(2000) }).strict())
  .min(1, 'R-33: a safety plan records who does what')
  .max(30, 'at most 30 commitments');

/** Who attended a strategy discussion: bounded, as every list a decision carries into the history. */
const attendeesSchema = z
  .array(z.enum(['police', 'health', 'education', 'social-care', 'referrer', 'residential-or-fostering-service', 'other']))
  .min(1)
  .max(10, 'at most 10 attendees');

/** R-1 (section 10): the duty decision goes to the parent or carer unless the manager records why not. */
const dutyDecisionExtras = {
  parentsNotToldReason: z.string().trim().min(1).max(2000).optional(),
};

export const decisionSchemas = {
  'duty-decision': z.discriminatedUnion('decision', [
    answer('no-further-action', dutyDecisionExtras),
    answer('information-and-advice', dutyDecisionExtras),
    answer('early-help', dutyDecisionExtras),
    answer('single-assessment', dutyDecisionExtras),
    answer('strategy-discussion', dutyDecisionExtras),
  ]),
  'consent-override': z.discriminatedUnion('decision', [plain('approve'), plain('refuse')]),
  allocation: z.discriminatedUnion('decision', [
    answer('allocate', {
      socialWorkerId: staffIdSchema,
      track: z.enum(['S17', 'S47']),
      assessmentType: z.enum(['brief', 'complex']),
      /** a timescale between 15 and 45 working days; defaults to the type's. */
      timescaleWorkingDays: z.number().int().min(15, 'R-5: at least 15 working days').max(45, 'R-5: at most 45 working days').optional(),
      visitWithinHours: z.number().int().min(1).max(240).optional(),
      visitWithinWorkingDays: z.number().int().min(1).max(15).optional(),
      team: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/).optional(),
      /** The CIN census's primary need (N0..N9), where known at allocation: an episode open at the year end needs one; sign-off confirms it. */
      primaryNeedCode: primaryNeedCodeSchema.optional(),
      /** R-4 (section 10): the supervising manager (default: the case's manager); qualified where the policy lists staff. */
      supervisingManagerId: staffIdSchema.optional(),
    }),
  ]),
  'visit-overdue': z.discriminatedUnion('decision', [answer('reschedule', { visitDueAt: instantSchema }), plain('not-to-be-seen')]),
  'exclude-father': z.discriminatedUnion('decision', [plain('approve'), plain('refuse')]),
  'interpreter-waiver': z.discriminatedUnion('decision', [plain('approve'), plain('refuse')]),
  'supervision-review': z.discriminatedUnion('decision', [plain('continue'), plain('extend-to-complex'), plain('strategy-discussion')]),
  'extend-to-complex': z.discriminatedUnion('decision', [plain('approve'), plain('refuse')]),
  'exceed-timescale': z.discriminatedUnion('decision', [answer('approve', { completionDueAt: instantSchema }), plain('refuse')]),
  'sign-off': z.discriminatedUnion('decision', [
    answer('sign-off', {
      outcome: z.enum(outcomes),
      determinations: determinationsSchema,
      checklist: z.record(z.enum(checklistItems), checklistAnswerSchema),
      /** withhold the written outcome from the family, with the reason in the rationale. */
      withholdFromFamily: z.boolean().optional(),
      /** for a homeless 16 or 17 year old, section 20 accommodation was considered. */
      section20Considered: z.boolean().optional(),
      /** R-28 (section 10): a young person homeless now or under imminent threat: accommodated under section 20, or their refusal. */
      section20Outcome: z.enum(['accommodated-section-20', 'refused-by-young-person']).optional(),
      /** The CIN census's primary need of the episode (N0..N9), decided with the outcome. */
      primaryNeedCode: primaryNeedCodeSchema,
      /** The CIN census's assessment factors (DfE codes), chosen at sign-off. */
      assessmentFactors: assessmentFactorsSchema,
      /** the child in need plan, which the outcome 'child-in-need-plan' needs (cases since the outcomes-follow-on change). */
      childInNeedPlan: childInNeedPlanSchema.optional(),
      /** the specialist assessment requested, which the outcome 'specialist-assessment' needs. */
      specialistAssessment: specialistAssessmentRequestSchema.optional(),
      /** the child is disabled (a disabled child is a child in need by definition). */
      childDisabled: z.boolean().optional(),
      /** why a disabled child is determined not to be in need. */
      notInNeedReason: z.string().trim().min(1).max(2000).optional(),
    }),
    plain('return-to-worker'),
  ]),
  'strategy-discussion-outcome': z.discriminatedUnion('decision', [
    answer('section-47-enquiry', { attendees: attendeesSchema }),
    answer('no-section-47', { attendees: attendeesSchema }),
    answer('emergency-action', {
      attendees: attendeesSchema,
      safetyPlanUntil: instantSchema.optional(),
    }),
  ]),
  'section-47-outcome': z.discriminatedUnion('decision', [
    plain('not-substantiated'),
    /** the plan is needed (cases since the outcomes-follow-on change): it starts the child in need plan's workflow. */
    answer('child-in-need-plan', { childInNeedPlan: childInNeedPlanSchema.optional() }),
    plain('initial-child-protection-conference'),
  ]),
  /** a child in need plan's review, raised at each review date (and when a review is asked for). */
  'cin-plan-review': z.discriminatedUnion('decision', [
    /** The plan goes on; a next review date is needed when none of the plan's is left. */
    answer('continue', { nextReviewAt: instantSchema.optional() }),
    /** The plan ends: the CIN census's reason for closure. */
    answer('close', { reasonForClosure: reasonForClosureSchema }),
    /** The plan no longer keeps the child safe: child protection takes over. */
    answer('step-up', { route: z.enum(['strategy-discussion', 'initial-child-protection-conference']) }),
  ]),
  /** emergency action for one child asks a decision for each other child of the household. */
  'sibling-decision': z.discriminatedUnion('decision', [plain('assess'), plain('no-action')]),
  /** an action of the assessment plan passed its date undone: it was done, or a new date is set. */
  'plan-action-overdue': z.discriminatedUnion('decision', [plain('done'), answer('new-date', { dueBy: instantSchema })]),
  /** circumstances changed: the plan is reviewed (a new version recorded closes this), or "no change" with the reason as rationale. */
  'assessment-plan-review': z.discriminatedUnion('decision', [plain('no-change')]),
  /** a pre-birth assessment on its completion is disclosed to the parents and, if they have instructed one, their solicitor. */
  'pre-birth-disclosure': z.discriminatedUnion('decision', [
    answer('disclosed', { solicitorInstructed: z.boolean(), disclosedToSolicitor: z.boolean().optional() }),
    plain('withheld'),
  ]),
  /** the birth, or another event that could change the conclusion on risk or care planning: update the assessment (on top, R-25) or not. */
  'pre-birth-update': z.discriminatedUnion('decision', [plain('update-assessment'), plain('no-update')]),
  /** new information during the assessment: no change, updated conclusions, a further or specialist assessment, or a strategy discussion. */
  'new-information-review': z.discriminatedUnion('decision', [
    plain('no-change'),
    plain('update-conclusions'),
    answer('specialist-assessment', { specialistAssessment: specialistAssessmentRequestSchema }),
    plain('strategy-discussion'),
  ]),
  /** the safety planning meeting of the family's network, facilitated by the social worker: who does what, for how long. */
  'safety-planning': z.discriminatedUnion('decision', [
    answer('safety-plan-agreed', { commitments: safetyCommitmentsSchema, agreedUntil: instantSchema }),
    plain('not-needed'),
  ]),
  /** the safety plan's agreed period has ended: renew it (a new period, its commitments as agreed) or end it. */
  'safety-plan-review': z.discriminatedUnion('decision', [
    answer('renew', { agreedUntil: instantSchema, commitments: safetyCommitmentsSchema.optional() }),
    plain('end'),
  ]),
  /** accommodation needed: by which route (a care plan is required). */
  'accommodation-route': z.discriminatedUnion('decision', [plain('section-20-with-consent'), plain('court-order')]),
  escalation: z.discriminatedUnion('decision', [answer('acknowledge', { action: z.string().trim().min(1).max(2000) })]),
  /** R-3 (section 10): another child of the household, or an alleged child perpetrator: assess, or why not. */
  'consider-child': z.discriminatedUnion('decision', [plain('start-assessment'), plain('no-assessment')]),
  /** R-8 (section 10): the parents refuse the child being seen alone or at all. */
  'child-visit-refused': z.discriminatedUnion('decision', [
    plain('see-with-trusted-adult'),
    plain('strategy-discussion'),
    answer('other-action', { action: z.string().trim().min(1).max(2000) }),
  ]),
  /** how an unresolved professional disagreement is to be resolved. */
  'professional-disagreement': z.discriminatedUnion('decision', [answer('resolve', { meetingHeld: z.boolean(), resolution: z.string().trim().min(1).max(2000) })]),
  /**
   * the response to a circumstance that needs one (one kind for both, so that
   * the open prompt kinds, a search attribute, never say which): each prompt allows its own answers.
   */
  'circumstance-response': z.discriminatedUnion('decision', [
    answer('nrm-referral-made', { referredAt: instantSchema }),
    plain('no-nrm-referral'),
    plain('multi-agency-risk-referral'),
    plain('multi-agency-programme'),
    plain('cin-planning-meeting'),
  ]),
} as const;

export type PromptKind = keyof typeof decisionSchemas;
export const promptKinds = Object.keys(decisionSchemas) as PromptKind[];
export type DecisionFor<K extends PromptKind> = z.infer<(typeof decisionSchemas)[K]>;
export type AnyDecision = { [K in PromptKind]: DecisionFor<K> }[PromptKind];

export function allowedDecisions(kind: PromptKind): string[] {
  return decisionSchemas[kind].options.map((option) => option.shape.decision.value);
}

/**
 * The sign-off as it was before the census items were asked for: a case started before the
 * census-measures patch replays its accepted sign-off with this (the items were optional).
 */
const signOffBeforeCensusItems = z.discriminatedUnion('decision', [
  decisionSchemas['sign-off'].options[0].extend({ primaryNeedCode: primaryNeedCodeSchema.optional(), assessmentFactors: assessmentFactorsSchema.optional() }),
  decisionSchemas['sign-off'].options[1],
]);

/**
 * The sign-off's checklist as it was before the procedure-checks patch: the first reading's
 * items, each required; the second reading's, which do not apply to those cases, are dropped.
 */
const baseChecklistSchema = z.object(Object.fromEntries(baseChecklistItems.map((item) => [item, checklistAnswerSchema])) as Record<(typeof baseChecklistItems)[number], typeof checklistAnswerSchema>);
const signOffBeforeProcedureChecks = z.discriminatedUnion('decision', [
  decisionSchemas['sign-off'].options[0].extend({ checklist: baseChecklistSchema }),
  decisionSchemas['sign-off'].options[1],
]);
const signOffBeforeBoth = z.discriminatedUnion('decision', [
  signOffBeforeCensusItems.options[0].extend({ checklist: baseChecklistSchema }),
  decisionSchemas['sign-off'].options[1],
]);

/**
 * The schema a decision of this kind is checked with: `censusItems` false for cases from
 * before the census items, `procedureChecks` false (or absent) for cases from before the
 * second reading's checklist items.
 */
export function decisionSchemaFor(kind: PromptKind, options: { censusItems: boolean; procedureChecks?: boolean }): z.ZodType {
  if (kind !== 'sign-off') return decisionSchemas[kind];
  // A case has the procedure-checks patch only if it has the census-measures one (both are read when it starts).
  if (options.procedureChecks) return decisionSchemas[kind];
  return options.censusItems ? signOffBeforeProcedureChecks : signOffBeforeBoth;
}

/** What a signal or update carries before it is matched to its prompt's kind. */
export const managerDecisionSchema = z
  .object({ decision: z.string().min(1).max(60), ...decisionBase })
  .passthrough();
export type ManagerDecision = z.infer<typeof managerDecisionSchema>;

export interface Prompt {
  promptId: string;
  kind: PromptKind;
  /** The rule that asks the question, e.g. 'R-7'. */
  rule: string;
  raisedAt: string;
  dueBy?: string;
  allowedDecisions: string[];
  status: 'open' | 'answered' | 'withdrawn';
  /** Opaque context: what the prompt refers to (e.g. the escalated deadline's name). */
  about?: string;
  answeredAt?: string;
  answeredBy?: string;
  decision?: string;
  /** Its due time passed while it was open. */
  overdue?: boolean;
  /** A sign-off prompt: every checklist item it asks, with its rule, so one form lists them all. */
  checklist?: Array<{ item: ChecklistItem; rule: string }>;
}

/** The checklist a sign-off asks: the first reading's items, and since the procedure-checks patch the second's. */
export function signOffChecklist(procedureChecks: boolean): Array<{ item: ChecklistItem; rule: string }> {
  return (procedureChecks ? checklistItems : baseChecklistItems).map((item) => ({ item, rule: checklistItemRules[item] }));
}

export type DecisionRejection =
  | { code: 'unknown-prompt'; message: string }
  | { code: 'prompt-closed'; message: string }
  | { code: 'decision-not-allowed'; message: string; allowedDecisions: string[] }
  | { code: 'invalid-decision'; message: string; issues: Array<{ path: string; message: string }> };

export type DecisionCheck = { ok: true; prompt: Prompt; decision: AnyDecision } | { ok: false; rejection: DecisionRejection };

/**
 * Whether a decision may answer one of these prompts: the same check runs in the update's
 * validator (so the caller learns at once), in the signal handler (a rejected signal is
 * recorded), and in the API.
 */
export function checkDecision(
  prompts: readonly Prompt[],
  input: unknown,
  options: { censusItems: boolean; procedureChecks?: boolean } = { censusItems: true, procedureChecks: true },
): DecisionCheck {
  const base = managerDecisionSchema.safeParse(input);
  if (!base.success) {
    return { ok: false, rejection: { code: 'invalid-decision', message: 'the decision is incomplete', issues: toIssues(base.error) } };
  }
  const prompt = prompts.find((candidate) => candidate.promptId === base.data.promptId);
  if (!prompt) return { ok: false, rejection: { code: 'unknown-prompt', message: `no prompt ${base.data.promptId} here` } };
  if (prompt.status !== 'open') {
    return { ok: false, rejection: { code: 'prompt-closed', message: `prompt ${prompt.promptId} is already ${prompt.status}` } };
  }
  if (!prompt.allowedDecisions.includes(base.data.decision)) {
    return {
      ok: false,
      rejection: {
        code: 'decision-not-allowed',
        message: `'${base.data.decision}' is not an allowed answer to a ${prompt.kind} prompt`,
        allowedDecisions: prompt.allowedDecisions,
      },
    };
  }
  const parsed = decisionSchemaFor(prompt.kind, options).safeParse(input);
  if (!parsed.success) {
    return { ok: false, rejection: { code: 'invalid-decision', message: `invalid ${prompt.kind} decision`, issues: toIssues(parsed.error) } };
  }
  return { ok: true, prompt, decision: parsed.data as AnyDecision };
}

export function toIssues(error: z.ZodError): Array<{ path: string; message: string }> {
  return error.issues.map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message }));
}

/** The rule that asks each kind of prompt (an escalation takes the rule of what it escalates). */
export const promptRules: Record<Exclude<PromptKind, 'escalation'>, string> = {
  'duty-decision': 'R-1',
  'consent-override': 'R-2',
  allocation: 'R-4',
  'visit-overdue': 'R-7',
  'exclude-father': 'R-9',
  'interpreter-waiver': 'R-10',
  'supervision-review': 'R-15',
  'extend-to-complex': 'R-18',
  'exceed-timescale': 'R-19',
  'sign-off': 'R-21',
  'strategy-discussion-outcome': 'R-26',
  'section-47-outcome': 'R-27',
  'consider-child': 'R-3',
  'child-visit-refused': 'R-8',
  'professional-disagreement': 'R-38',
  'circumstance-response': 'R-40',
  'cin-plan-review': 'R-44',
  'sibling-decision': 'R-34',
  'accommodation-route': 'R-43',
  'safety-planning': 'R-33',
  'new-information-review': 'R-25',
  'pre-birth-disclosure': 'R-47',
  'pre-birth-update': 'R-47',
  'plan-action-overdue': 'R-31',
  'assessment-plan-review': 'R-32',
  'safety-plan-review': 'R-33',
};

/** The rule a prompt id's kind serves, read off the id (`<workflowId>~<kind>-<n>`). */
export function ruleOfPromptId(promptId: string): string | undefined {
  const kind = promptId.slice(promptId.lastIndexOf('~') + 1).replace(/-\d+$/, '');
  return (promptRules as Record<string, string>)[kind];
}

/** How far ahead of the case's clock a decision may be dated (clocks of callers drift a little). */
export const DECISION_FUTURE_TOLERANCE_MS = 5 * 60_000;

/** Why a decision's date cannot be right, or undefined: not ahead of the case's clock, not before the referral. */
export function decidedAtRefusal(decidedAtMs: number, nowMs: number, notBeforeMs?: number): string | undefined {
  if (decidedAtMs > nowMs + DECISION_FUTURE_TOLERANCE_MS) return `decidedAt ${new Date(decidedAtMs).toISOString()} is in the future`;
  if (notBeforeMs !== undefined && decidedAtMs < notBeforeMs) {
    return `decidedAt ${new Date(decidedAtMs).toISOString()} is before the referral was received (${new Date(notBeforeMs).toISOString()})`;
  }
  return undefined;
}

/** Why a decision request is refused whose Idempotency-Key already answered the prompt with another request. */
export function idempotencyKeyReusedMessage(idempotencyKey: string, promptId: string): string {
  return `Idempotency-Key ${idempotencyKey} has already answered prompt ${promptId} with a different request (another body or another caller): repeat that request exactly, or send a new decision under a new key`;
}
