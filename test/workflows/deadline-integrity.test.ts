/**
 * Deadline integrity (issue 9): no deadline is stalled by outside work, dodged by an
 * unallocated case or a stream of messages, or counted from the wrong date. Each test names
 * the rule whose deadline it protects. The outbound webhook is a real HTTP receiver on
 * loopback that can be switched to answer 500.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { completionDue, workingDaysBefore } from '../../domain/assessment-rules';
import { assessmentWorkflowId, referralWorkflowId, section47EnquiryWorkflowId, strategyDiscussionWorkflowId } from '../../domain/ids';
import { defaultPolicy } from '../../domain/policy';
import type { Prompt } from '../../domain/prompts';
import { addHours, addWorkingDays, endOfLocalDay, startOfLocalDay, shiftLocalDate } from '../../domain/working-days';
import { decideUpdate, recordEventUpdate, stateQuery } from '../../workflows/messages';
import { referralWorkflow, type ReferralState } from '../../workflows/referral';
import type { Section47State } from '../../workflows/section47-enquiry';
import type { StrategyDiscussionState } from '../../workflows/strategy-discussion';
import {
  allMet,
  allocate,
  AssessmentHarness,
  childInNeedPlan,
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
import { timeSkippingWorker } from '../support/temporal';
import { WebhookReceiver } from '../support/webhook-receiver';
import { expectNothingStalled, refusalOf } from '../support/deadline-checks';

let env: TestWorkflowEnvironment;
let harness: AssessmentHarness;
let receiver: WebhookReceiver;
useTimeSkippingHarness(
  (ready) => ({ env, harness } = ready),
  async (testEnv) => {
    receiver = await WebhookReceiver.start();
    return timeSkippingWorker(testEnv, { webhookUrl: receiver.url, webhookSecret: 'webhook-secret-for-tests' });
  },
);
afterAll(async () => {
  await receiver?.stop();
});

let counter = 0;
const nextId = (prefix: string) => `${prefix}-${(counter += 1)}${Date.now().toString(36).toUpperCase()}`;

async function startAssessment(overrides: Parameters<AssessmentHarness['input']>[1] = {}, receivedAgoMs = HOUR_MS): Promise<Handle> {
  return harness.start(await harness.input(nextId('REF'), overrides, receivedAgoMs));
}


/** A signed-off assessment (the record evidences every checklist item). */
async function signedOff(handle: Handle, outcome = 'child-in-need-plan', extra: Record<string, unknown> = {}) {
  await allocate(harness, handle);
  await doFieldwork(harness, handle);
  await send(handle, { type: 'assessment-submitted' }, await harness.now());
  const signOff = openPrompt(await state(handle), 'sign-off');
  await decide(handle, signOff.promptId, 'sign-off', await harness.now(), {
    outcome,
    determinations: { childInNeed: true, significantHarmSuspected: outcome === 'emergency-action', accommodationNeeded: false },
    checklist: allMet(),
    primaryNeedCode: 'N1',
    assessmentFactors: ['21'],
    ...(outcome === 'child-in-need-plan' ? { childInNeedPlan: childInNeedPlan(Date.now() + 365 * DAY_MS) } : {}),
    ...extra,
  });
  return state(handle);
}

