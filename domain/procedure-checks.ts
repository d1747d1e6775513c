/**
 * The second reading of the procedures (process-rules.md section 9: R-29, R-30, R-35 ..
 * R-41, R-46; section 10: the extensions of R-1, R-2, R-3, R-4, R-8, R-9, R-11, R-15,
 * R-17, R-20, R-21, R-28): the fields of the events that carry them, the sign-off
 * checklist items they add, what the record shows for each, and the checks a sign-off
 * must pass. Pure: no clock and no I/O. The workflow side is workflows/assessment-checks.ts.
 *
 * Particular circumstances (disability, trafficking, FGM, youth justice, a parent in
 * prison, ...) are special category data: they live in event and decision payloads and in
 * the state (all encrypted), never in an id, a search attribute, a notification reason or a log.
 */
import { z } from 'zod';
import { childRefSchema, instantSchema, localDateSchema, opaqueRef } from './ids';
import { addHours, addWorkingDays, startOfLocalDay, type WorkingCalendar } from './working-days';

const freeText = z.string().trim().min(1).max(4000);
const reasonText = z.string().trim().min(1).max(2000);

/** Agencies as the engine names them (R-37; the same list as agency-information-received). */
export const agencyKinds = ['police', 'health', 'education', 'housing', 'probation', 'other'] as const;

/** R-39 (and R-40): the circumstances 004 says need particular care. */
export const particularCircumstances = [
  'young-carer',
  'special-educational-needs',
  'ehc-plan',
  'disability',
  'in-hospital',
  'unaccompanied-migrant',
  'parent-in-prison',
  'gang-risk',
  'fgm-risk',
  'youth-justice-risk',
  'returning-home-from-accommodation',
  'trafficking',
] as const;
export type ParticularCircumstance = (typeof particularCircumstances)[number];

/** R-41: extra-familial harm. */
export const extraFamilialHarmKinds = ['exploitation', 'gangs', 'online-abuse', 'radicalisation', 'other'] as const;
/** R-46: what in the parents' lives asks for a parenting capacity assessment. */
export const parentalFactors = ['mental-health', 'substance-misuse', 'domestic-violence', 'learning-difficulty'] as const;
/** R-35: communication needs. */
export const communicationNeeds = ['language', 'impairment-or-disability', 'parent-learning-disability', 'limited-communication', 'other'] as const;
/** R-2: what a parent's consent covers. */
export const consentScopes = ['other-agencies', 'wider-family', 'meetings'] as const;
export type ConsentScope = (typeof consentScopes)[number];

/** Fields added to existing events (all optional: histories recorded before them still parse). */
export const existingEventExtensions = {
  /** R-29: at the first visit, what the parents were given (the visit event records each). */
  'home-visited': {
    informationGiven: z
      .object({ introductoryLetterAndPack: z.boolean(), consentForm: z.boolean(), complaintsProcedure: z.boolean() })
      .strict()
      .optional(),
    /** R-29: why an item of the first-visit information was not given. */
    informationNotGivenReason: reasonText.optional(),
  },
  /** R-8: a trusted adult present in place of seeing the child alone. */
  'child-seen': { trustedAdultPresent: z.boolean().optional() },
  /** R-9: whether the parent lives with the child. */
  'parent-seen': { resident: z.boolean().optional() },
  /** R-37: which listed agency replied. */
  'agency-information-received': { agencyRef: opaqueRef('agencyRef').optional() },
  /** R-2: consent per parent and its scope. */
  'consent-recorded': {
    parentRef: opaqueRef('parentRef').optional(),
    scopes: z.array(z.enum(consentScopes)).min(1).max(consentScopes.length).optional(),
  },
  /** R-17: why the assessment is completed without the family (required since the procedure-checks change). */
  'family-declined-engagement': { reasonsForCompletingWithout: reasonText.optional() },
} as const;

