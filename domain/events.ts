import { z } from 'zod';
import { instantSchema, opaqueRef, staffIdSchema } from './ids';
import { existingEventExtensions as ext, procedureEventIssues, procedureEventRules, procedureEventShapes as procedure } from './procedure-checks';
import { emergencyActionKinds, specialistAssessmentRequestSchema } from './outcomes';

/**
 * Field events sent by case management systems (and social workers). Each carries its
 * own id, so a retried delivery changes nothing, and both when it happened and when it
 * was recorded.
 */
const freeText = z.string().trim().min(1).max(4000);

/**
 * Bounds of an event's lists, so that no event is larger than a case can keep (every event
 * is written to the workflow's history): generous against what fieldwork records, tight
 * against a runaway sender. Strings are bounded where they are declared.
 */
export const EVENT_LIST_LIMITS = { engagementAttempts: 100, analysisSources: 50, planActions: 50, planContacts: 50 } as const;

const eventBase = {
  eventId: opaqueRef('eventId'),
  occurredAt: instantSchema,
  recordedAt: instantSchema.optional(),
  actor: staffIdSchema,
  /**
   * Set by the API from the caller's token, whatever the body says: who sent the event (a
   * system sending on behalf of `actor`, or the person themself), and whether it is dated
   * further back than a person may date what they report (only a system may back-date).
   */
  submittedBy: staffIdSchema.optional(),
  backdated: z.boolean().optional(),
};

const event = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.object({ type: z.literal(type), ...eventBase, ...shape }).strict();

export const engagementAttemptSchema = z
  .object({ occurredAt: instantSchema, method: z.enum(['visit', 'phone', 'letter', 'message', 'other']) })
  .strict();