describe('deadline integrity: no case dodges its deadlines', () => {
  it('R-4 an assessment nobody allocates has its allocation and statutory completion due from the start, and goes overdue', async () => {
    const handle = await startAssessment();
    const started = await state(handle);
    const startedAtMs = Date.parse(started.record[0]!.at);
    expect(started.allocationDueAt).toBe(iso(addWorkingDays(testCalendar(), startedAtMs, defaultPolicy.allocationWorkingDays)));
    expect(started.completionDueAt).toBe(iso(completionDue(testCalendar(), defaultPolicy, Date.parse(started.receivedAt), 45, undefined, true).completionDueAt));
    expect(openPrompt(started, 'allocation').dueBy).toBe(started.allocationDueAt);
    expect(started.deadlines.map((deadline) => deadline.name)).toEqual(expect.arrayContaining(['allocation', 'completion']));

    await env.sleep(Date.parse(started.allocationDueAt!) - (await harness.now()) + HOUR_MS);
    const overdue = await harness.eventually(async () => {
      const current = await state(handle);
      expect(current.overdue.allocation).toBe(true);
      return current;
    });
    expect(overdue.openPrompts).toContainEqual(expect.objectContaining({ kind: 'escalation', about: 'allocation', rule: 'R-4' }));
    expectNothingStalled(overdue, await harness.now());
    await harness.eventually(async () => expect((await handle.describe()).searchAttributes.Overdue).toEqual([true]));
    await harness.eventually(() => expect(receiver.for(handle.workflowId)).toContainEqual(expect.objectContaining({ recipient: 'manager', reason: 'allocation-overdue' })));

    const allocated = await allocate(harness, handle);
    expect(allocated.overdue.allocation).toBe(false);
    expect(allocated.openPrompts.filter((prompt) => prompt.about === 'allocation')).toEqual([]);
    await harness.finish(handle);
  });

  it('R-4 a referral back-dated 70 days, never allocated, shows as overdue at once', async () => {
    const handle = await startAssessment({}, 70 * DAY_MS);
    const current = await harness.eventually(async () => {
      const now = await state(handle);
      expect(now.overdue.completion).toBe(true);
      return now;
    });
    expect(current.breaches).toContainEqual(expect.objectContaining({ rule: 'R-19' }));
    await harness.eventually(async () => expect((await handle.describe()).searchAttributes.Overdue).toEqual([true]));
    await harness.finish(handle);
  });

  it('R-25 a stream of new information does not postpone the escalation of the decision the first one asked for', async () => {
    const handle = await startAssessment();
    await signedOff(handle);
    await send(handle, { type: 'new-information' }, await harness.now());
    const first = openPrompt(await state(handle), 'duty-decision');
    const dueAt = Date.parse(first.dueBy!);
    for (let repeat = 0; repeat < 3; repeat += 1) {
      await env.sleep(4 * HOUR_MS);
      await send(handle, { type: 'new-information' }, await harness.now());
      const current = await state(handle);
      expect(current.deadlines.find((deadline) => deadline.name === 'new-information')?.dueAt).toBe(first.dueBy);
    }
    await env.sleep(Math.max(0, dueAt - (await harness.now())) + HOUR_MS);
    const escalated = await harness.eventually(async () => {
      const current = await state(handle);
      expect(current.openPrompts).toContainEqual(expect.objectContaining({ kind: 'escalation', about: 'new-information' }));
      return current;
    });
    expectNothingStalled(escalated, await harness.now());
    await harness.finish(handle);
  });
});