/** New events (each listed in domain/events.ts with its rule in eventRules). */
export const procedureEventShapes = {
  /** R-30: what the parents will be told of the concerns, and when; or why it is delayed or withheld. */
  'parents-told-of-concerns': {
    status: z.enum(['told', 'to-be-told', 'withheld']),
    /** When they were told ('told'; default occurredAt) or will be ('to-be-told'). */
    at: instantSchema.optional(),
    /** Why telling is delayed past the visit deadline or withheld (immediate safety, a joint police investigation). */
    reason: reasonText.optional(),
  },
  /** R-35: a communication need of the child or a parent, and how it is met. */
  'communication-need-recorded': {
    person: z.enum(['child', 'parent']),
    parentRef: opaqueRef('parentRef').optional(),
    need: z.enum(communicationNeeds),
    /** How it is met (also when giving feedback); absent while it is not yet met. */
    howMet: freeText.optional(),
    /** A communication assessment's recommendations: followed, or not with the reason. */
    assessmentRecommendations: z.enum(['none', 'followed', 'not-followed']).optional(),
    recommendationsNotFollowedReason: reasonText.optional(),
    /** A family member used to communicate: the reason. */
    familyMemberUsedReason: reasonText.optional(),
    familyMemberUsed: z.boolean().optional(),
  },
  /** R-36: the child's wishes and feelings about the services, how obtained and how used. */
  'child-wishes-recorded': {
    method: z.enum(['direct-work', 'communication-tool', 'conversation', 'other']),
    howUsed: freeText,
    /** Policy (default on): a permanent, written or recorded, explanation for the child. */
    explanationGiven: z.boolean(),
    /** Policy (default on): the child's views shared with the parents unless unsafe. */
    sharedWithParents: z.boolean(),
    notSharedReason: reasonText.optional(),
  },
  /** R-37: an agency involved with the child and family, here, at a previous address in the UK, or abroad. */
  'agency-involved': {
    agencyRef: opaqueRef('agencyRef'),
    agency: z.enum(agencyKinds),
    location: z.enum(['current', 'previous-address-uk', 'abroad']),
    /** Family abroad: when the enquiry to the overseas authority was made. */
    overseasEnquiryAt: instantSchema.optional(),
  },
  /** R-37: an agency listed is not to be consulted, with the reason. */
  'agency-not-consulted': { agencyRef: opaqueRef('agencyRef'), reason: reasonText },
  /** R-38: an unresolved difference of opinion between professionals, escalated to the line manager. */
  'professional-disagreement': { with: z.array(z.enum(agencyKinds)).min(1).max(agencyKinds.length) },
  /** R-39 / R-40: a circumstance that needs particular care, and how the plan addresses it. Special category data. */
  'particular-circumstance-recorded': {
    circumstance: z.enum(particularCircumstances),
    howAddressed: freeText.optional(),
  },
  /** R-41: extra-familial harm; an alleged child perpetrator is considered for assessment (R-3). */
  'extra-familial-harm-recorded': {
    kinds: z.array(z.enum(extraFamilialHarmKinds)).min(1).max(extraFamilialHarmKinds.length),
    allegedChildPerpetratorRef: childRefSchema.optional(),
  },
  /** R-46: parental mental health, substance misuse, domestic violence or learning difficulty. */
  'parental-factor-recorded': { factors: z.array(z.enum(parentalFactors)).min(1).max(parentalFactors.length) },
  /** R-3: another child of the household (or one who comes to light later): the manager decides on an assessment. */
  'household-child-identified': { childRef: childRefSchema, dateOfBirth: localDateSchema.optional() },
  /** R-9: a parent or carer, resident or not, listed for the assessment. */
  'parent-listed': {
    parentRef: opaqueRef('parentRef'),
    relationship: z.enum(['mother', 'father', 'step-parent', 'carer', 'other']),
    resident: z.boolean(),
  },
  /** R-9: a parent's involvement limited where it could put someone at risk, with the reason. */
  'parent-involvement-limited': { parentRef: opaqueRef('parentRef'), reason: reasonText },
  /** R-8: the parents refuse consent for the child to be seen alone, or at all. */
  'child-visit-refused': { refused: z.enum(['seen-alone', 'seen-at-all']), parentRef: opaqueRef('parentRef').optional() },
  /** R-11: the education contact closed: the reason found and the suitability of any alternative arrangement. */
  'education-contact-closed': {
    reasonFound: freeText,
    alternativeArrangement: z.enum(['none', 'suitable', 'unsuitable']),
  },
  /** R-15: new and significant information during the assessment (prompts further supervision). */
  'significant-information-received': { summary: freeText.optional() },
  /** R-21: the chronology was updated during the assessment. */
  'chronology-updated': {},
  /** R-21: the child's stage of development recorded. */
  'development-stage-recorded': {},
  /** R-21: an Early Help Assessment was used. */
  'early-help-assessment-used': {},
} as const;

