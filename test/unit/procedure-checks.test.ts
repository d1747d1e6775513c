import { describe, expect, it } from 'vitest';
import { emptyEvidence, signOffRefusal, visitDue, type SignOffDecision } from '../../domain/assessment-rules';
import { domainEventSchema } from '../../domain/events';
import { authorityPolicySchema, defaultPolicy } from '../../domain/policy';
import {
  addDaysInUnit,
  agencyConsentInForce,
  dutyDecisionCountsHours,
  emptyProcedureRecord,
  needsSection20Outcome,
  parentsEvidence,
  procedureChecklistEvidence,
  procedureChecklistItems,
  referralClockStartMs,
  youngPersonHomeless,
  type ProcedureRecord,
} from '../../domain/procedure-checks';
import { checkDecision, checklistItemRules, checklistItems, type Prompt } from '../../domain/prompts';
import { childSchema } from '../../domain/referral';
import { addHours, addWorkingDays, startOfLocalDay } from '../../domain/working-days';
import { testCalendar } from '../support/assessment-harness';

const base = { eventId: 'EV-1', occurredAt: '2026-11-23T10:00:00Z', actor: 'SW-1' };
const parse = (event: Record<string, unknown>) => domainEventSchema.safeParse({ ...base, ...event });
const issuePaths = (event: Record<string, unknown>) => {
  const parsed = parse(event);
  return parsed.success ? [] : parsed.error.issues.map((issue) => issue.path.join('.'));
};
const record = (patch: Partial<ProcedureRecord> = {}): ProcedureRecord => ({ ...emptyProcedureRecord(), ...patch });
const evidence = (patch: Partial<ProcedureRecord> = {}, policy = {}) => procedureChecklistEvidence(record(patch), policy);

const allMet = Object.fromEntries(checklistItems.map((item) => [item, { met: true as const }])) as SignOffDecision['checklist'];
const signOff = (checklist: Partial<SignOffDecision['checklist']>): SignOffDecision => ({
  decision: 'sign-off',
  promptId: 'assessment-REF-1.C-1~sign-off-1',
  rationale: 'r',
  decidedBy: 'MGR-1',
  decidedAt: '2026-11-23T10:00:00Z',
  outcome: 'child-in-need-plan',
  determinations: { childInNeed: true, significantHarmSuspected: false, accommodationNeeded: false },
  checklist: checklist as SignOffDecision['checklist'],
  primaryNeedCode: 'N1',
  assessmentFactors: ['21'],
});

