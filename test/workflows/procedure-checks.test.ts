import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { assessmentWorkflowId, referralWorkflowId, strategyDiscussionWorkflowId } from '../../domain/ids';
import { authorityPolicySchema, defaultPolicy, type AuthorityPolicyInput } from '../../domain/policy';
import { procedureChecklistItems } from '../../domain/procedure-checks';
import { checklistItems } from '../../domain/prompts';
import type { ReferralRequest } from '../../domain/referral';
import { addWorkingDays, startOfLocalDay, endOfLocalDay } from '../../domain/working-days';
import { decideUpdate, stateQuery } from '../../workflows/messages';
import { referralWorkflow, type ReferralState } from '../../workflows/referral';
import {
  allMet,
  allocate,
  childInNeedPlan,
  AssessmentHarness,
  bornYearsAgo,
  DAY_MS,
  decide,
  doFieldwork,
  HOUR_MS,
  iso,
  openPrompt,
  send,
  state,
  testCalendar,
  useTimeSkippingHarness,
  type Handle,
} from '../support/assessment-harness';

let harness: AssessmentHarness;
useTimeSkippingHarness((ready) => ({ harness } = ready));

const failure = (error: unknown) => (error as WorkflowUpdateFailedError).cause as { type?: string; message?: string; details?: unknown[] };
/** Everything an update's refusal says (message and issues), to find what it names. */
const refusalText = (error: unknown) => {
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  return JSON.stringify({ message: failure(error).message, details: failure(error).details });
};
const signOffAnswer = (extra: Record<string, unknown> = {}) => ({
  outcome: 'child-in-need-plan',
  determinations: { childInNeed: true, significantHarmSuspected: false, accommodationNeeded: false },
  checklist: allMet(),
  primaryNeedCode: 'N1',
  assessmentFactors: ['21'],
  // R-44 (issue 17): a child in need plan outcome is taken with its plan.
  childInNeedPlan: childInNeedPlan(Date.now() + 365 * DAY_MS),
  ...extra,
});
const policy = (input: AuthorityPolicyInput) => authorityPolicySchema.parse(input);

/** Started, allocated and with the fieldwork every checklist item needs. */
async function inProgress(referralId: string, overrides: Parameters<AssessmentHarness['input']>[1] = {}): Promise<Handle> {
  const handle = await harness.start(await harness.input(referralId, overrides));
  await allocate(harness, handle);
  return handle;
}

async function submitted(handle: Handle) {
  await send(handle, { type: 'assessment-submitted' }, await harness.now());
  return openPrompt(await state(handle), 'sign-off');
}