export type ProcedureEventType = keyof typeof procedureEventShapes;
export const procedureEventTypes = Object.keys(procedureEventShapes) as ProcedureEventType[];

export const procedureEventRules: Record<ProcedureEventType, string> = {
  'parents-told-of-concerns': 'R-30',
  'communication-need-recorded': 'R-35',
  'child-wishes-recorded': 'R-36',
  'agency-involved': 'R-37',
  'agency-not-consulted': 'R-37',
  'professional-disagreement': 'R-38',
  'particular-circumstance-recorded': 'R-39',
  'extra-familial-harm-recorded': 'R-41',
  'parental-factor-recorded': 'R-46',
  'household-child-identified': 'R-3',
  'parent-listed': 'R-9',
  'parent-involvement-limited': 'R-9',
  'child-visit-refused': 'R-8',
  'education-contact-closed': 'R-11',
  'significant-information-received': 'R-15',
  'chronology-updated': 'R-21',
  'development-stage-recorded': 'R-21',
  'early-help-assessment-used': 'R-21',
};

/** Cross-field checks of the events above (called from domain/events.ts's superRefine). */
export function procedureEventIssues(value: Record<string, unknown> & { type: string }): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  const need = (condition: boolean, path: string, message: string) => {
    if (condition) issues.push({ path, message });
  };
  switch (value.type) {
    case 'home-visited': {
      const given = value.informationGiven as Record<string, boolean> | undefined;
      need(!!given && Object.values(given).includes(false) && !value.informationNotGivenReason, 'informationNotGivenReason', 'R-29: first-visit information not given needs the reason');
      break;
    }
    case 'parents-told-of-concerns':
      need(value.status === 'withheld' && !value.reason, 'reason', 'R-30: withholding the concerns from the parents needs the reason');
      need(value.status === 'to-be-told' && !value.at, 'at', 'R-30: say when the parents will be told');
      break;
    case 'communication-need-recorded':
      need(value.person === 'parent' && !value.parentRef, 'parentRef', "R-35: a parent's need names the parent");
      need(value.assessmentRecommendations === 'not-followed' && !value.recommendationsNotFollowedReason, 'recommendationsNotFollowedReason', "R-35: a communication assessment's recommendations not followed need the reason");
      need(value.familyMemberUsed === true && !value.familyMemberUsedReason, 'familyMemberUsedReason', 'R-35: a family member used to communicate needs the reason');
      break;
    case 'child-wishes-recorded':
      need(value.sharedWithParents === false && !value.notSharedReason, 'notSharedReason', "R-36: the child's views not shared with the parents need the reason");
      break;
    case 'consent-recorded':
      need(value.scopes !== undefined && value.parentRef === undefined, 'parentRef', 'R-2: consent with a scope is recorded per parent (parentRef)');
      break;
    default:
      break;
  }
  return issues;
}