describe('deadline integrity: each deadline counts from the right moment', () => {
  it('R-27 the conference is due 15 working days from the strategy discussion that started this enquiry, not the first one ever held', async () => {
    const referralId = nextId('REF');
    const now = await harness.now();
    const discussion = await harness.startStrategyDiscussion(referralId, { sequence: 2, initialStrategyDiscussionAt: iso(now - 30 * DAY_MS) });
    const outcome = await harness.eventually(async () => {
      const current = (await discussion.query(stateQuery)) as StrategyDiscussionState;
      return current.openPrompts.find((prompt) => prompt.kind === 'strategy-discussion-outcome')!;
    });
    const heldAt = await harness.now();
    await discussion.executeUpdate(decideUpdate, {
      args: [{ promptId: outcome.promptId, decision: 'section-47-enquiry', attendees: ['police', 'health'], rationale: 'held', decidedBy: 'MGR-1', decidedAt: iso(heldAt) }],
    });
    const enquiry = env.client.workflow.getHandle(section47EnquiryWorkflowId(referralId, 'C-1', 2));
    const started = await harness.eventually(async () => (await enquiry.query(stateQuery)) as Section47State);
    expect(started.initialStrategyDiscussionAt).toBe(iso(heldAt));
    const outcomePrompt = started.openPrompts.find((prompt) => prompt.kind === 'section-47-outcome')!;
    expect(outcomePrompt.dueBy).toBe(iso(addWorkingDays(testCalendar(), heldAt, 15)));
    // The discussion does not wait on its enquiry in its work queue: its stage shows at once.
    await harness.eventually(async () => expect((await discussion.describe()).searchAttributes.AssessmentStage).toEqual(['strategy-section-47-enquiry']));
    await harness.finish(enquiry);
    await harness.finish(discussion);
  });

  it('R-6 a strategy discussion running at allocation makes the visit due within 24 hours, whatever track the manager picked', async () => {
    const handle = await startAssessment();
    await send(handle, { type: 'significant-harm-suspected' }, await harness.now());
    const allocated = await allocate(harness, handle, { track: 'S17' });
    expect(allocated.track).toBe('S47');
    expect(allocated.visitDueAt).toBe(iso(addHours(Date.parse(allocated.allocatedAt!), 24)));
    await harness.finish(handle);
    await harness.finish(env.client.workflow.getHandle(allocated.strategyDiscussions[0]!.workflowId));
  });

  it('R-6 significant harm suspected after an S17 allocation brings a child not yet seen within 24 hours', async () => {
    const handle = await startAssessment();
    const allocated = await allocate(harness, handle, { track: 'S17' });
    const suspectedAt = await harness.now();
    await send(handle, { type: 'significant-harm-suspected' }, suspectedAt);
    const current = await state(handle);
    expect(Date.parse(allocated.visitDueAt!)).toBeGreaterThan(suspectedAt + 24 * HOUR_MS);
    expect(current.visitDueAt).toBe(iso(addHours(suspectedAt, 24)));
    expect(current.deadlines.find((deadline) => deadline.name === 'visit')?.dueAt).toBe(current.visitDueAt);
    await harness.finish(handle);
  });

  it('R-13 a strategy discussion the duty decision called is called when that decision was taken, not when the referral arrived', async () => {
    const now = await harness.now();
    const handle = await startAssessment({ track: 'S47', strategyDiscussionNow: true, dutyDecidedAt: iso(now) }, 3 * DAY_MS);
    const current = await harness.eventually(async () => {
      const value = await state(handle);
      expect(value.strategyDiscussions[0]?.status).toBe('running');
      return value;
    });
    expect(current.strategyDiscussions[0]!.calledAt).toBe(iso(now));
    const discussion = env.client.workflow.getHandle(current.strategyDiscussions[0]!.workflowId);
    const held = (await discussion.query(stateQuery)) as StrategyDiscussionState;
    expect(held.overdue).toBe(false);
    expect(held.discussionDueAt).toBe(iso(addWorkingDays(testCalendar(), now, 1)));
    await harness.finish(handle);
    await harness.finish(discussion);
  });

  it('R-16 an event without recordedAt is taken as recorded when it reached the case, and flagged when that is late', async () => {
    const handle = await startAssessment();
    await allocate(harness, handle);
    const longAgo = workingDaysBefore(testCalendar(), await harness.now(), 4);
    const event = await send(handle, { type: 'home-visited', bedroomSeen: true }, longAgo);
    const entry = (await state(handle)).record.find((candidate) => candidate.ref === event.eventId)!;
    expect(entry.recordedAt).toBeDefined();
    expect(entry.lateRecording).toBe(true);
    await harness.finish(handle);
  });

  it('R-5 completion is due at the end of its last working day, so a sign-off later that day is within the timescale', () => {
    const calendar = testCalendar();
    const receivedAt = Date.parse('2026-11-02T15:00:00Z');
    const due = completionDue(calendar, defaultPolicy, receivedAt, 45, undefined, true);
    const sameTimeOfDay = addWorkingDays(calendar, receivedAt, 45);
    expect(due.completionDueAt).toBe(endOfLocalDay(calendar, sameTimeOfDay));
    expect(due.completionDueAt).toBeGreaterThan(sameTimeOfDay + 8 * HOUR_MS);
  });

  it('R-20 a pre-birth assessment is due at London midnight, four weeks before the expected delivery', () => {
    const calendar = testCalendar();
    const due = completionDue(calendar, defaultPolicy, Date.parse('2026-06-01T10:00:00Z'), 45, '2026-08-20', true);
    expect(due.preBirthDueAt).toBe(startOfLocalDay(calendar, shiftLocalDate('2026-08-20', -28)));
    // 23 July 2026 is in British Summer Time: London's midnight is 23:00 UTC the day before.
    expect(iso(due.preBirthDueAt!)).toBe('2026-07-22T23:00:00.000Z');
  });
});

