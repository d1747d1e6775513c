import { WorkflowUpdateFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { childInNeedPlanWorkflowId, strategyDiscussionWorkflowId } from '../../domain/ids';
import { defaultPolicy } from '../../domain/policy';
import { CHILD_IN_NEED_PLAN_WORKFLOW_TYPE, type ChildInNeedPlanState } from '../../workflows/child-in-need-plan';
import { decideUpdate, stateQuery } from '../../workflows/messages';
import {
  allMet,
  allocate,
  AssessmentHarness,
  childInNeedPlan,
  DAY_MS,
  decide,
  doFieldwork,
  iso,
  openPrompt,
  send,
  state,
  useTimeSkippingHarness,
  type Handle,
} from '../support/assessment-harness';

let harness: AssessmentHarness;
useTimeSkippingHarness((ready) => ({ harness } = ready));

const failure = (error: unknown) => (error as WorkflowUpdateFailedError).cause as { type?: string; message?: string };
const determinations = (childInNeed: boolean, significantHarmSuspected: boolean, accommodationNeeded = false) => ({ childInNeed, significantHarmSuspected, accommodationNeeded });

/** Allocated, fieldwork done and submitted: the sign-off prompt is open. */
async function awaitingSignOff(referralId: string, overrides: Parameters<AssessmentHarness['input']>[1] = {}): Promise<{ handle: Handle; promptId: string }> {
  const handle = await harness.start(await harness.input(referralId, overrides));
  await allocate(harness, handle);
  await doFieldwork(harness, handle);
  await send(handle, { type: 'assessment-submitted' }, await harness.now());
  return { handle, promptId: openPrompt(await state(handle), 'sign-off').promptId };
}

async function signOff(handle: Handle, promptId: string, answer: Record<string, unknown>) {
  return decide(handle, promptId, 'sign-off', await harness.now(), {
    outcome: 'no-further-action',
    determinations: determinations(false, false),
    checklist: allMet(),
    primaryNeedCode: 'N1',
    assessmentFactors: ['21'],
    ...answer,
  });
}

describe('outcomes that lead somewhere (R-42, R-43, R-44)', () => {
  it('R-42 the sign-off refuses an outcome its determinations contradict, naming what is missing', async () => {
    const { handle, promptId } = await awaitingSignOff('REF-8001');
    const now = await harness.now();
    const refused = async (answer: Record<string, unknown>) => failure(await signOff(handle, promptId, answer).catch((e: unknown) => e));

    expect(await refused({ outcome: 'child-in-need-plan', determinations: determinations(false, false), childInNeedPlan: childInNeedPlan(now) })).toMatchObject({
      type: 'invalid-decision',
      message: expect.stringMatching(/R-42.*child in need: yes.*determinations\.childInNeed/),
    });
    expect((await refused({ outcome: 'strategy-discussion', determinations: determinations(true, false) })).message).toMatch(/R-42.*significant harm: yes/);
    expect((await refused({ outcome: 'emergency-action', determinations: determinations(true, false) })).message).toMatch(/R-42.*significant harm: yes/);
    // A disabled child is a child in need by definition: "no" needs a reason.
    expect((await refused({ outcome: 'no-further-action', determinations: determinations(false, false), childDisabled: true })).message).toMatch(/R-42.*notInNeedReason/);
    expect((await state(handle)).stage).toBe('awaiting-sign-off');

    await signOff(handle, promptId, { childDisabled: true, notInNeedReason: 'the impairment does not affect daily living; the family manages well' });
    const done = await state(handle);
    expect(done).toMatchObject({ stage: 'completed', outcome: 'no-further-action' });
    expect(done.strategyDiscussions).toEqual([]);
    await harness.finish(handle);
  });

  it('R-42 significant harm: yes with another outcome starts a strategy discussion unless one was held', async () => {
    const { handle, promptId } = await awaitingSignOff('REF-8002');
    await signOff(handle, promptId, { outcome: 'early-help', determinations: determinations(true, true) });
    const started = await harness.eventually(async () => {
      const current = await state(handle);
      expect(current.strategyDiscussions).toEqual([expect.objectContaining({ cause: 'significant-harm-at-sign-off', status: 'running' })]);
      return current;
    });
    expect(started.outcome).toBe('early-help');
    await harness.finish(handle);

    // One already held for the concern: none is started.
    const held = await awaitingSignOff('REF-8003');
    await send(held.handle, { type: 'significant-harm-suspected' }, await harness.now());
    const discussion = harness.env.client.workflow.getHandle(strategyDiscussionWorkflowId('REF-8003', 'C-1', 1));
    const outcomePrompt = await harness.eventually(async () => openPrompt((await discussion.query(stateQuery)) as never, 'strategy-discussion-outcome'));
    await discussion.executeUpdate(decideUpdate, {
      args: [{ promptId: outcomePrompt.promptId, decision: 'no-section-47', attendees: ['police', 'health'], rationale: 'no s47', decidedBy: 'MGR-1', decidedAt: iso(await harness.now()) }],
    });
    await harness.eventually(async () => expect((await state(held.handle)).strategyDiscussions[0]?.status).toBe('concluded'));
    await signOff(held.handle, held.promptId, { outcome: 'child-in-need-plan', determinations: determinations(true, true), childInNeedPlan: childInNeedPlan(await harness.now()) });
    await harness.eventually(async () => expect((await state(held.handle)).followOn.childInNeedPlans[0]?.status).toBe('running'));
    expect((await state(held.handle)).strategyDiscussions).toHaveLength(1);
    await harness.finish(held.handle);
  });

  it('R-44 R-43 a child in need plan outcome needs the whole plan, and starts the plan\'s own workflow, which outlives the assessment', async () => {
    const { handle, promptId } = await awaitingSignOff('REF-8004');
    const now = await harness.now();
    const answer = { outcome: 'child-in-need-plan', determinations: determinations(true, false) };
    expect(failure(await signOff(handle, promptId, answer).catch((e: unknown) => e)).message).toMatch(/R-44.*childInNeedPlan/);
    const { contingency: _dropped, ...withoutContingency } = childInNeedPlan(now);
    expect(failure(await signOff(handle, promptId, { ...answer, childInNeedPlan: withoutContingency }).catch((e: unknown) => e))).toMatchObject({ type: 'invalid-decision' });
    expect(failure(await signOff(handle, promptId, { ...answer, childInNeedPlan: { ...childInNeedPlan(now), reviewDates: [iso(now - DAY_MS)] } }).catch((e: unknown) => e)).message).toMatch(
      /R-44.*review date/,
    );

    await signOff(handle, promptId, { ...answer, childInNeedPlan: childInNeedPlan(now) });
    const planId = childInNeedPlanWorkflowId('REF-8004', 'C-1', { kind: 'assessment' });
    await harness.eventually(async () => expect((await state(handle)).followOn.childInNeedPlans).toEqual([expect.objectContaining({ workflowId: planId, status: 'running' })]));
    const plan = harness.env.client.workflow.getHandle(planId);
    const described = await plan.describe();
    expect(described.type).toBe(CHILD_IN_NEED_PLAN_WORKFLOW_TYPE);
    expect(described.parentExecution?.workflowId).toBe(handle.workflowId);
    // It outlives the assessment: started with the ABANDON parent close policy.
    const initiated = ((await handle.fetchHistory()).events ?? []).find(
      (event) => event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name === CHILD_IN_NEED_PLAN_WORKFLOW_TYPE,
    );
    expect(initiated?.startChildWorkflowExecutionInitiatedEventAttributes?.parentClosePolicy).toBe(2); // PARENT_CLOSE_POLICY_ABANDON
    const planState = (await plan.query(stateQuery)) as ChildInNeedPlanState;
    expect(planState).toMatchObject({ stage: 'open', origin: { kind: 'assessment' }, planManagerId: 'MGR-2', agenciesNotSent: ['AG-1', 'AG-2'] });
    expect(described.searchAttributes).toMatchObject({ ReferralId: ['REF-8004'], Team: ['TEAM-1'] });
    // An event for the plan sent to the assessment is refused, naming where it goes.
    await send(handle, { type: 'cin-plan-sent', agencyRef: 'AG-1' }, await harness.now());
    expect((await state(handle)).record.filter((entry) => entry.source === 'event').at(-1)).toMatchObject({ type: 'cin-plan-sent', status: 'rejected', reason: expect.stringMatching(/child in need plan's workflow/) });
    await harness.finish(handle);
  });

  it('R-43 need for accommodation asks the route and emits "care plan required"', async () => {
    const { handle, promptId } = await awaitingSignOff('REF-8006');
    await signOff(handle, promptId, { outcome: 'child-in-need-plan', determinations: determinations(true, false, true), childInNeedPlan: childInNeedPlan(await harness.now()) });
    const prompt = openPrompt(await state(handle), 'accommodation-route');
    expect(prompt).toMatchObject({ rule: 'R-43', allowedDecisions: ['section-20-with-consent', 'court-order'] });
    await decide(handle, prompt.promptId, 'section-20-with-consent', await harness.now());
    expect((await state(handle)).followOn.accommodationRoute).toBe('section-20-with-consent');
    await harness.eventually(() => expect(harness.caseRecords(handle.workflowId)).toContainEqual(expect.objectContaining({ kind: 'care-plan-required', data: expect.objectContaining({ route: 'section-20-with-consent' }) })));
    await harness.finish(handle);
  });
});

describe('emergency action at any time (R-34)', () => {
  it('R-34 emergency action starts a strategy discussion, tells police and manager at once, asks a decision for each other child, and the assessment goes on', async () => {
    const handle = await harness.start(await harness.input('REF-8101', { householdChildRefs: ['C-1', 'C-2', 'C-3'] }));
    await allocate(harness, handle);
    const at = await harness.now();
    await send(handle, { type: 'emergency-action-taken', kind: 'police-protection', decidedBy: 'MGR-1' }, at);
    const after = await harness.eventually(async () => {
      const current = await state(handle);
      expect(current.strategyDiscussions).toEqual([expect.objectContaining({ cause: 'emergency-action-taken', status: 'running', calledAt: iso(at) })]);
      return current;
    });
    expect(after.stage).toBe('in-progress');
    expect(after.track).toBe('S47');
    expect(after.followOn.emergencyActions).toEqual([expect.objectContaining({ kind: 'police-protection', decidedBy: 'MGR-1', occurredAt: iso(at), strategyDiscussion: 'started' })]);
    const siblings = after.openPrompts.filter((prompt) => prompt.kind === 'sibling-decision');
    expect(siblings.map((prompt) => [prompt.about, prompt.rule])).toEqual([
      ['C-2', 'R-34'],
      ['C-3', 'R-34'],
    ]);
    await harness.eventually(() => {
      const sent = harness.notifications(handle.workflowId).filter((n) => n.reason === 'emergency-action');
      expect(sent.map((n) => n.recipient).sort()).toEqual(['manager', 'police']);
    });

    // Another while the discussion runs: no second discussion, no second question per child.
    await send(handle, { type: 'emergency-action-taken', kind: 'emergency-protection-order', decidedBy: 'MGR-1' }, await harness.now());
    const again = await state(handle);
    expect(again.strategyDiscussions).toHaveLength(1);
    expect(again.followOn.emergencyActions[1]).toMatchObject({ strategyDiscussion: 'already-running' });
    expect(again.openPrompts.filter((prompt) => prompt.kind === 'sibling-decision')).toHaveLength(2);
    await decide(handle, siblings[0]!.promptId, 'assess', await harness.now());
    expect((await state(handle)).followOn.siblingDecisions[0]).toMatchObject({ childRef: 'C-2', decision: 'assess' });
    await harness.eventually(() => expect(harness.caseRecords(handle.workflowId)).toContainEqual(expect.objectContaining({ kind: 'sibling-decision', data: expect.objectContaining({ childRef: 'C-2' }) })));
    // The assessment goes on: fieldwork is still taken.
    await doFieldwork(harness, handle);
    expect((await state(handle)).evidence.homeVisits).toHaveLength(1);
    await harness.finish(handle);
  });

  it('R-34 emergency action for a concern whose strategy discussion was held starts none', async () => {
    const handle = await harness.start(await harness.input('REF-8102'));
    await allocate(harness, handle);
    await send(handle, { type: 'significant-harm-suspected' }, await harness.now());
    const discussion = harness.env.client.workflow.getHandle(strategyDiscussionWorkflowId('REF-8102', 'C-1', 1));
    const outcomePrompt = await harness.eventually(async () => openPrompt((await discussion.query(stateQuery)) as never, 'strategy-discussion-outcome'));
    await discussion.executeUpdate(decideUpdate, {
      args: [{ promptId: outcomePrompt.promptId, decision: 'no-section-47', attendees: ['police', 'health'], rationale: 'no s47', decidedBy: 'MGR-1', decidedAt: iso(await harness.now()) }],
    });
    await harness.eventually(async () => expect((await state(handle)).strategyDiscussions[0]?.status).toBe('concluded'));
    await send(handle, { type: 'emergency-action-taken', kind: 'other', decidedBy: 'MGR-1', strategyDiscussionSequence: 1 }, await harness.now());
    const current = await state(handle);
    expect(current.strategyDiscussions).toHaveLength(1);
    expect(current.followOn.emergencyActions[0]).toMatchObject({ strategyDiscussion: 'already-held' });
    await harness.finish(handle);
  });
});

describe('specialist assessments (R-45)', () => {
  it('R-45 requested during the assessment, tracked as awaiting (no time in the policy) until its result arrives', async () => {
    const handle = await harness.start(await harness.input('REF-8201'));
    await allocate(harness, handle);
    const at = await harness.now();
    await send(handle, { type: 'specialist-assessment-requested', requestRef: 'SA-1', kind: 'parenting-capacity', provider: 'adult mental health service' }, at);
    await send(handle, { type: 'specialist-assessment-requested', requestRef: 'SA-1', kind: 'psychological', provider: 'clinic' }, at);
    const requested = await state(handle);
    expect(requested.followOn.specialistAssessments).toEqual([expect.objectContaining({ requestRef: 'SA-1', kind: 'parenting-capacity', requestedAt: iso(at), status: 'awaiting', requestedBy: 'event' })]);
    expect(requested.followOn.awaiting.filter((step) => step.rule === 'R-45')).toEqual([expect.objectContaining({ step: 'specialist-assessment-result', rule: 'R-45', ref: 'SA-1' })]);
    expect(requested.record.filter((entry) => entry.type === 'specialist-assessment-requested').map((entry) => entry.status)).toEqual(['applied', 'rejected']);
    // Never dropped: the manager is reminded while the result is awaited.
    expect(requested.deadlines.map((deadline) => deadline.name)).toContain('specialist-reminder:SA-1');

    await send(handle, { type: 'specialist-assessment-result-received', requestRef: 'SA-1' }, await harness.now());
    const received = await state(handle);
    expect(received.followOn.specialistAssessments[0]).toMatchObject({ status: 'received' });
    expect(received.followOn.awaiting.filter((step) => step.rule === 'R-45')).toEqual([]);
    expect(received.deadlines.map((deadline) => deadline.name)).not.toContain('specialist-reminder:SA-1');
    await harness.eventually(() => expect(harness.notifications(handle.workflowId)).toContainEqual(expect.objectContaining({ recipient: 'social-worker', reason: 'specialist-assessment-result', target: 'SA-1' })));
    await harness.finish(handle);
  });

  it('R-45 as the outcome: needs the request, keeps the case open past its review window, escalates when the policy time passes, and its result is new information (R-25)', async () => {
    const { handle, promptId } = await awaitingSignOff('REF-8202', { policy: { ...defaultPolicy, specialistAssessmentResultWorkingDays: 20 } });
    const answer = { outcome: 'specialist-assessment', determinations: determinations(true, false) };
    expect(failure(await signOff(handle, promptId, answer).catch((e: unknown) => e)).message).toMatch(/R-45.*specialistAssessment/);
    await signOff(handle, promptId, { ...answer, specialistAssessment: { requestRef: 'SA-2', kind: 'paediatric', provider: 'community paediatrics' } });
    const signed = await state(handle);
    expect(signed.followOn.specialistAssessments[0]).toMatchObject({ requestRef: 'SA-2', requestedBy: 'sign-off', status: 'awaiting', resultDueAt: expect.any(String) });
    expect(signed.followOn.awaiting).toEqual([]);

    // Past the result's time and the review window (90 days): escalated, and the case is still open.
    await harness.env.sleep(100 * DAY_MS);
    const waiting = await harness.eventually(async () => {
      const current = await state(handle);
      expect(current.openPrompts).toContainEqual(expect.objectContaining({ kind: 'escalation', rule: 'R-45', about: 'specialist-result:SA-2' }));
      return current;
    });
    expect(waiting.reviewWindowEndsAt! < iso(await harness.now())).toBe(true);
    expect((await handle.describe()).status.name).toBe('RUNNING');

    await send(handle, { type: 'specialist-assessment-result-received', requestRef: 'SA-2' }, await harness.now());
    const arrived = await state(handle);
    expect(arrived.openPrompts.map((prompt) => prompt.kind)).not.toContain('escalation');
    const duty = openPrompt(arrived, 'duty-decision');
    expect(duty).toMatchObject({ rule: 'R-25', about: 'new-information' });
    await decide(handle, duty.promptId, 'no-further-action', await harness.now());
    expect(await handle.result()).toMatchObject({ stage: 'completed', outcome: 'specialist-assessment' });
  }, 120_000);
});

describe('pre-birth after completion (R-47)', () => {
  it('R-47 on completion a pre-birth assessment asks for its disclosure to the parents and their solicitor (awaiting with no time in the policy); the birth asks whether to update it, decided on top', async () => {
    const due = new Date(Date.now() + 200 * DAY_MS).toISOString().slice(0, 10);
    const { handle, promptId } = await awaitingSignOff('REF-8501', { child: { childRef: 'C-1', expectedDeliveryDate: due } });
    await signOff(handle, promptId, {});
    const signed = await state(handle);
    const disclosure = openPrompt(signed, 'pre-birth-disclosure');
    expect(disclosure).toMatchObject({ rule: 'R-47', allowedDecisions: ['disclosed', 'withheld'] });
    expect(signed.followOn.awaiting).toEqual([expect.objectContaining({ step: 'pre-birth-disclosure', rule: 'R-47' })]);
    await decide(handle, disclosure.promptId, 'disclosed', await harness.now(), { solicitorInstructed: true, disclosedToSolicitor: true });
    expect((await state(handle)).followOn.preBirth).toMatchObject({ applies: true, disclosure: 'disclosed', solicitorInstructed: true });

    await send(handle, { type: 'child-born' }, await harness.now());
    const born = await state(handle);
    const update = openPrompt(born, 'pre-birth-update');
    expect(update).toMatchObject({ rule: 'R-47', allowedDecisions: ['update-assessment', 'no-update'] });
    expect(born.followOn.preBirth.bornAt).toBeDefined();
    await decide(handle, update.promptId, 'update-assessment', await harness.now());
    const decided = await state(handle);
    expect(decided.outcome).toBe('no-further-action'); // never rewritten: the decision is on top
    expect(decided.subsequentDecisions.map((entry) => [entry.kind, entry.decision])).toEqual([
      ['pre-birth-disclosure', 'disclosed'],
      ['pre-birth-update', 'update-assessment'],
    ]);
    // A child born before the referral has no birth to record.
    const other = await harness.start(await harness.input('REF-8502'));
    await send(other, { type: 'child-born' }, await harness.now());
    expect((await state(other)).record.filter((entry) => entry.source === 'event').at(-1)).toMatchObject({ type: 'child-born', status: 'rejected', rule: 'R-47' });
    await harness.finish(other);
    await harness.finish(handle);
  });
});

describe('extensions from the second reading (R-13, R-25)', () => {
  it('R-13 new information after completion that gives cause to suspect significant harm starts a strategy discussion at once, besides the decision on it', async () => {
    const { handle, promptId } = await awaitingSignOff('REF-8601');
    await signOff(handle, promptId, {});
    const at = await harness.now();
    await send(handle, { type: 'new-information', significantHarmSuspected: true }, at);
    const after = await harness.eventually(async () => {
      const current = await state(handle);
      expect(current.strategyDiscussions).toEqual([expect.objectContaining({ cause: 'new-information-significant-harm', calledAt: iso(at) })]);
      return current;
    });
    expect(openPrompt(after, 'duty-decision')).toMatchObject({ rule: 'R-25', about: 'new-information' });
    await harness.finish(handle);
  });

  it('R-25 new information during the assessment asks the manager: no change, updated conclusions, a specialist assessment (R-45) or a strategy discussion (R-13)', async () => {
    const handle = await harness.start(await harness.input('REF-8602'));
    await allocate(harness, handle);
    await send(handle, { type: 'new-information' }, await harness.now());
    const asked = await state(handle);
    const prompt = openPrompt(asked, 'new-information-review');
    expect(prompt).toMatchObject({ rule: 'R-25', allowedDecisions: ['no-change', 'update-conclusions', 'specialist-assessment', 'strategy-discussion'] });
    expect(asked.record.filter((entry) => entry.source === 'event').at(-1)).toMatchObject({ type: 'new-information', status: 'applied' });
    await decide(handle, prompt.promptId, 'specialist-assessment', await harness.now(), { specialistAssessment: { requestRef: 'SA-9', kind: 'psychological', provider: 'clinic' } });
    expect((await state(handle)).followOn.specialistAssessments).toEqual([expect.objectContaining({ requestRef: 'SA-9', status: 'awaiting' })]);

    await send(handle, { type: 'new-information' }, await harness.now());
    await decide(handle, openPrompt(await state(handle), 'new-information-review').promptId, 'strategy-discussion', await harness.now());
    await harness.eventually(async () => expect((await state(handle)).strategyDiscussions).toEqual([expect.objectContaining({ cause: 'new-information' })]));
    await harness.finish(handle);
  });

  it('R-26 a strategy discussion lists who it invites: police and health, and the referring agency', async () => {
    const discussion = await harness.startStrategyDiscussion('REF-8603', { referrerType: 'education' });
    await harness.eventually(async () => expect(((await discussion.query(stateQuery)) as { invitees: string[] }).invitees).toEqual(['police', 'health', 'referrer:education']));
    await harness.finish(discussion);
  });

  it('R-26 a looked-after child\'s strategy discussion also invites the residential or fostering service caring for them', async () => {
    const handle = await harness.start(await harness.input('REF-8605', { child: { childRef: 'C-1', lookedAfter: true } }));
    await allocate(harness, handle);
    await send(handle, { type: 'significant-harm-suspected' }, await harness.now());
    const discussion = harness.env.client.workflow.getHandle(strategyDiscussionWorkflowId('REF-8605', 'C-1', 1));
    await harness.eventually(async () =>
      expect(((await discussion.query(stateQuery)) as { invitees: string[] }).invitees).toEqual(['police', 'health', 'residential-or-fostering-service']),
    );
    await harness.finish(handle);
  });

  it('R-24 the family and the participants receive a copy of the assessment, the outcome is discussed with child and family, each tracked as sent or excepted', async () => {
    // A child of 8 on the server's clock (under 12: the copy to the child is an exception).
    const dateOfBirth = new Date((await harness.now()) - 8 * 365.25 * DAY_MS).toISOString().slice(0, 10);
    const { handle, promptId } = await awaitingSignOff('REF-8604', { child: { childRef: 'C-1', dateOfBirth } });
    await signOff(handle, promptId, {});
    const signed = await state(handle);
    expect(signed.followOn.circulation).toEqual([
      expect.objectContaining({ recipient: 'family', what: 'assessment-copy', status: 'sent' }),
      expect.objectContaining({ recipient: 'child', what: 'assessment-copy', status: 'excepted', reason: expect.stringMatching(/under 12/) }),
      expect.objectContaining({ recipient: 'participant', what: 'assessment-copy', status: 'sent', target: 'health' }),
      expect.objectContaining({ recipient: 'child', what: 'outcome-discussion', status: 'awaited' }),
      expect.objectContaining({ recipient: 'family', what: 'outcome-discussion', status: 'awaited' }),
    ]);
    await harness.eventually(() => expect(harness.notifications(handle.workflowId)).toContainEqual(expect.objectContaining({ recipient: 'family', reason: 'assessment-copy' })));
    await send(handle, { type: 'outcome-discussed', with: 'family', communicationArrangementsUsed: true }, await harness.now());
    await send(handle, { type: 'outcome-discussed', with: 'family' }, await harness.now());
    const discussed = await state(handle);
    expect(discussed.followOn.circulation.find((entry) => entry.what === 'outcome-discussion' && entry.recipient === 'family')).toMatchObject({ status: 'done' });
    expect(discussed.record.filter((entry) => entry.type === 'outcome-discussed').map((entry) => entry.status)).toEqual(['applied', 'rejected']);
    await harness.finish(handle);

    // Withheld from the family: every item for child and family is an exception with its reason.
    const withheld = await awaitingSignOff('REF-8605');
    await signOff(withheld.handle, withheld.promptId, { withholdFromFamily: true });
    const excepted = (await state(withheld.handle)).followOn.circulation.filter((entry) => entry.recipient !== 'participant');
    expect(excepted.map((entry) => entry.status)).toEqual(['excepted', 'excepted', 'excepted', 'excepted']);
    await harness.finish(withheld.handle);
  });
});