// ---------------------------------------------------------------------------------------
// Sign-off checklist items (R-21 and its section-10 extension)

/** The checklist items this module adds (R-31's assessment plan item is issue 17's). */
export const procedureChecklistItems = [
  'first-visit-information-given',
  'parents-told-of-concerns',
  'communication-needs-met',
  'views-taken-into-account',
  'all-children-needs-considered',
  'chronology-updated',
  'development-stage-recorded',
  'early-help-assessment-considered',
  'agencies-consulted-including-previous-addresses',
  'particular-circumstances-addressed',
  'ehc-plan-informed',
  'trafficking-nrm-decided',
  'parenting-capacity-assessed',
  'education-contact-closed',
  'professional-disagreements-resolved',
] as const;
export type ProcedureChecklistItem = (typeof procedureChecklistItems)[number];

/** The rule each new item serves (the sign-off prompt lists every item with its rule). */
export const procedureChecklistItemRules: Record<ProcedureChecklistItem, string> = {
  'first-visit-information-given': 'R-29',
  'parents-told-of-concerns': 'R-30',
  'communication-needs-met': 'R-35',
  'views-taken-into-account': 'R-36',
  'all-children-needs-considered': 'R-3',
  'chronology-updated': 'R-21',
  'development-stage-recorded': 'R-21',
  'early-help-assessment-considered': 'R-21',
  'agencies-consulted-including-previous-addresses': 'R-37',
  'particular-circumstances-addressed': 'R-39',
  'ehc-plan-informed': 'R-39',
  'trafficking-nrm-decided': 'R-40',
  'parenting-capacity-assessed': 'R-46',
  'education-contact-closed': 'R-11',
  'professional-disagreements-resolved': 'R-38',
};

/** What the record shows of the second reading's requirements (part of the assessment's state). */
export interface ProcedureRecord {
  /** R-4: who does the work and who supervises it. */
  allocation?: { socialWorkerId: string; supervisingManagerId: string };
  firstVisitInformation?: { eventId: string; given: Record<string, boolean>; reasonNotGiven?: string };
  parentsTold?: { eventId: string; status: 'told' | 'to-be-told' | 'withheld'; at?: string; reason?: string };
  communicationNeeds: Array<{ eventId: string; person: 'child' | 'parent'; parentRef?: string; need: string; met: boolean; familyMemberUsed?: boolean; recommendationsNotFollowed?: boolean }>;
  childWishes: Array<{ eventId: string; method: string; explanationGiven: boolean; sharedWithParents: boolean; notSharedReason?: string }>;
  agencies: Array<{ agencyRef: string; agency: string; location: string; askedAt: string; status: 'awaiting' | 'replied' | 'not-consulted'; replyDueAt?: string; overseasEnquiryAt?: string; consentFlagged?: boolean }>;
  disagreements: Array<{ eventId: string; promptId: string; status: 'escalated' | 'resolved'; meetingHeld?: boolean }>;
  circumstances: Array<{ circumstance: ParticularCircumstance; howAddressed: boolean; eventId: string }>;
  trafficking?: { promptId: string; status: 'awaiting' | 'referred' | 'not-referred'; referredAt?: string };
  extraFamilialHarm: Array<{ eventId: string; promptId: string; response?: string }>;
  parentalFactors: string[];
  householdChildren: Array<{ childRef: string; promptId: string; status: 'awaiting' | 'assessment-started' | 'not-assessed'; workflowId?: string; cause: string }>;
  parents: Array<{ parentRef: string; relationship: string; resident?: boolean; seenWithViews: boolean; limitedReason?: string }>;
  consentByParent: Array<{ parentRef: string; given: boolean; scopes: ConsentScope[]; at: string }>;
  childVisitRefusals: Array<{ eventId: string; promptId: string; refused: string; decision?: string }>;
  trustedAdultVisits: string[];
  education?: { status: 'open' | 'closed'; reasonFound?: boolean; alternativeArrangement?: string };
  chronologyUpdatedAt?: string;
  developmentRecordedAt?: string;
  earlyHelpAssessmentUsed: boolean;
  /** Steps the rules require whose time the authority has not set: listed, never dropped. */
  awaiting: Array<{ rule: string; step: string; ref?: string; since: string; kind: 'time-not-set' | 'past-due' }>;
}

