import { WorkflowUpdateFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { defaultPolicy } from '../../domain/policy';
import {
  allocate,
  AssessmentHarness,
  DAY_MS,
  decide,
  iso,
  openPrompt,
  send,
  state,
  useTimeSkippingHarness,
} from '../support/assessment-harness';

let harness: AssessmentHarness;
useTimeSkippingHarness((ready) => ({ harness } = ready));

const failure = (error: unknown) => (error as WorkflowUpdateFailedError).cause as { type?: string; message?: string };

/*
 * The assessment plan and safety planning: in a file of their own, on a
 * time-skipping server of their own, since their tests skip days.
 */

describe('safety planning (R-33)', () => {
  it('R-33 immediate safety asks for a safety planning meeting (listed as awaiting with no time in the policy); the plan records who does what and, at the end of its period, asks to renew or end it', async () => {
    const handle = await harness.start(await harness.input('REF-8301'));
    await allocate(harness, handle);
    await send(handle, { type: 'immediate-safety-concern' }, await harness.now());
    const asked = await state(handle);
    const prompt = openPrompt(asked, 'safety-planning');
    expect(prompt).toMatchObject({ rule: 'R-33', allowedDecisions: ['safety-plan-agreed', 'not-needed'] });
    expect(asked.followOn.safetyPlanning).toMatchObject({ status: 'meeting-awaited', plans: [] });
    expect(asked.followOn.awaiting.filter((step) => step.rule === 'R-33')).toEqual([expect.objectContaining({ step: 'safety-planning-meeting', rule: 'R-33' })]);
    expect(asked.strategyDiscussions).toEqual([]);
    await harness.eventually(() => expect(harness.notifications(handle.workflowId)).toContainEqual(expect.objectContaining({ recipient: 'social-worker', reason: 'safety-planning-meeting-needed' })));
    // A second concern while the meeting is awaited asks nothing new.
    await send(handle, { type: 'immediate-safety-concern' }, await harness.now());
    expect((await state(handle)).openPrompts.filter((p) => p.kind === 'safety-planning')).toHaveLength(1);

    const now = await harness.now();
    const commitments = [{ who: 'maternal grandmother', does: 'stays overnight every night' }];
    const past = await decide(handle, prompt.promptId, 'safety-plan-agreed', now, { commitments, agreedUntil: iso(now - DAY_MS) }).catch((e: unknown) => e);
    expect(failure(past).message).toMatch(/R-33.*agreedUntil/);
    await decide(handle, prompt.promptId, 'safety-plan-agreed', now, { commitments, agreedUntil: iso(now + 7 * DAY_MS) });
    const agreed = await state(handle);
    expect(agreed.followOn.safetyPlanning).toMatchObject({ status: 'in-force', plans: [{ version: 1, agreedUntil: iso(now + 7 * DAY_MS), commitments }] });
    expect(agreed.followOn.awaiting.filter((step) => step.rule === 'R-33')).toEqual([]);
    expect(agreed.deadlines.map((deadline) => deadline.name)).toContain('safety-plan-end');

    await harness.env.sleep(7 * DAY_MS + 60_000);
    const review = await harness.eventually(async () => openPrompt(await state(handle), 'safety-plan-review'));
    expect(review).toMatchObject({ rule: 'R-33', allowedDecisions: ['renew', 'end'] });
    const later = await harness.now();
    await decide(handle, review.promptId, 'renew', later, { agreedUntil: iso(later + 14 * DAY_MS) });
    const renewed = await state(handle);
    expect(renewed.followOn.safetyPlanning.plans).toHaveLength(2);
    expect(renewed.followOn.safetyPlanning.plans[1]).toMatchObject({ version: 2, commitments, agreedUntil: iso(later + 14 * DAY_MS) });
    await harness.finish(handle);
  }, 120_000);

  it('R-33 with a time in the policy the meeting is due then; significant harm still starts a strategy discussion (R-13)', async () => {
    const handle = await harness.start(await harness.input('REF-8302', { policy: { ...defaultPolicy, safetyPlanningMeetingWorkingDays: 2 } }));
    await allocate(harness, handle);
    await send(handle, { type: 'immediate-safety-concern', significantHarmSuspected: true }, await harness.now());
    const current = await harness.eventually(async () => {
      const now = await state(handle);
      expect(now.strategyDiscussions).toEqual([expect.objectContaining({ cause: 'immediate-safety-concern' })]);
      return now;
    });
    expect(openPrompt(current, 'safety-planning').dueBy).toBe(current.followOn.safetyPlanning.meetingDueAt);
    expect(current.followOn.safetyPlanning.meetingDueAt).toBeDefined();
    expect(current.followOn.awaiting.filter((step) => step.rule === 'R-33')).toEqual([]);
    await harness.finish(handle);
  });
});

describe('the assessment plan (R-31, R-32)', () => {
  const planEvent = (nowMs: number, actions: Array<[string, number]>) => ({
    type: 'assessment-plan-recorded' as const,
    actions: actions.map(([actionRef, days]) => ({ actionRef, stage: 'information gathering', action: 'contact the school and the GP', owner: 'SW-1', dueBy: iso(nowMs + days * DAY_MS) })),
    contacts: [
      { who: 'absent-parent', ref: 'PAR-2', how: 'phone', when: iso(nowMs + 2 * DAY_MS) },
      { who: 'professional', how: 'meeting', when: iso(nowMs + 3 * DAY_MS) },
    ],
  });

  it('R-31 the plan gives each action an owner and a date; one passed undone prompts the social worker and supervisor to act and set a new date; with no time in the policy an assessment without a plan lists it as awaiting', async () => {
    const handle = await harness.start(await harness.input('REF-8401'));
    await allocate(harness, handle);
    const allocated = await state(handle);
    expect(allocated.followOn.awaiting).toEqual([expect.objectContaining({ step: 'assessment-plan', rule: 'R-31' })]);
    const now = await harness.now();
    await send(handle, planEvent(now, [['ACT-1', 2], ['ACT-2', 4]]), now);
    const planned = await state(handle);
    expect(planned.followOn.awaiting).toEqual([]);
    expect(planned.followOn.assessmentPlan.versions).toHaveLength(1);
    expect(planned.deadlines.map((deadline) => deadline.name)).toEqual(expect.arrayContaining(['assessment-plan-action:ACT-1', 'assessment-plan-action:ACT-2']));
    await send(handle, { type: 'assessment-plan-action-done', actionRef: 'ACT-2' }, now);

    await harness.env.sleep(2 * DAY_MS + 60_000);
    const overdue = await harness.eventually(async () => openPrompt(await state(handle), 'plan-action-overdue'));
    expect(overdue).toMatchObject({ rule: 'R-31', about: 'ACT-1', allowedDecisions: ['done', 'new-date'] });
    await harness.eventually(() => {
      const sent = harness.notifications(handle.workflowId).filter((n) => n.reason === 'plan-action-overdue');
      expect(sent.map((n) => n.recipient).sort()).toEqual(['manager', 'social-worker']);
    });
    const later = await harness.now();
    await decide(handle, overdue.promptId, 'new-date', later, { dueBy: iso(later + 5 * DAY_MS) });
    const moved = await state(handle);
    expect(moved.followOn.assessmentPlan.actions).toEqual([
      { actionRef: 'ACT-1', dueBy: iso(later + 5 * DAY_MS), done: false, overdue: false },
      { actionRef: 'ACT-2', dueBy: iso(now + 4 * DAY_MS), done: true, overdue: false },
    ]);
    expect(moved.deadlines.map((deadline) => deadline.name)).toContain('assessment-plan-action:ACT-1');
    expect(moved.deadlines.map((deadline) => deadline.name)).not.toContain('assessment-plan-action:ACT-2');
    await harness.finish(handle);
  }, 120_000);

  it('R-31 with a time in the policy a missing plan escalates to the manager', async () => {
    const handle = await harness.start(await harness.input('REF-8402', { policy: { ...defaultPolicy, assessmentPlanWorkingDays: 2 } }));
    const allocated = await allocate(harness, handle);
    expect(allocated.followOn.assessmentPlan.dueAt).toBeDefined();
    expect(allocated.followOn.awaiting).toEqual([]);
    await harness.env.sleep(Date.parse(allocated.followOn.assessmentPlan.dueAt!) - (await harness.now()) + 60_000);
    await harness.eventually(async () => expect(await state(handle)).toMatchObject({ followOn: { assessmentPlan: { overdue: true } }, openPrompts: expect.arrayContaining([expect.objectContaining({ kind: 'escalation', rule: 'R-31', about: 'assessment-plan' })]) }));
    await send(handle, planEvent(await harness.now(), [['ACT-1', 5]]), await harness.now());
    expect((await state(handle)).openPrompts.filter((p) => p.kind === 'escalation')).toEqual([]);
    await harness.finish(handle);
  });

  it('R-32 a change of circumstances prompts a plan review: a new version (old versions kept) or "no change" with the reason', async () => {
    const handle = await harness.start(await harness.input('REF-8403'));
    await allocate(harness, handle);
    const now = await harness.now();
    await send(handle, planEvent(now, [['ACT-1', 10]]), now);
    await send(handle, { type: 'immediate-safety-concern' }, now);
    const asked = await state(handle);
    const review = openPrompt(asked, 'assessment-plan-review');
    expect(review).toMatchObject({ rule: 'R-32', allowedDecisions: ['no-change'] });
    expect(asked.followOn.awaiting).toEqual(expect.arrayContaining([expect.objectContaining({ step: 'assessment-plan-review', rule: 'R-32' })]));
    await send(handle, planEvent(now, [['ACT-1', 10], ['ACT-3', 12]]), now);
    const versioned = await state(handle);
    expect(versioned.followOn.assessmentPlan.versions.map((version) => version.version)).toEqual([1, 2]);
    expect(versioned.followOn.assessmentPlan.reviews).toEqual([expect.objectContaining({ trigger: 'immediate-safety-concern', outcome: 'new-version' })]);
    expect(versioned.openPrompts.map((p) => p.kind)).not.toContain('assessment-plan-review');

    await send(handle, { type: 'emergency-action-taken', kind: 'police-protection', decidedBy: 'MGR-1' }, await harness.now());
    const again = openPrompt(await state(handle), 'assessment-plan-review');
    await decide(handle, again.promptId, 'no-change', await harness.now());
    expect((await state(handle)).followOn.assessmentPlan.reviews[1]).toMatchObject({ trigger: 'emergency-action', outcome: 'no-change' });
    await harness.finish(handle);
  });
});