describe('the second reading in a running assessment (procedure-checks)', () => {
  it('R-21 a sign-off with any one of the new checklist items missing is refused naming the item; all answered, it is taken', async () => {
    const handle = await inProgress('REF-1801');
    await doFieldwork(harness, handle);
    const prompt = await submitted(handle);
    // The prompt lists every item with its rule: one form however the checklist grows.
    expect(prompt.checklist?.map((entry) => entry.item)).toEqual([...checklistItems]);
    expect(prompt.checklist).toContainEqual({ item: 'trafficking-nrm-decided', rule: 'R-40' });
    const now = await harness.now();
    for (const item of procedureChecklistItems) {
      const checklist: Record<string, unknown> = allMet();
      delete checklist[item];
      const refused = await decide(handle, prompt.promptId, 'sign-off', now, signOffAnswer({ checklist })).catch((error: unknown) => error);
      expect(failure(refused), item).toMatchObject({ type: 'invalid-decision' });
      expect(refusalText(refused), item).toContain(item);
    }
    await decide(handle, prompt.promptId, 'sign-off', now, signOffAnswer());
    expect((await state(handle)).stage).toBe('completed');
    await harness.finish(handle);
  });

  it('R-29 R-30 R-36 R-21 without the first-visit information, what the parents were told, the child\u2019s wishes, the chronology and the stage of development, "met" is refused naming each; "not met" takes a reason', async () => {
    const handle = await inProgress('REF-1802');
    const now = await harness.now();
    // The first reading's fieldwork only.
    await send(handle, { type: 'child-seen', seenAlone: true, viewsRecorded: true }, now);
    await send(handle, { type: 'home-visited', bedroomSeen: true, informationGiven: { introductoryLetterAndPack: true, consentForm: false, complaintsProcedure: true }, informationNotGivenReason: 'the form was out of print' }, now);
    await send(handle, { type: 'parent-seen', parentRef: 'PAR-1', relationship: 'mother', viewsRecorded: true }, now);
    await send(handle, { type: 'agency-information-received', agency: 'health' }, now);
    await send(handle, { type: 'analysis-completed', sources: ['SRC-1', 'SRC-2'] }, now);
    const current = await state(handle);
    expect(current.checklistEvidence['first-visit-information-given']).toMatchObject({ shown: false, basis: expect.stringContaining('consentForm') });
    expect(current.procedure?.firstVisitInformation).toMatchObject({ given: { consentForm: false }, reasonNotGiven: 'the form was out of print' });
    const prompt = await submitted(handle);
    const refused = await decide(handle, prompt.promptId, 'sign-off', now, signOffAnswer()).catch((error: unknown) => error);
    const text = refusalText(refused);
    for (const item of ['first-visit-information-given', 'parents-told-of-concerns', 'views-taken-into-account', 'chronology-updated', 'development-stage-recorded']) expect(text).toContain(item);
    const notMet = Object.fromEntries(
      ['first-visit-information-given', 'parents-told-of-concerns', 'views-taken-into-account', 'chronology-updated', 'development-stage-recorded'].map((item) => [item, { met: false, reason: 'recorded by the manager' }]),
    );
    await decide(handle, prompt.promptId, 'sign-off', now, signOffAnswer({ checklist: { ...allMet(), ...notMet } }));
    expect((await state(handle)).checklist?.['parents-told-of-concerns']).toEqual({ met: false, reason: 'recorded by the manager' });
    await harness.finish(handle);
  });

  it('R-30 by the visit deadline the parents-told record is due: with none, it is listed as awaiting and the social worker is told; withholding without a reason is refused', async () => {
    const handle = await inProgress('REF-1803');
    const now = await harness.now();
    await send(handle, { type: 'parents-told-of-concerns', status: 'withheld' }, now);
    expect((await state(handle)).record.at(-1)).toMatchObject({ type: 'parents-told-of-concerns', status: 'rejected', reason: expect.stringContaining('R-30') });
    const visitDueAt = Date.parse((await state(handle)).visitDueAt!);
    expect((await state(handle)).deadlines.map((deadline) => deadline.name)).toContain('parents-told');
    await harness.env.sleep(visitDueAt - now + HOUR_MS);
    await harness.eventually(async () => expect((await state(handle)).procedure?.awaiting).toContainEqual(expect.objectContaining({ rule: 'R-30', step: 'parents-told', kind: 'past-due' })));
    await harness.eventually(async () => expect((await handle.describe()).searchAttributes.AwaitingSteps).toEqual(['past-due']));
    await harness.eventually(() => expect(harness.notifications(handle.workflowId)).toContainEqual(expect.objectContaining({ recipient: 'social-worker', reason: 'parents-told-overdue', rule: 'R-30' })));
    const later = await harness.now();
    await send(handle, { type: 'parents-told-of-concerns', status: 'told', at: iso(later) }, later);
    const told = await state(handle);
    expect(told.procedure?.awaiting.some((entry) => entry.rule === 'R-30')).toBe(false);
    expect(told.checklistEvidence['parents-told-of-concerns']).toMatchObject({ shown: true, basis: expect.stringContaining(iso(later)) });
    await harness.finish(handle);
  });

  it('R-35 R-36 a communication need not yet met, or the child\u2019s wishes without the permanent explanation, show at sign-off; a family member used to communicate needs the reason', async () => {
    const handle = await inProgress('REF-1804');
    await doFieldwork(harness, handle);
    const now = await harness.now();
    await send(handle, { type: 'communication-need-recorded', person: 'child', need: 'limited-communication', familyMemberUsed: true }, now);
    expect((await state(handle)).record.at(-1)).toMatchObject({ status: 'rejected', reason: expect.stringContaining('familyMemberUsedReason') });
    await send(handle, { type: 'communication-need-recorded', person: 'parent', parentRef: 'PAR-1', need: 'language' }, now);
    await send(handle, { type: 'child-wishes-recorded', method: 'communication-tool', howUsed: 'the plan follows them', explanationGiven: false, sharedWithParents: true }, now);
    let current = await state(handle);
    expect(current.checklistEvidence['communication-needs-met']).toMatchObject({ shown: false, basis: expect.stringContaining('PAR-1') });
    expect(current.checklistEvidence['views-taken-into-account'].shown).toBe(false);
    const prompt = await submitted(handle);
    const refused = await decide(handle, prompt.promptId, 'sign-off', now, signOffAnswer()).catch((error: unknown) => error);
    expect(refusalText(refused)).toContain('communication-needs-met');
    expect(refusalText(refused)).toContain('views-taken-into-account');
    await decide(handle, prompt.promptId, 'return-to-worker', now);
    await send(handle, { type: 'communication-need-recorded', person: 'parent', parentRef: 'PAR-1', need: 'language', howMet: 'an interpreter at every visit and for the feedback' }, now);
    await send(handle, { type: 'child-wishes-recorded', method: 'communication-tool', howUsed: 'the plan follows them', explanationGiven: true, sharedWithParents: true }, now);
    current = await state(handle);
    expect(current.checklistEvidence['communication-needs-met'].shown).toBe(true);
    expect(current.checklistEvidence['views-taken-into-account'].shown).toBe(true);
    await harness.finish(handle);
  });

  it('R-37 R-2 an agency at a previous address is asked only with consent in force: without it a manager is prompted; once authorised it is asked and awaited (no time set), its reply settles it', async () => {
    const handle = await inProgress('REF-1805', { consent: 'unknown' });
    const now = await harness.now();
    await send(handle, { type: 'agency-involved', agencyRef: 'AG-1', agency: 'health', location: 'previous-address-uk' }, now);
    let current = await state(handle);
    const override = openPrompt(current, 'consent-override');
    expect(override).toMatchObject({ rule: 'R-2', about: 'agency-contact' });
    expect(current.procedure?.agencies[0]).toMatchObject({ agencyRef: 'AG-1', status: 'awaiting', consentFlagged: true });
    expect(harness.notifications(handle.workflowId).some((n) => n.reason === 'assessment-contribution-requested')).toBe(false);
    await decide(handle, override.promptId, 'approve', now);
    current = await state(handle);
    expect(current.consent).toBe('overridden');
    expect(current.procedure?.awaiting).toContainEqual(expect.objectContaining({ rule: 'R-37', step: 'agency-reply', ref: 'AG-1', kind: 'time-not-set' }));
    // Listed with what is overdue, saying neither the rule nor the step.
    await harness.eventually(async () => expect((await handle.describe()).searchAttributes.AwaitingSteps).toEqual(['time-not-set']));
    await harness.eventually(() => expect(harness.notifications(handle.workflowId)).toContainEqual(expect.objectContaining({ recipient: 'agency', target: 'AG-1', rule: 'R-37' })));
    // A later refusal does not erase the authorisation.
    await send(handle, { type: 'consent-recorded', given: false, parentRef: 'PAR-1', scopes: ['other-agencies'] }, now);
    expect((await state(handle)).consent).toBe('overridden');
    await send(handle, { type: 'agency-involved', agencyRef: 'AG-2', agency: 'other', location: 'abroad' }, now);
    expect((await state(handle)).checklistEvidence['agencies-consulted-including-previous-addresses']).toMatchObject({ shown: false, basis: expect.stringContaining('AG-2') });
    await send(handle, { type: 'agency-information-received', agency: 'health', agencyRef: 'AG-1' }, now);
    await send(handle, { type: 'agency-not-consulted', agencyRef: 'AG-2', reason: 'the family left the country as infants' }, now);
    current = await state(handle);
    expect(current.procedure?.agencies.map((agency) => agency.status)).toEqual(['replied', 'not-consulted']);
    expect(current.procedure?.awaiting.filter((entry) => entry.rule === 'R-37')).toEqual([]);
    expect(current.checklistEvidence['agencies-consulted-including-previous-addresses'].shown).toBe(true);
    await harness.eventually(async () => expect((await handle.describe()).searchAttributes.AwaitingSteps ?? []).toEqual([]));
    await harness.finish(handle);
  });

  it('R-37 with a reply time set by the authority, an agency that has not replied prompts the social worker', async () => {
    const handle = await inProgress('REF-1806', { policy: policy({ agencyReplyWorkingDays: 2 }) });
    const now = await harness.now();
    await send(handle, { type: 'agency-involved', agencyRef: 'AG-3', agency: 'police', location: 'current' }, now);
    expect((await state(handle)).procedure?.agencies[0]?.replyDueAt).toBe(iso(addWorkingDays(testCalendar(), now, 2)));
    await harness.env.sleep(4 * DAY_MS + HOUR_MS);
    await harness.eventually(() => expect(harness.notifications(handle.workflowId)).toContainEqual(expect.objectContaining({ recipient: 'social-worker', reason: 'agency-reply-overdue', target: 'AG-3' })));
    expect((await state(handle)).procedure?.awaiting).toContainEqual(expect.objectContaining({ rule: 'R-37', step: 'agency-reply-overdue', ref: 'AG-3' }));
    await harness.finish(handle);
  });

  it('R-38 a professional disagreement goes to the line manager, who records how it is resolved and whether a meeting is held', async () => {
    const handle = await inProgress('REF-1807');
    const now = await harness.now();
    await send(handle, { type: 'professional-disagreement', with: ['health'] }, now);
    const current = await state(handle);
    const prompt = openPrompt(current, 'professional-disagreement');
    expect(prompt.rule).toBe('R-38');
    expect(current.checklistEvidence['professional-disagreements-resolved'].shown).toBe(false);
    await harness.eventually(() => expect(harness.notifications(handle.workflowId)).toContainEqual(expect.objectContaining({ recipient: 'manager', reason: 'professional-disagreement', rule: 'R-38' })));
    await decide(handle, prompt.promptId, 'resolve', now, { meetingHeld: true, resolution: 'a professionals meeting within the week' });
    const resolved = await state(handle);
    expect(resolved.procedure?.disagreements).toMatchObject([{ status: 'resolved', meetingHeld: true }]);
    expect(resolved.checklistEvidence['professional-disagreements-resolved'].shown).toBe(true);
    await harness.finish(handle);
  });

  it('R-39 R-40 R-46 a trafficking concern asks for the NRM referral or the reason not to, under a kind that does not say which; circumstances and parental factors show at sign-off', async () => {
    const handle = await inProgress('REF-1808');
    const now = await harness.now();
    await send(handle, { type: 'particular-circumstance-recorded', circumstance: 'trafficking' }, now);
    await send(handle, { type: 'particular-circumstance-recorded', circumstance: 'ehc-plan', howAddressed: 'the plan is reviewed with the school' }, now);
    await send(handle, { type: 'parental-factor-recorded', factors: ['substance-misuse'] }, now);
    const current = await state(handle);
    const prompt = openPrompt(current, 'circumstance-response');
    expect(prompt).toMatchObject({ rule: 'R-40', allowedDecisions: ['nrm-referral-made', 'no-nrm-referral'] });
    expect(current.checklistEvidence).toMatchObject({
      'trafficking-nrm-decided': { shown: false },
      'particular-circumstances-addressed': { shown: false },
      'ehc-plan-informed': { shown: 'manager-confirms' },
      'parenting-capacity-assessed': { shown: 'manager-confirms' },
    });
    // Nothing the server can read says what the circumstance is.
    await harness.eventually(async () => expect((await handle.describe()).searchAttributes.OpenPromptKinds).toContain('circumstance-response'));
    expect(JSON.stringify((await handle.describe()).searchAttributes)).not.toMatch(/traffick|nrm|ehc|substance/i);
    expect(harness.notifications(handle.workflowId).map((n) => n.reason).join(' ')).not.toMatch(/traffick|ehc|substance/i);
    const notAllowed = await decide(handle, prompt.promptId, 'multi-agency-programme', now).catch((error: unknown) => error);
    expect(failure(notAllowed)).toMatchObject({ type: 'decision-not-allowed' });
    await decide(handle, prompt.promptId, 'nrm-referral-made', now, { referredAt: iso(now) });
    await send(handle, { type: 'particular-circumstance-recorded', circumstance: 'trafficking', howAddressed: 'placement away from the exploiters' }, now);
    const decided = await state(handle);
    expect(decided.procedure?.trafficking).toMatchObject({ status: 'referred', referredAt: iso(now) });
    expect(decided.checklistEvidence['trafficking-nrm-decided'].shown).toBe(true);
    expect(decided.checklistEvidence['particular-circumstances-addressed'].shown).toBe(true);
    expect(decided.openPrompts.filter((open) => open.kind === 'circumstance-response')).toEqual([]);
    await harness.finish(handle);
  });

  it('R-41 R-3 extra-familial harm asks which response was taken; an alleged child perpetrator is considered for an assessment of their own, which the manager can start', async () => {
    const referralId = 'REF-1809';
    const handle = await inProgress(referralId);
    const now = await harness.now();
    await send(handle, { type: 'extra-familial-harm-recorded', kinds: ['exploitation', 'gangs'], allegedChildPerpetratorRef: 'C-7' }, now);
    const current = await state(handle);
    const response = openPrompt(current, 'circumstance-response');
    expect(response).toMatchObject({ rule: 'R-41', allowedDecisions: ['multi-agency-risk-referral', 'multi-agency-programme', 'cin-planning-meeting'] });
    const consider = openPrompt(current, 'consider-child');
    expect(consider).toMatchObject({ rule: 'R-3', about: 'C-7' });
    await decide(handle, response.promptId, 'cin-planning-meeting', now);
    await decide(handle, consider.promptId, 'start-assessment', now);
    const decided = await state(handle);
    expect(decided.procedure?.extraFamilialHarm).toMatchObject([{ response: 'cin-planning-meeting' }]);
    expect(decided.procedure?.householdChildren).toMatchObject([{ childRef: 'C-7', status: 'assessment-started', cause: 'alleged-child-perpetrator' }]);
    const sibling = harness.env.client.workflow.getHandle(assessmentWorkflowId(referralId, 'C-7')) as Handle;
    const siblingState = await harness.eventually(async () => state(sibling));
    expect(siblingState).toMatchObject({ childRef: 'C-7', stage: 'awaiting-allocation', referralId });
    await harness.finish(sibling);
    await harness.finish(handle);
  });

  it('R-3 a child of the household who comes to light later raises the manager\u2019s decision; a child named in the referral is not asked again; undecided, it shows at sign-off', async () => {
    const handle = await inProgress('REF-1810', { householdChildRefs: ['C-1', 'C-2'] });
    const now = await harness.now();
    await send(handle, { type: 'household-child-identified', childRef: 'C-2' }, now);
    expect((await state(handle)).record.at(-1)).toMatchObject({ status: 'rejected', reason: expect.stringContaining('R-3') });
    await send(handle, { type: 'household-child-identified', childRef: 'C-5', dateOfBirth: bornYearsAgo(4) }, now);
    let current = await state(handle);
    expect(current.evidence.householdChildRefs).toEqual(['C-1', 'C-2', 'C-5']);
    expect(current.checklistEvidence['all-children-needs-considered']).toMatchObject({ shown: false, basis: expect.stringContaining('C-5') });
    await decide(handle, openPrompt(current, 'consider-child').promptId, 'no-assessment', now);
    current = await state(handle);
    expect(current.procedure?.householdChildren).toMatchObject([{ childRef: 'C-5', status: 'not-assessed' }]);
    expect(current.checklistEvidence['all-children-needs-considered'].shown).toBe('manager-confirms');
    await harness.finish(handle);
  });

  it('R-8 parents refusing the child being seen alone prompt the line manager, who may call a strategy discussion; a trusted adult present is recorded with the visit', async () => {
    const referralId = 'REF-1811';
    const handle = await inProgress(referralId);
    const now = await harness.now();
    await send(handle, { type: 'child-visit-refused', refused: 'seen-alone', parentRef: 'PAR-1' }, now);
    const prompt = openPrompt(await state(handle), 'child-visit-refused');
    expect(prompt.rule).toBe('R-8');
    await harness.eventually(() => expect(harness.notifications(handle.workflowId)).toContainEqual(expect.objectContaining({ recipient: 'manager', reason: 'child-visit-refused', rule: 'R-8' })));
    await decide(handle, prompt.promptId, 'strategy-discussion', now);
    const decided = await state(handle);
    expect(decided.procedure?.childVisitRefusals).toMatchObject([{ refused: 'seen-alone', decision: 'strategy-discussion' }]);
    expect(decided.strategyDiscussions).toMatchObject([{ cause: 'child-visit-refused' }]);
    await send(handle, { type: 'child-seen', seenAlone: false, reasonNotAlone: 'the parents refused', trustedAdultPresent: true, viewsRecorded: true }, now);
    expect((await state(handle)).procedure?.trustedAdultVisits).toHaveLength(1);
    await harness.finish(harness.env.client.workflow.getHandle(strategyDiscussionWorkflowId(referralId, 'C-1', 1)));
    await harness.finish(handle);
  });

  it('R-9 every parent listed, resident or not, is seen with views recorded or limited with a reason; a father only with the manager\u2019s agreement', async () => {
    const handle = await inProgress('REF-1812');
    await doFieldwork(harness, handle);
    const now = await harness.now();
    await send(handle, { type: 'parent-listed', parentRef: 'PAR-2', relationship: 'father', resident: false }, now);
    expect((await state(handle)).checklistEvidence['parents-seen-and-views-recorded']).toMatchObject({ shown: false, basis: expect.stringContaining('PAR-2') });
    await send(handle, { type: 'parent-involvement-limited', parentRef: 'PAR-2', reason: 'risk to the mother' }, now);
    expect((await state(handle)).record.at(-1)).toMatchObject({ status: 'rejected', reason: expect.stringContaining('R-9') });
    await send(handle, { type: 'father-exclusion-requested', parentRef: 'PAR-2' }, now);
    await decide(handle, openPrompt(await state(handle), 'exclude-father').promptId, 'approve', now);
    await send(handle, { type: 'parent-involvement-limited', parentRef: 'PAR-2', reason: 'risk to the mother' }, now);
    const current = await state(handle);
    expect(current.procedure?.parents).toMatchObject([
      { parentRef: 'PAR-1', seenWithViews: true },
      { parentRef: 'PAR-2', resident: false, limitedReason: 'risk to the mother' },
    ]);
    expect(current.checklistEvidence['parents-seen-and-views-recorded'].shown).toBe(true);
    await harness.finish(handle);
  });

  it('R-11 an education welfare contact stays open until the reason found and the alternative arrangement are recorded; open, it shows at sign-off', async () => {
    const handle = await inProgress('REF-1813');
    const now = await harness.now();
    await send(handle, { type: 'education-contact-closed', reasonFound: 'x', alternativeArrangement: 'none' }, now);
    expect((await state(handle)).record.at(-1)).toMatchObject({ status: 'rejected', rule: 'R-11' });
    await send(handle, { type: 'not-in-education' }, now);
    expect((await state(handle)).checklistEvidence['education-contact-closed'].shown).toBe(false);
    await send(handle, { type: 'education-contact-closed', reasonFound: 'excluded from school', alternativeArrangement: 'unsuitable' }, now);
    const current = await state(handle);
    expect(current.procedure?.education).toMatchObject({ status: 'closed', alternativeArrangement: 'unsuitable' });
    expect(current.checklistEvidence['education-contact-closed'].shown).toBe(true);
    await harness.finish(handle);
  });

  it('R-15 new and significant information brings supervision forward; the authority\u2019s regular interval asks again after each review', async () => {
    const handle = await inProgress('REF-1814', { policy: policy({ supervisionIntervalWorkingDays: 5 }) });
    const now = await harness.now();
    const first = openPrompt(await state(handle), 'supervision-review');
    await send(handle, { type: 'significant-information-received' }, now);
    const forward = openPrompt(await state(handle), 'supervision-review');
    expect(forward.promptId).toBe(first.promptId);
    expect(forward.dueBy).toBe(iso(addWorkingDays(testCalendar(), now, 1)));
    await decide(handle, forward.promptId, 'continue', now);
    const next = openPrompt(await state(handle), 'supervision-review');
    expect(next.promptId).not.toBe(first.promptId);
    expect(next.dueBy).toBe(iso(addWorkingDays(testCalendar(), now, 5)));
    await harness.finish(handle);

    // Without an interval set, none is asked after the review.
    const plain = await inProgress('REF-1815');
    const review = openPrompt(await state(plain), 'supervision-review');
    await decide(plain, review.promptId, 'continue', await harness.now());
    expect((await state(plain)).openPrompts.some((open) => open.kind === 'supervision-review')).toBe(false);
    await harness.finish(plain);
  });

  it('R-17 completing without the family needs the reasons recorded with the attempts', async () => {
    const handle = await inProgress('REF-1816');
    const now = await harness.now();
    await send(handle, { type: 'family-declined-engagement', attempts: [{ occurredAt: iso(now), method: 'visit' }] }, now);
    expect((await state(handle)).record.at(-1)).toMatchObject({ status: 'rejected', rule: 'R-17' });
    await send(handle, { type: 'family-declined-engagement', attempts: [{ occurredAt: iso(now), method: 'visit' }], reasonsForCompletingWithout: 'enough is known from the agencies' }, now);
    expect((await state(handle)).familyDeclined).toMatchObject({ attempts: 1 });
    await harness.finish(handle);
  });

  it('R-4 allocation names the supervising manager; where the authority lists its qualified staff both must be on it; the visit timescale goes to the social worker', async () => {
    const handle = await harness.start(await harness.input('REF-1817', { policy: policy({ qualifiedStaff: { socialWorkers: ['SW-1'], managers: ['MGR-1'] } }) }));
    const prompt = openPrompt(await state(handle), 'allocation');
    const now = await harness.now();
    const base = { socialWorkerId: 'SW-1', track: 'S17', assessmentType: 'brief' };
    const unqualifiedWorker = await decide(handle, prompt.promptId, 'allocate', now, { ...base, socialWorkerId: 'SW-2' }).catch((error: unknown) => error);
    expect(failure(unqualifiedWorker).message).toMatch(/R-4: SW-2/);
    const unqualifiedManager = await decide(handle, prompt.promptId, 'allocate', now, { ...base, supervisingManagerId: 'MGR-9' }).catch((error: unknown) => error);
    expect(failure(unqualifiedManager).message).toMatch(/R-4: MGR-9/);
    await decide(handle, prompt.promptId, 'allocate', now, { ...base, supervisingManagerId: 'MGR-1' });
    const current = await state(handle);
    expect(current.procedure?.allocation).toEqual({ socialWorkerId: 'SW-1', supervisingManagerId: 'MGR-1' });
    await harness.eventually(() =>
      expect(harness.caseRecords(handle.workflowId)).toContainEqual(
        expect.objectContaining({ kind: 'allocation-to-social-worker', data: { socialWorkerId: 'SW-1', supervisingManagerId: 'MGR-1', visitDueAt: current.visitDueAt } }),
      ),
    );
    await harness.finish(handle);
  });

  it('R-20 an unborn child: the clock runs from when the pregnancy was known; with no time to commence set, the start is listed as awaiting until allocation', async () => {
    const now = await harness.now();
    const calendar = testCalendar();
    const knownOn = new Date(now - 8 * DAY_MS).toISOString().slice(0, 10);
    const dueDate = new Date(now + 300 * DAY_MS).toISOString().slice(0, 10);
    const handle = await harness.start(await harness.input('REF-1818', { child: { childRef: 'C-1', expectedDeliveryDate: dueDate, pregnancyKnownOn: knownOn } }));
    const started = await state(handle);
    expect(started.statutoryCompletionDueAt).toBe(iso(endOfLocalDay(calendar, addWorkingDays(calendar, startOfLocalDay(calendar, knownOn), 45))));
    expect(started.procedure?.awaiting).toContainEqual(expect.objectContaining({ rule: 'R-20', step: 'commence' }));
    await allocate(harness, handle);
    expect((await state(handle)).procedure?.awaiting.some((entry) => entry.rule === 'R-20')).toBe(false);
    await harness.finish(handle);

    // With a time to commence set, the allocation is due within it.
    const dutyDecidedAt = iso(await harness.now());
    const set = await harness.start(
      await harness.input('REF-1819', { child: { childRef: 'C-1', expectedDeliveryDate: dueDate, pregnancyKnownOn: knownOn }, policy: policy({ preBirthCommenceWorkingDays: 2, allocationWorkingDays: 5 }), dutyDecidedAt }),
    );
    expect((await state(set)).allocationDueAt).toBe(iso(addWorkingDays(calendar, Date.parse(dutyDecidedAt), 2)));
    await harness.finish(set);
  });

  it('R-28 a young person homeless now is signed off only with section 20 accommodation or their refusal recorded', async () => {
    const child = { childRef: 'C-1', dateOfBirth: bornYearsAgo(16.5), homelessness: 'homeless' as const };
    const handle = await inProgress('REF-1820', { child });
    await doFieldwork(harness, handle);
    const prompt = await submitted(handle);
    const now = await harness.now();
    const answer = signOffAnswer({ section20Considered: true, determinations: { childInNeed: true, significantHarmSuspected: false, accommodationNeeded: true } });
    const refused = await decide(handle, prompt.promptId, 'sign-off', now, answer).catch((error: unknown) => error);
    expect(failure(refused).message).toMatch(/R-28.*section20Outcome/);
    await decide(handle, prompt.promptId, 'sign-off', now, { ...answer, section20Outcome: 'refused-by-young-person' });
    expect((await state(handle)).stage).toBe('completed');
    await harness.finish(handle);
  });
});