export function emptyProcedureRecord(): ProcedureRecord {
  return {
    communicationNeeds: [],
    childWishes: [],
    agencies: [],
    disagreements: [],
    circumstances: [],
    extraFamilialHarm: [],
    parentalFactors: [],
    householdChildren: [],
    parents: [],
    consentByParent: [],
    childVisitRefusals: [],
    trustedAdultVisits: [],
    earlyHelpAssessmentUsed: false,
    awaiting: [],
  };
}

/** The policy switches the checklist reads (absent from policies pinned before them: the defaults apply). */
export interface ProcedurePolicy {
  firstVisitInformation?: boolean;
  childWishesExplanation?: boolean;
  childViewsSharedWithParents?: boolean;
}

export type ProcedureItemEvidence = { shown: boolean; basis: string } | { shown: 'manager-confirms'; basis: string };

const yes = (basis: string): ProcedureItemEvidence => ({ shown: true, basis });
const no = (basis: string): ProcedureItemEvidence => ({ shown: false, basis });
const confirm = (basis: string): ProcedureItemEvidence => ({ shown: 'manager-confirms', basis });

/** Per new checklist item: whether the record shows it, and on what basis (never a circumstance's name: basis is shown in prompts). */
export function procedureChecklistEvidence(record: ProcedureRecord, policy: ProcedurePolicy): Record<ProcedureChecklistItem, ProcedureItemEvidence> {
  const info = record.firstVisitInformation;
  const notGiven = info ? Object.entries(info.given).filter(([, given]) => !given).map(([item]) => item) : [];
  const told = record.parentsTold;
  const unmetNeeds = record.communicationNeeds.filter((need) => !need.met);
  // R-35: a family member used to communicate, or a communication assessment not followed, shows at sign-off for the manager.
  const exceptions = record.communicationNeeds.filter((need) => need.familyMemberUsed || need.recommendationsNotFollowed);
  const wishes = record.childWishes.at(-1);
  const wishesGaps: string[] = [];
  if (wishes && (policy.childWishesExplanation ?? true) && !wishes.explanationGiven) wishesGaps.push('no permanent explanation for the child');
  if (wishes && (policy.childViewsSharedWithParents ?? true) && !wishes.sharedWithParents && !wishes.notSharedReason) wishesGaps.push('views not shared with the parents');
  const undecidedChildren = record.householdChildren.filter((entry) => entry.status === 'awaiting');
  const agenciesOpen = record.agencies.filter((agency) => agency.status === 'awaiting');
  const overseasMissing = record.agencies.filter((agency) => agency.location === 'abroad' && agency.overseasEnquiryAt === undefined && agency.status !== 'not-consulted');
  const unaddressed = record.circumstances.filter((entry) => !entry.howAddressed);
  const ehcPlan = record.circumstances.some((entry) => entry.circumstance === 'ehc-plan');
  const unresolved = record.disagreements.filter((entry) => entry.status !== 'resolved');
  return {
    'first-visit-information-given':
      policy.firstVisitInformation === false
        ? yes("not required by the authority's policy")
        : !info
          ? no('no home-visited event records the first-visit information')
          : notGiven.length === 0
            ? yes(`home-visited ${info.eventId}`)
            : no(`not given: ${notGiven.join(', ')} (${info.eventId})`),
    'parents-told-of-concerns': !told
      ? no('no parents-told-of-concerns event')
      : told.status === 'told'
        ? yes(`told ${told.at ?? ''} (${told.eventId})`.replace('  ', ' '))
        : told.status === 'withheld'
          ? confirm(`withheld with the reason recorded (${told.eventId})`)
          : no(`to be told ${told.at ?? ''}, not yet told (${told.eventId})`),
    'communication-needs-met':
      record.communicationNeeds.length === 0
        ? confirm('no communication need recorded')
        : unmetNeeds.length === 0
          ? exceptions.length > 0
            ? confirm(
                `each need met; with reasons recorded: ${exceptions
                  .map((need) => `${need.person}${need.parentRef ? ` ${need.parentRef}` : ''}: ${[need.familyMemberUsed ? 'a family member communicated' : '', need.recommendationsNotFollowed ? 'assessment recommendations not followed' : ''].filter(Boolean).join(', ')}`)
                  .join('; ')}`,
              )
            : yes(`${record.communicationNeeds.length} need(s) recorded, each with how it is met`)
          : no(`not yet met: ${unmetNeeds.map((need) => `${need.person}${need.parentRef ? ` ${need.parentRef}` : ''}`).join(', ')}`),
    'views-taken-into-account': !wishes
      ? no("no child-wishes-recorded event: the child's wishes and feelings and how they were used")
      : wishesGaps.length === 0
        ? yes(`child-wishes-recorded ${wishes.eventId}`)
        : no(`${wishesGaps.join('; ')} (${wishes.eventId})`),
    'all-children-needs-considered':
      undecidedChildren.length === 0
        ? confirm(`household children decided: ${record.householdChildren.map((entry) => `${entry.childRef} ${entry.status}`).join(', ') || 'none identified beyond the referral'}`)
        : no(`no decision yet on: ${undecidedChildren.map((entry) => entry.childRef).join(', ')}`),
    'chronology-updated': record.chronologyUpdatedAt ? yes(`chronology updated ${record.chronologyUpdatedAt}`) : no('no chronology-updated event'),
    'development-stage-recorded': record.developmentRecordedAt ? yes(`recorded ${record.developmentRecordedAt}`) : no('no development-stage-recorded event'),
    'early-help-assessment-considered': record.earlyHelpAssessmentUsed ? yes('early-help-assessment-used') : confirm('no Early Help Assessment recorded: the manager confirms none applied'),
    'agencies-consulted-including-previous-addresses':
      record.agencies.length === 0
        ? confirm('no agency listed (agency-involved)')
        : agenciesOpen.length > 0 || overseasMissing.length > 0
          ? no(
              [
                agenciesOpen.length > 0 ? `no reply from: ${agenciesOpen.map((agency) => agency.agencyRef).join(', ')}` : '',
                overseasMissing.length > 0 ? `no overseas enquiry for: ${overseasMissing.map((agency) => agency.agencyRef).join(', ')}` : '',
              ]
                .filter(Boolean)
                .join('; '),
            )
          : yes(`${record.agencies.length} agencies: each replied or not consulted with a reason`),
    'particular-circumstances-addressed':
      record.circumstances.length === 0
        ? confirm('no particular circumstance recorded')
        : unaddressed.length === 0
          ? yes('each recorded circumstance has how the plan addresses it')
          : no(`${unaddressed.length} recorded circumstance(s) without how the plan addresses them (${unaddressed.map((entry) => entry.eventId).join(', ')})`),
    'ehc-plan-informed': ehcPlan ? confirm('an EHC plan is recorded: it informed and was informed by the assessment, or why not') : yes('no EHC plan recorded'),
    'trafficking-nrm-decided': !record.trafficking
      ? yes('no such concern recorded')
      : record.trafficking.status === 'awaiting'
        ? no(`awaiting the decision ${record.trafficking.promptId}`)
        : yes(`decided (${record.trafficking.promptId})`),
    'parenting-capacity-assessed': record.parentalFactors.length > 0 ? confirm('parental factors recorded: whether a parenting capacity assessment took place, or why not') : yes('no parental factor recorded'),
    'education-contact-closed': !record.education
      ? yes('no education contact')
      : record.education.status === 'closed'
        ? yes('closed with the reason found and the arrangement assessed')
        : no('the education welfare contact is still open'),
    'professional-disagreements-resolved':
      unresolved.length === 0 ? yes(`${record.disagreements.length} disagreement(s), none unresolved`) : no(`unresolved: ${unresolved.map((entry) => entry.promptId).join(', ')}`),
  };
}