export const domainEventSchema = z
  .discriminatedUnion('type', [
    event('child-seen', {
      seenAlone: z.boolean(),
      reasonNotAlone: freeText.optional(),
      viewsRecorded: z.boolean(),
      /** A visit with immediate concerns brings the supervision review forward. */
      immediateConcerns: z.boolean().optional(),
      ...ext['child-seen'],
    }),
    event('home-visited', { bedroomSeen: z.boolean(), ...ext['home-visited'] }),
    event('parent-seen', {
      parentRef: opaqueRef('parentRef'),
      relationship: z.enum(['mother', 'father', 'step-parent', 'carer', 'other']),
      viewsRecorded: z.boolean(),
      ...ext['parent-seen'],
    }),
    event('agency-information-received', { agency: z.enum(['police', 'health', 'education', 'housing', 'probation', 'other']), ...ext['agency-information-received'] }),
    event('consent-recorded', { given: z.boolean(), ...ext['consent-recorded'] }),
    event('significant-harm-suspected', {}),
    event('crime-suspected', {}),
    event('not-in-education', {}),
    event('interpreter-needed', { language: z.string().trim().min(2).max(60) }),
    event('interpreter-provided', {}),
    event('father-exclusion-requested', { parentRef: opaqueRef('parentRef').optional() }),
    event('interpreter-waiver-requested', {}),
    event('family-declined-engagement', {
      attempts: z
        .array(engagementAttemptSchema)
        .min(1, 'evidence at least one attempt to engage (R-17)')
        .max(EVENT_LIST_LIMITS.engagementAttempts, `at most ${EVENT_LIST_LIMITS.engagementAttempts} attempts in one event: send the rest in another`),
      ...ext['family-declined-engagement'],
    }),
    event('needs-identified', { service: z.string().trim().min(2).max(120) }),
    event('analysis-completed', {
      sources: z
        .array(z.string().trim().min(1).max(120))
        .min(1)
        .max(EVENT_LIST_LIMITS.analysisSources, `at most ${EVENT_LIST_LIMITS.analysisSources} sources`),
    }),
    event('assessment-submitted', {}),
    event('family-comments-recorded', { comments: freeText.optional() }),
    event('new-information', {
      summary: freeText.optional(),
      /** R-13 (and R-25): it gives reasonable cause to suspect significant harm: a strategy discussion starts at once. */
      significantHarmSuspected: z.boolean().optional(),
    }),
    event('child-protection-conference-held', {}),
    // The second reading (domain/procedure-checks.ts): ...
    event('parents-told-of-concerns', procedure['parents-told-of-concerns']),
    event('communication-need-recorded', procedure['communication-need-recorded']),
    event('child-wishes-recorded', procedure['child-wishes-recorded']),
    event('agency-involved', procedure['agency-involved']),
    event('agency-not-consulted', procedure['agency-not-consulted']),
    event('professional-disagreement', procedure['professional-disagreement']),
    event('particular-circumstance-recorded', procedure['particular-circumstance-recorded']),
    event('extra-familial-harm-recorded', procedure['extra-familial-harm-recorded']),
    event('parental-factor-recorded', procedure['parental-factor-recorded']),
    event('household-child-identified', procedure['household-child-identified']),
    event('parent-listed', procedure['parent-listed']),
    event('parent-involvement-limited', procedure['parent-involvement-limited']),
    event('child-visit-refused', procedure['child-visit-refused']),
    event('education-contact-closed', procedure['education-contact-closed']),
    event('significant-information-received', procedure['significant-information-received']),
    event('chronology-updated', procedure['chronology-updated']),
    event('development-stage-recorded', procedure['development-stage-recorded']),
    event('early-help-assessment-used', procedure['early-help-assessment-used']),
    /** emergency protective action taken, at any point of the assessment: its kind and who decided it (occurredAt is its date). */
    event('emergency-action-taken', {
      kind: z.enum(emergencyActionKinds),
      decidedBy: staffIdSchema,
      /** The strategy discussion (its sequence) already held or running for this concern: none is started then. */
      strategyDiscussionSequence: z.number().int().min(1).max(100).optional(),
    }),
    /**
     * the assessment plan, a new version each time (old versions are kept): each action
     * and stage with its owner and target date, and who will be seen or contacted, how and when.
     */
    event('assessment-plan-recorded', {
      actions: z
        .array(
          z
            .object({
              actionRef: opaqueRef('actionRef'),
              stage: z.string().trim().min(1).max(120).optional(),
              action: freeText,
              owner: z.string().trim().min(1).max(120),
              dueBy: instantSchema,
            })
            .strict(),
        )
        .min(1, 'R-31: the plan gives each action an owner and a target date')
        .max(EVENT_LIST_LIMITS.planActions),
      contacts: z
        .array(
          z
            .object({
              who: z.enum(['child', 'parent', 'absent-parent', 'wider-family', 'network', 'professional']),
              ref: opaqueRef('ref').optional(),
              how: z.enum(['visit', 'meeting', 'phone', 'letter', 'message', 'other']),
              when: instantSchema,
            })
            .strict(),
        )
        .max(EVENT_LIST_LIMITS.planContacts),
    }),
    /** an action of the assessment plan was done. */
    event('assessment-plan-action-done', { actionRef: opaqueRef('actionRef') }),
    /** the outcome was discussed with the child or the family (using their communication arrangements, R-35). */
    event('outcome-discussed', { with: z.enum(['child', 'family']), communicationArrangementsUsed: z.boolean().optional() }),
    /** an unborn child's birth (occurredAt is when): after completion, the manager decides whether to update the assessment. */
    event('child-born', {}),
    /** immediate safety recorded as an issue, at any point: a safety planning meeting of the family's network is asked for. */
    event('immediate-safety-concern', {
      /** Significant harm is suspected too: a strategy discussion starts as well. */
      significantHarmSuspected: z.boolean().optional(),
    }),
    /** a specialist assessment requested during the assessment (kind, provider; occurredAt is the request date). */
    event('specialist-assessment-requested', specialistAssessmentRequestSchema.shape),
    /** its result arrived: new information. */
    event('specialist-assessment-result-received', { requestRef: opaqueRef('requestRef') }),
    /** the child in need plan went in writing to an agency providing a service (sent to the plan's workflow). */
    event('cin-plan-sent', { agencyRef: opaqueRef('agencyRef') }),
    /** a review of the child in need plan is asked for before its next review date (sent to the plan's workflow). */
    event('cin-plan-review-requested', {}),
  ])
  .superRefine((value, ctx) => {
    if (value.type === 'child-seen' && !value.seenAlone && !value.reasonNotAlone) {
      ctx.addIssue({ code: 'custom', path: ['reasonNotAlone'], message: 'a child not seen alone needs the reason recorded (R-8)' });
    }
    if (value.recordedAt && Date.parse(value.recordedAt) < Date.parse(value.occurredAt)) {
      ctx.addIssue({ code: 'custom', path: ['recordedAt'], message: 'recordedAt cannot be before occurredAt' });
    }
    for (const issue of procedureEventIssues(value)) ctx.addIssue({ code: 'custom', path: [issue.path], message: issue.message });
  });

export type DomainEvent = z.infer<typeof domainEventSchema>;
export type DomainEventType = DomainEvent['type'];
export const domainEventTypes = domainEventSchema.options.map((option) => option.shape.type.value) as DomainEventType[];

/** The rule each event type serves, for timelines and reports (process-rules.md). */
export const eventRules: Record<DomainEventType, string> = {
  'child-seen': 'R-8',
  'home-visited': 'R-21',
  'parent-seen': 'R-9',
  'agency-information-received': 'R-21',
  'consent-recorded': 'R-2',
  'significant-harm-suspected': 'R-13',
  'crime-suspected': 'R-12',
  'not-in-education': 'R-11',
  'interpreter-needed': 'R-10',
  'interpreter-provided': 'R-10',
  'father-exclusion-requested': 'R-9',
  'interpreter-waiver-requested': 'R-10',
  'family-declined-engagement': 'R-17',
  'needs-identified': 'R-14',
  'analysis-completed': 'R-21',
  'assessment-submitted': 'R-21',
  'family-comments-recorded': 'R-24',
  'new-information': 'R-25',
  'child-protection-conference-held': 'R-27',
  ...procedureEventRules,
  'emergency-action-taken': 'R-34',
  'immediate-safety-concern': 'R-33',
  'child-born': 'R-47',
  'outcome-discussed': 'R-24',
  'assessment-plan-recorded': 'R-31',
  'assessment-plan-action-done': 'R-31',
  'specialist-assessment-requested': 'R-45',
  'specialist-assessment-result-received': 'R-45',
  'cin-plan-sent': 'R-44',
  'cin-plan-review-requested': 'R-44',
};