describe('deadline integrity: what the case cannot take is refused, and says so', () => {
  it('R-21 an assessment-submitted before allocation is refused as event-refused, and the same eventId is taken once it fits', async () => {
    const handle = await startAssessment();
    const event = { type: 'assessment-submitted', eventId: nextId('EV'), occurredAt: iso(await harness.now()), actor: 'SW-1' } as const;
    const refusal = await refusalOf(handle.executeUpdate(recordEventUpdate, { args: [event] }));
    expect(refusal.type).toBe('event-refused');
    expect(refusal.message).toMatch(/only an assessment in progress can be submitted/);
    await allocate(harness, handle);
    const later = { ...event, occurredAt: iso(await harness.now()) };
    expect(await handle.executeUpdate(recordEventUpdate, { args: [later] })).toEqual({ duplicate: false });
    expect((await state(handle)).stage).toBe('awaiting-sign-off');
    await harness.finish(handle);
  });

  it('R-4 a decision dated in the future, or before the referral, is refused naming decidedAt', async () => {
    const handle = await startAssessment();
    const prompt = openPrompt(await state(handle), 'allocation');
    const now = await harness.now();
    for (const decidedAt of [now + 3 * DAY_MS, now - 2 * DAY_MS]) {
      const refusal = await refusalOf(decide(handle, prompt.promptId, 'allocate', decidedAt, { socialWorkerId: 'SW-1', track: 'S17', assessmentType: 'brief' }));
      expect(refusal.type).toBe('invalid-decision');
      expect(refusal.details?.[0]).toMatchObject({ issues: [expect.objectContaining({ path: 'decidedAt' })] });
    }
    expect(openPrompt(await state(handle), 'allocation').status).toBe('open');
    await harness.finish(handle);
  });

  it('R-11 a school-age child out of education is reported before allocation too', async () => {
    const handle = await startAssessment();
    await send(handle, { type: 'not-in-education' }, await harness.now());
    const current = await state(handle);
    expect(current.record.filter((entry) => entry.type === 'not-in-education')).toEqual([expect.objectContaining({ status: 'applied', rule: 'R-11' })]);
    await harness.eventually(() => expect(receiver.for(handle.workflowId)).toContainEqual(expect.objectContaining({ recipient: 'education-welfare' })));
    await harness.finish(handle);
  });
});

describe('deadline integrity: sign-off settles what it settles, and starts what the outcome needs', () => {
  it('R-19 completion escalations are withdrawn at sign-off; a missed brief timescale tells the manager, not the head of service', async () => {
    const handle = await startAssessment({}, 30 * DAY_MS);
    await allocate(harness, handle);
    const missed = await harness.eventually(async () => {
      const current = await state(handle);
      expect(current.overdue.completion).toBe(true);
      return current;
    });
    expect(missed.breaches).toEqual([expect.objectContaining({ rule: 'R-18' })]);
    expect(missed.openPrompts).toContainEqual(expect.objectContaining({ kind: 'escalation', about: 'completion', rule: 'R-18' }));
    await harness.eventually(() => expect(receiver.for(handle.workflowId)).toContainEqual(expect.objectContaining({ recipient: 'manager', reason: 'timescale-missed' })));
    expect(receiver.for(handle.workflowId).filter((body) => body.recipient === 'head-of-service')).toEqual([]);

    await doFieldwork(harness, handle);
    await send(handle, { type: 'assessment-submitted' }, await harness.now());
    const signOff = openPrompt(await state(handle), 'sign-off');
    await decide(handle, signOff.promptId, 'sign-off', await harness.now(), {
      outcome: 'no-further-action',
      determinations: { childInNeed: false, significantHarmSuspected: false, accommodationNeeded: false },
      checklist: allMet(),
      primaryNeedCode: 'N9',
      assessmentFactors: ['21'],
    });
    const done = await state(handle);
    expect(done.openPrompts.filter((prompt: Prompt) => prompt.kind === 'escalation')).toEqual([]);
    expect(done.deadlines.map((deadline) => deadline.name)).toEqual(['review-window']);
    await harness.finish(handle);
  });

  it('R-23 emergency action at sign-off starts a strategy discussion; a child in need plan is handed on to start', async () => {
    const emergency = await startAssessment();
    const done = await signedOff(emergency, 'emergency-action');
    expect(done.strategyDiscussions).toEqual([expect.objectContaining({ cause: 'emergency-action-outcome' })]);
    await harness.eventually(async () => expect((await state(emergency)).strategyDiscussions[0]!.status).toBe('running'));
    // After sign-off, the child being seen goes on to the enquiry's discussion through the assessment.
    const seen = await send(emergency, { type: 'child-seen', seenAlone: true, viewsRecorded: true }, await harness.now());
    const discussion = env.client.workflow.getHandle(strategyDiscussionWorkflowId(done.referralId, 'C-1', 1));
    await harness.eventually(async () => expect(((await discussion.query(stateQuery)) as StrategyDiscussionState).childSeenAt).toBe(seen.occurredAt));
    await harness.finish(discussion);
    await harness.finish(emergency);

    const plan = await startAssessment();
    await signedOff(plan, 'child-in-need-plan');
    await harness.eventually(() => {
      expect(receiver.for(plan.workflowId)).toContainEqual(expect.objectContaining({ kind: 'follow-on-required' }));
      expect(receiver.for(plan.workflowId)).toContainEqual(expect.objectContaining({ recipient: 'social-worker', reason: 'start-child-in-need-plan' }));
    });
    await harness.finish(plan);
  });

  it('R-13 a significant-harm concern after sign-off calls a strategy discussion at once; a repeat while it runs is sent to the manager', async () => {
    const handle = await startAssessment();
    await signedOff(handle);
    await send(handle, { type: 'significant-harm-suspected' }, await harness.now());
    await send(handle, { type: 'significant-harm-suspected' }, await harness.now());
    const current = await state(handle);
    expect(current.strategyDiscussions).toHaveLength(1);
    await harness.eventually(() =>
      expect(receiver.for(handle.workflowId)).toContainEqual(expect.objectContaining({ recipient: 'manager', reason: 'significant-harm-suspected-again' })),
    );
    await harness.finish(env.client.workflow.getHandle(current.strategyDiscussions[0]!.workflowId));
    await harness.finish(handle);
  });

});