/**
 * R-9 (section 10): "parents were seen" checked per listed parent: each seen with views
 * recorded, or involvement limited with the reason (a father's exclusion approved).
 */
export function parentsEvidence(record: ProcedureRecord, fatherExclusion: string | undefined): ProcedureItemEvidence {
  if (record.parents.length === 0) return no('no parent-seen event with views recorded');
  const open = record.parents.filter(
    (parent) => !parent.seenWithViews && !(parent.limitedReason !== undefined && (parent.relationship !== 'father' || fatherExclusion === 'approved')),
  );
  if (open.length > 0) return no(`not seen with views recorded, nor involvement limited with a reason: ${open.map((parent) => parent.parentRef).join(', ')}`);
  return yes(`each listed parent seen or limited with a reason: ${record.parents.map((parent) => parent.parentRef).join(', ')}`);
}

/** R-2 (section 10): whether consent to contact other agencies is in force (or a manager's authorisation). */
export function agencyConsentInForce(record: ProcedureRecord, consent: 'unknown' | 'given' | 'refused' | 'overridden'): boolean {
  if (consent === 'overridden') return true;
  const scoped = record.consentByParent.filter((entry) => entry.scopes.includes('other-agencies'));
  if (scoped.some((entry) => !entry.given)) return false;
  if (scoped.some((entry) => entry.given)) return true;
  return consent === 'given';
}