describe('the second reading at the duty decision (procedure-checks)', () => {
  let counter = 0;
  async function startReferral(overrides: Partial<ReferralRequest> = {}): Promise<WorkflowHandle<typeof referralWorkflow>> {
    counter += 1;
    const now = await harness.now();
    return harness.env.client.workflow.start(referralWorkflow, {
      workflowId: referralWorkflowId(`REF-1850-${counter}`),
      taskQueue: harness.taskQueue,
      args: [{ referralId: `REF-1850-${counter}`, receivedAt: iso(now), referrerType: 'education', childProtectionConcern: false, team: 'TEAM-1', managerId: 'MGR-1', children: [{ childRef: 'C-1', dateOfBirth: bornYearsAgo(9) }], ...overrides }],
    });
  }
  const referralState = async (handle: WorkflowHandle<typeof referralWorkflow>) =>
    harness.eventually(async () => {
      const current = (await handle.query(stateQuery)) as ReferralState;
      if (!current.openPrompts.some((prompt) => prompt.kind === 'duty-decision') && current.stage === 'awaiting-duty-decision') throw new Error('not ready');
      return current;
    });
  const dutyDecision = async (handle: WorkflowHandle<typeof referralWorkflow>, decision: string, extra: Record<string, unknown> = {}) => {
    const prompt = (await referralState(handle)).openPrompts.find((candidate) => candidate.kind === 'duty-decision')!;
    return handle.executeUpdate(decideUpdate, { args: [{ promptId: prompt.promptId, decision, rationale: 'duty manager', decidedBy: 'MGR-1', decidedAt: iso(await harness.now()), ...extra }] });
  };

  it('R-28 a homeless young person known to be 16 or 17 without a date of birth cannot be closed at duty', async () => {
    const handle = await startReferral({ children: [{ childRef: 'C-1', aged16Or17: true, homelessness: 'threat-imminent' }] });
    expect((await referralState(handle)).mustBeAssessed).toEqual(['C-1']);
    for (const closing of ['no-further-action', 'information-and-advice', 'early-help']) {
      const refused = await dutyDecision(handle, closing).catch((error: unknown) => error);
      expect(failure(refused).message, closing).toMatch(/R-28/);
    }
    await dutyDecision(handle, 'single-assessment');
    const assessment = harness.env.client.workflow.getHandle(assessmentWorkflowId((await referralState(handle)).referralId, 'C-1')) as Handle;
    await harness.eventually(async () => expect((await state(assessment)).homeless16Or17).toBe(true));
    await harness.finish(assessment);
    await harness.finish(handle);
  });

  it('R-3 a referral naming one child lists the other children of the household: the first child\u2019s assessment asks the manager about each', async () => {
    const handle = await startReferral({ otherHouseholdChildren: [{ childRef: 'C-2', dateOfBirth: bornYearsAgo(3) }] });
    await dutyDecision(handle, 'single-assessment');
    const assessment = harness.env.client.workflow.getHandle(assessmentWorkflowId((await referralState(handle)).referralId, 'C-1')) as Handle;
    const current = await harness.eventually(async () => {
      const found = await state(assessment);
      if (!found.openPrompts.some((prompt) => prompt.kind === 'consider-child')) throw new Error('not yet');
      return found;
    });
    expect(openPrompt(current, 'consider-child')).toMatchObject({ rule: 'R-3', about: 'C-2' });
    expect(current.procedure?.householdChildren).toMatchObject([{ childRef: 'C-2', status: 'awaiting', cause: 'listed-at-referral' }]);
    await harness.finish(assessment);
    await harness.finish(handle);
  });

  it('R-1 the duty decision goes to the referrer and to the parents, unless the manager records why not; the policy may count clock hours', async () => {
    const now = await harness.now();
    const hours = await startReferral({ policy: { dutyDecisionUnit: 'hours', dutyDecisionHours: 24 } });
    const ready = await referralState(hours);
    expect(ready.dutyDecisionDueAt).toBe(iso(Date.parse(ready.receivedAt) + 24 * HOUR_MS));
    expect(Date.parse(ready.receivedAt)).toBeGreaterThanOrEqual(now);
    await dutyDecision(hours, 'information-and-advice');
    const told = await referralState(hours);
    expect(told.dutyDecisionCommunicated).toEqual([
      { recipient: 'referrer', status: 'sent' },
      { recipient: 'family', status: 'sent' },
    ]);
    await harness.eventually(() =>
      expect(harness.notifications(hours.workflowId).filter((n) => n.rule === 'R-1').map((n) => n.recipient).sort()).toEqual(['family', 'referrer']),
    );

    const withheld = await startReferral();
    expect((await referralState(withheld)).dutyDecisionDueAt).toBe(iso(addWorkingDays(testCalendar(), Date.parse((await referralState(withheld)).receivedAt), defaultPolicy.dutyDecisionWorkingDays)));
    await dutyDecision(withheld, 'no-further-action', { parentsNotToldReason: 'telling the father would put the mother at risk' });
    expect((await referralState(withheld)).dutyDecisionCommunicated).toContainEqual({ recipient: 'family', status: 'not-sent', reason: 'telling the father would put the mother at risk' });
    await harness.eventually(() => expect(harness.notifications(withheld.workflowId).some((n) => n.recipient === 'referrer')).toBe(true));
    expect(harness.notifications(withheld.workflowId).some((n) => n.recipient === 'family')).toBe(false);
    const finished = (await hours.result()) as ReferralState;
    expect(finished.stage).toBe('closed');
  });
});