describe('the second reading (pure rules)', () => {
  it('R-21 the sign-off checklist lists every item with its rule id, the second reading included', () => {
    for (const item of procedureChecklistItems) expect(checklistItems).toContain(item);
    for (const item of checklistItems) expect(checklistItemRules[item]).toMatch(/^R-\d+$/);
    expect(checklistItemRules['first-visit-information-given']).toBe('R-29');
    expect(checklistItemRules['trafficking-nrm-decided']).toBe('R-40');
  });

  it('R-21 a sign-off with any one of the new items missing is refused naming the item (schema and rule)', () => {
    const prompt: Prompt = { promptId: 'assessment-REF-1.C-1~sign-off-1', kind: 'sign-off', rule: 'R-21', raisedAt: base.occurredAt, allowedDecisions: ['sign-off', 'return-to-worker'], status: 'open' };
    for (const item of procedureChecklistItems) {
      const checklist: Partial<SignOffDecision['checklist']> = { ...allMet };
      delete checklist[item];
      const check = checkDecision([prompt], signOff(checklist), { censusItems: true, procedureChecks: true });
      expect(check.ok, item).toBe(false);
      if (!check.ok && check.rejection.code === 'invalid-decision') expect(check.rejection.issues.map((issue) => issue.path)).toContain(`checklist.${item}`);
      expect(signOffRefusal(signOff(checklist), emptyEvidence([]), false, {})).toContain(item);
    }
    // A case from before the patch is asked only the first reading's items.
    const baseOnly = Object.fromEntries(Object.entries(allMet).filter(([item]) => !(procedureChecklistItems as readonly string[]).includes(item)));
    expect(checkDecision([prompt], signOff(baseOnly), { censusItems: true, procedureChecks: false }).ok).toBe(true);
    expect(checkDecision([prompt], signOff(baseOnly), { censusItems: true, procedureChecks: true }).ok).toBe(false);
  });

  it('R-29 the first-visit information: each item recorded with the visit, a missing one needs its reason and shows at sign-off; policy off, not asked', () => {
    expect(issuePaths({ type: 'home-visited', bedroomSeen: true, informationGiven: { introductoryLetterAndPack: true, consentForm: false, complaintsProcedure: true } })).toContain(
      'informationNotGivenReason',
    );
    expect(evidence()['first-visit-information-given'].shown).toBe(false);
    const partial = evidence({ firstVisitInformation: { eventId: 'EV-9', given: { introductoryLetterAndPack: true, consentForm: false, complaintsProcedure: true }, reasonNotGiven: 'later' } });
    expect(partial['first-visit-information-given']).toMatchObject({ shown: false, basis: expect.stringContaining('consentForm') });
    expect(evidence({ firstVisitInformation: { eventId: 'EV-9', given: { introductoryLetterAndPack: true, consentForm: true, complaintsProcedure: true } } })['first-visit-information-given'].shown).toBe(true);
    expect(evidence({}, { firstVisitInformation: false })['first-visit-information-given'].shown).toBe(true);
    expect(defaultPolicy.firstVisitInformation).toBe(true);
  });

  it('R-30 what the parents are told: withholding names its reason, telling later says when; the date told shows at sign-off', () => {
    expect(issuePaths({ type: 'parents-told-of-concerns', status: 'withheld' })).toContain('reason');
    expect(issuePaths({ type: 'parents-told-of-concerns', status: 'to-be-told' })).toContain('at');
    expect(evidence()['parents-told-of-concerns'].shown).toBe(false);
    expect(evidence({ parentsTold: { eventId: 'EV-2', status: 'to-be-told', at: '2026-11-25T10:00:00Z' } })['parents-told-of-concerns'].shown).toBe(false);
    expect(evidence({ parentsTold: { eventId: 'EV-2', status: 'told', at: '2026-11-24T10:00:00Z' } })['parents-told-of-concerns']).toMatchObject({ shown: true, basis: expect.stringContaining('2026-11-24') });
    expect(evidence({ parentsTold: { eventId: 'EV-2', status: 'withheld', reason: 'joint police investigation' } })['parents-told-of-concerns'].shown).toBe('manager-confirms');
  });

  it('R-35 communication needs: a parent need names the parent, a family member used or recommendations not followed need the reason, an unmet need shows at sign-off', () => {
    expect(issuePaths({ type: 'communication-need-recorded', person: 'parent', need: 'language' })).toContain('parentRef');
    expect(issuePaths({ type: 'communication-need-recorded', person: 'child', need: 'limited-communication', familyMemberUsed: true })).toContain('familyMemberUsedReason');
    expect(issuePaths({ type: 'communication-need-recorded', person: 'child', need: 'impairment-or-disability', assessmentRecommendations: 'not-followed' })).toContain(
      'recommendationsNotFollowedReason',
    );
    expect(evidence()['communication-needs-met'].shown).toBe('manager-confirms');
    expect(evidence({ communicationNeeds: [{ eventId: 'EV-3', person: 'parent', parentRef: 'PAR-1', need: 'language', met: false }] })['communication-needs-met']).toMatchObject({ shown: false, basis: expect.stringContaining('PAR-1') });
    expect(evidence({ communicationNeeds: [{ eventId: 'EV-3', person: 'child', need: 'limited-communication', met: true }] })['communication-needs-met'].shown).toBe(true);
    // A family member used, or recommendations not followed, show at sign-off for the manager.
    expect(evidence({ communicationNeeds: [{ eventId: 'EV-3', person: 'child', need: 'limited-communication', met: true, familyMemberUsed: true }] })['communication-needs-met']).toMatchObject({
      shown: 'manager-confirms',
      basis: expect.stringContaining('family member'),
    });
  });

  it("R-36 the child's wishes: how obtained and used; the permanent explanation and sharing with the parents are policy switches, default on", () => {
    expect(issuePaths({ type: 'child-wishes-recorded', method: 'direct-work', howUsed: 'x', explanationGiven: true, sharedWithParents: false })).toContain('notSharedReason');
    expect(evidence()['views-taken-into-account'].shown).toBe(false);
    const noExplanation = { childWishes: [{ eventId: 'EV-4', method: 'direct-work', explanationGiven: false, sharedWithParents: true }] };
    expect(evidence(noExplanation)['views-taken-into-account'].shown).toBe(false);
    expect(evidence(noExplanation, { childWishesExplanation: false })['views-taken-into-account'].shown).toBe(true);
    expect(authorityPolicySchema.parse({})).toMatchObject({ childWishesExplanation: true, childViewsSharedWithParents: true });
  });

  it('R-37 agencies at current and previous addresses, in the UK and abroad: each replied or not consulted with a reason, abroad with the overseas enquiry', () => {
    const agency = (patch: Partial<ProcedureRecord['agencies'][number]>) => ({ agencyRef: 'AG-1', agency: 'health', location: 'previous-address-uk', askedAt: base.occurredAt, status: 'awaiting' as const, ...patch });
    expect(evidence({ agencies: [agency({})] })['agencies-consulted-including-previous-addresses']).toMatchObject({ shown: false, basis: expect.stringContaining('AG-1') });
    expect(evidence({ agencies: [agency({ status: 'replied' })] })['agencies-consulted-including-previous-addresses'].shown).toBe(true);
    expect(evidence({ agencies: [agency({ status: 'replied', location: 'abroad' })] })['agencies-consulted-including-previous-addresses'].shown).toBe(false);
    expect(evidence({ agencies: [agency({ status: 'replied', location: 'abroad', overseasEnquiryAt: base.occurredAt })] })['agencies-consulted-including-previous-addresses'].shown).toBe(true);
    expect(authorityPolicySchema.parse({}).agencyReplyWorkingDays).toBeUndefined();
  });

  it('R-38 an unresolved professional disagreement shows at sign-off until the line manager says how it is resolved', () => {
    expect(evidence({ disagreements: [{ eventId: 'EV-5', promptId: 'P-1', status: 'escalated' }] })['professional-disagreements-resolved'].shown).toBe(false);
    expect(evidence({ disagreements: [{ eventId: 'EV-5', promptId: 'P-1', status: 'resolved', meetingHeld: true }] })['professional-disagreements-resolved'].shown).toBe(true);
  });

  it('R-39 particular circumstances: each needs how the plan addresses it; an EHC plan asks the manager whether it informed the assessment', () => {
    expect(evidence({ circumstances: [{ circumstance: 'young-carer', howAddressed: false, eventId: 'EV-6' }] })['particular-circumstances-addressed'].shown).toBe(false);
    expect(evidence({ circumstances: [{ circumstance: 'young-carer', howAddressed: true, eventId: 'EV-6' }] })['particular-circumstances-addressed'].shown).toBe(true);
    expect(evidence({ circumstances: [{ circumstance: 'ehc-plan', howAddressed: true, eventId: 'EV-6' }] })['ehc-plan-informed'].shown).toBe('manager-confirms');
    expect(evidence()['ehc-plan-informed'].shown).toBe(true);
    // The basis (shown in prompts and forms) never names the circumstance.
    expect(JSON.stringify(evidence({ circumstances: [{ circumstance: 'fgm-risk', howAddressed: false, eventId: 'EV-6' }] }))).not.toContain('fgm');
  });

  it('R-40 trafficking: the NRM decision shows at sign-off until taken', () => {
    expect(evidence({ trafficking: { promptId: 'P-2', status: 'awaiting' } })['trafficking-nrm-decided'].shown).toBe(false);
    expect(evidence({ trafficking: { promptId: 'P-2', status: 'referred', referredAt: base.occurredAt } })['trafficking-nrm-decided'].shown).toBe(true);
    expect(evidence()['trafficking-nrm-decided'].shown).toBe(true);
  });

  it('R-46 parental factors ask at sign-off whether a parenting capacity assessment took place, or why not', () => {
    expect(issuePaths({ type: 'parental-factor-recorded', factors: [] })).toContain('factors');
    expect(evidence({ parentalFactors: ['substance-misuse'] })['parenting-capacity-assessed'].shown).toBe('manager-confirms');
    expect(evidence()['parenting-capacity-assessed'].shown).toBe(true);
  });

  it('R-11 an education welfare contact still open shows at sign-off', () => {
    expect(evidence({ education: { status: 'open' } })['education-contact-closed'].shown).toBe(false);
    expect(evidence({ education: { status: 'closed', reasonFound: true, alternativeArrangement: 'unsuitable' } })['education-contact-closed'].shown).toBe(true);
    expect(issuePaths({ type: 'education-contact-closed', reasonFound: 'excluded', alternativeArrangement: 'maybe' })).toContain('alternativeArrangement');
  });

  it('R-3 R-21 a child of the household not yet decided on shows at sign-off', () => {
    expect(evidence({ householdChildren: [{ childRef: 'C-9', promptId: 'P-3', status: 'awaiting', cause: 'household-child-identified' }] })['all-children-needs-considered']).toMatchObject({
      shown: false,
      basis: expect.stringContaining('C-9'),
    });
    expect(evidence({ householdChildren: [{ childRef: 'C-9', promptId: 'P-3', status: 'not-assessed', cause: 'household-child-identified' }] })['all-children-needs-considered'].shown).toBe('manager-confirms');
  });

  it('R-21 chronology, stage of development and an Early Help Assessment', () => {
    expect(evidence()['chronology-updated'].shown).toBe(false);
    expect(evidence({ chronologyUpdatedAt: base.occurredAt })['chronology-updated'].shown).toBe(true);
    expect(evidence()['development-stage-recorded'].shown).toBe(false);
    expect(evidence({ developmentRecordedAt: base.occurredAt })['development-stage-recorded'].shown).toBe(true);
    expect(evidence()['early-help-assessment-considered'].shown).toBe('manager-confirms');
    expect(evidence({ earlyHelpAssessmentUsed: true })['early-help-assessment-considered'].shown).toBe(true);
  });

  it('R-9 "parents were seen" is checked per listed parent: seen with views, or limited with a reason (a father only with the exclusion approved)', () => {
    const parents: ProcedureRecord['parents'] = [
      { parentRef: 'PAR-1', relationship: 'mother', resident: true, seenWithViews: true },
      { parentRef: 'PAR-2', relationship: 'father', resident: false, seenWithViews: false },
    ];
    expect(parentsEvidence(record({ parents }), undefined)).toMatchObject({ shown: false, basis: expect.stringContaining('PAR-2') });
    const limited = parents.map((parent) => (parent.parentRef === 'PAR-2' ? { ...parent, limitedReason: 'risk to the mother' } : parent));
    expect(parentsEvidence(record({ parents: limited }), 'requested').shown).toBe(false);
    expect(parentsEvidence(record({ parents: limited }), 'approved').shown).toBe(true);
  });

  it('R-2 consent per parent and scope: a scope names the parent; a refusal for other agencies takes consent out of force, an authorisation outlasts it', () => {
    expect(issuePaths({ type: 'consent-recorded', given: true, scopes: ['other-agencies'] })).toContain('parentRef');
    expect(parse({ type: 'consent-recorded', given: true, parentRef: 'PAR-1', scopes: ['other-agencies', 'wider-family', 'meetings'] }).success).toBe(true);
    const refused = record({ consentByParent: [{ parentRef: 'PAR-2', given: false, scopes: ['other-agencies'], at: base.occurredAt }] });
    expect(agencyConsentInForce(refused, 'given')).toBe(false);
    expect(agencyConsentInForce(refused, 'overridden')).toBe(true);
    expect(agencyConsentInForce(record({ consentByParent: [{ parentRef: 'PAR-1', given: true, scopes: ['other-agencies'], at: base.occurredAt }] }), 'unknown')).toBe(true);
    expect(agencyConsentInForce(record(), 'unknown')).toBe(false);
  });

  it('R-28 a homeless young person known to be 16 or 17 without a date of birth, or homeless by kind, must be assessed; homeless now or under imminent threat needs the section 20 outcome', () => {
    expect(youngPersonHomeless({ homelessOrAtRisk: true, aged16Or17: true }, undefined)).toBe(true);
    expect(youngPersonHomeless({ homelessness: 'threat-imminent' }, 17)).toBe(true);
    expect(youngPersonHomeless({ homelessness: 'at-risk' }, 15)).toBe(false);
    expect(youngPersonHomeless({ aged16Or17: true }, undefined)).toBe(false);
    expect(needsSection20Outcome({ homelessness: 'homeless' })).toBe(true);
    expect(needsSection20Outcome({ homelessness: 'at-risk' })).toBe(false);
    expect(childSchema.safeParse({ childRef: 'C-1', homelessness: 'homeless', aged16Or17: true }).success).toBe(true);
  });

  it('R-1 the duty decision counts working days by default, clock hours where the policy says (002: "within 24 hours")', () => {
    expect(dutyDecisionCountsHours(defaultPolicy)).toBe(false);
    const hours = authorityPolicySchema.parse({ dutyDecisionUnit: 'hours' });
    expect(dutyDecisionCountsHours(hours)).toBe(true);
    expect(hours.dutyDecisionHours).toBe(24);
    expect(defaultPolicy.dutyDecisionToParents).toBe(true);
    expect(authorityPolicySchema.safeParse({ dutyDecisionUnit: 'days' }).success).toBe(false);
  });

  it('R-4 the authority may supply its qualified staff: the policy validates them as staff ids', () => {
    expect(authorityPolicySchema.safeParse({ qualifiedStaff: { socialWorkers: ['SW-1'], managers: ['MGR-1'] } }).success).toBe(true);
    expect(authorityPolicySchema.safeParse({ qualifiedStaff: { socialWorkers: ['Jane Smith'], managers: [] } }).success).toBe(false);
  });

  it('R-20 an unborn child: the clock runs from the day the pregnancy was known, when earlier than the referral', () => {
    const calendar = testCalendar();
    const received = Date.parse('2026-11-23T10:00:00Z');
    const child = { expectedDeliveryDate: '2027-05-01', pregnancyKnownOn: '2026-11-16' };
    expect(referralClockStartMs(calendar, child, received, true)).toBe(startOfLocalDay(calendar, '2026-11-16'));
    expect(referralClockStartMs(calendar, child, received, false)).toBe(received);
    expect(referralClockStartMs(calendar, { pregnancyKnownOn: '2026-11-16' }, received, true)).toBe(received);
  });

  it('units: "days" in a seed without "working" is part of the policy setting; the defaults stay working days', () => {
    const calendar = testCalendar();
    const at = Date.parse('2026-11-27T10:00:00Z');
    expect(addDaysInUnit(calendar, at, 3, 'calendar-days')).toBe(addHours(at, 72));
    expect(addDaysInUnit(calendar, at, 3, undefined)).toBe(addWorkingDays(calendar, at, 3));
    const calendarDays = authorityPolicySchema.parse({ visitS17WorkingDays: 3, visitS17Unit: 'calendar-days' });
    expect(visitDue(calendar, calendarDays, 'S17', at)).toBe(addHours(at, 72));
    expect(visitDue(calendar, defaultPolicy, 'S17', at)).toBe(addWorkingDays(calendar, at, 5));
    expect(defaultPolicy).toMatchObject({ visitS17Unit: 'working-days', supervisionReviewUnit: 'working-days' });
  });
});