/** R-28 (section 10): a young person of 16 or 17, or one the case system says is, homeless or at risk of it. */
export function youngPersonHomeless(
  child: { dateOfBirth?: string; homelessOrAtRisk?: boolean; homelessness?: string; aged16Or17?: boolean },
  age: number | undefined,
): boolean {
  const homeless = child.homelessOrAtRisk === true || child.homelessness !== undefined;
  if (!homeless) return false;
  if (age !== undefined) return age === 16 || age === 17;
  return child.aged16Or17 === true;
}

/** R-28 (section 10): homeless now or the threat imminent: the outcome records section 20 accommodation or the refusal. */
export function needsSection20Outcome(child: { homelessness?: string }): boolean {
  return child.homelessness === 'homeless' || child.homelessness === 'threat-imminent';
}

/** R-1 (section 10) / units: the duty decision's deadline in clock hours, when the policy counts it so. */
export function dutyDecisionCountsHours(policy: { dutyDecisionUnit?: string }): boolean {
  return policy.dutyDecisionUnit === 'hours';
}

/**
 * R-20 (section 10): for an unborn child the referral date is the date the authority learnt
 * of the pregnancy, when that is earlier than the referral's receipt: the clock runs from it.
 */
export function referralClockStartMs(calendar: WorkingCalendar, child: { expectedDeliveryDate?: string; pregnancyKnownOn?: string }, receivedAtMs: number, active: boolean): number {
  if (!active || !child.expectedDeliveryDate || !child.pregnancyKnownOn) return receivedAtMs;
  return Math.min(startOfLocalDay(calendar, child.pregnancyKnownOn), receivedAtMs);
}

/** Units (section 10): a time in days counted as working days (the default) or calendar days. */
export function addDaysInUnit(calendar: WorkingCalendar, fromMs: number, days: number, unit: 'working-days' | 'calendar-days' | undefined): number {
  return unit === 'calendar-days' ? addHours(fromMs, days * 24) : addWorkingDays(calendar, fromMs, days);
}