describe('deadline integrity: the referral', () => {
  const startReferral = async (receivedAgoMs: number, overrides: Record<string, unknown> = {}) => {
    const referralId = nextId('REF');
    const handle = await env.client.workflow.start(referralWorkflow, {
      workflowId: referralWorkflowId(referralId),
      taskQueue: harness.taskQueue,
      args: [
        {
          referralId,
          receivedAt: iso((await harness.now()) - receivedAgoMs),
          referrerType: 'education',
          childProtectionConcern: false,
          team: 'TEAM-1',
          managerId: 'MGR-1',
          children: [{ childRef: 'C-1', dateOfBirth: '2015-03-01' }],
          ...overrides,
        },
      ],
    });
    const ready = await harness.eventually(async () => {
      const current = (await handle.query(stateQuery)) as ReferralState;
      if (!current.openPrompts.some((prompt) => prompt.kind === 'duty-decision')) throw new Error('not ready');
      return current;
    });
    return { handle, referralId, ready };
  };
  const decideReferral = async (handle: WorkflowHandle, promptId: string, decision: string) =>
    handle.executeUpdate(decideUpdate, { args: [{ promptId, decision, rationale: 'recorded', decidedBy: 'MGR-1', decidedAt: iso(await harness.now()) }] });

  it('R-1 a referral back-dated six years gets a working calendar that covers today and the years its case may run', async () => {
    const { handle, ready } = await startReferral(6 * 365 * DAY_MS);
    const thisYear = new Date(await harness.now()).getUTCFullYear();
    expect(ready.calendarYears!.from).toBeLessThanOrEqual(thisYear - 6);
    expect(ready.calendarYears!.to).toBeGreaterThanOrEqual(thisYear + 3);
    expect(ready.dutyDecisionOverdue || ready.openPrompts.some((prompt) => prompt.kind === 'escalation')).toBe(true);
    // Listed among what is overdue, as an assessment would be.
    await harness.eventually(async () => expect((await handle.describe()).searchAttributes.Overdue).toEqual([true]));
    await harness.finish(handle);
  });

  it('R-2 a consent override reaches the assessments already running, and a later refusal does not erase it', async () => {
    const { handle, referralId, ready } = await startReferral(HOUR_MS);
    await decideReferral(handle, ready.openPrompts.find((prompt) => prompt.kind === 'duty-decision')!.promptId, 'single-assessment');
    const assessment = env.client.workflow.getHandle(assessmentWorkflowId(referralId, 'C-1')) as Handle;
    await harness.eventually(async () => expect((await state(assessment)).stage).toBe('awaiting-allocation'));
    await handle.signal('event', { type: 'consent-recorded', eventId: nextId('EV'), occurredAt: iso(await harness.now()), actor: 'SW-1', given: false });
    const override = await harness.eventually(async () => {
      const current = (await handle.query(stateQuery)) as ReferralState;
      return current.openPrompts.find((prompt) => prompt.kind === 'consent-override')!;
    });
    expect(override.dueBy).toBeDefined();
    await decideReferral(handle, override.promptId, 'approve');
    await harness.eventually(async () => expect((await state(assessment)).consent).toBe('overridden'));
    await send(assessment, { type: 'consent-recorded', given: false }, await harness.now());
    expect((await state(assessment)).consent).toBe('overridden');
    await harness.finish(assessment);
    await harness.finish(handle);
  });
});
