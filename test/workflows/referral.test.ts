import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { assessmentWorkflowId, referralWorkflowId } from '../../domain/ids';
import type { ReferralRequest } from '../../domain/referral';
import { assessmentWorkflow, type AssessmentState } from '../../workflows/assessment';
import { decideUpdate, eventSignal, stateQuery } from '../../workflows/messages';
import { referralWorkflow, type ReferralState } from '../../workflows/referral';
import { AssessmentHarness, bornYearsAgo, DAY_MS, HOUR_MS, iso, useTimeSkippingHarness } from '../support/assessment-harness';
import { addWorkingDaysIndependent } from '../support/independent-calendar';
import { buildWorkingCalendar } from '../../activities/calendar';
import { authorityPolicySchema } from '../../domain/policy';
import { caseCalendarYears } from '../../domain/working-days';

let env: TestWorkflowEnvironment;
let harness: AssessmentHarness;
useTimeSkippingHarness((ready) => ({ env, harness } = ready));

type ReferralHandle = WorkflowHandle<typeof referralWorkflow>;
let counter = 0;

async function startReferral(overrides: Partial<ReferralRequest> = {}, receivedAgoMs = 0): Promise<ReferralHandle> {
  counter += 1;
  const referralId = overrides.referralId ?? `REF-${3000 + counter}-${Date.now().toString(36)}`;
  const now = await harness.now();
  return env.client.workflow.start(referralWorkflow, {
    workflowId: referralWorkflowId(referralId),
    taskQueue: harness.taskQueue,
    args: [
      {
        referralId,
        receivedAt: iso(now - receivedAgoMs),
        referrerType: 'education',
        childProtectionConcern: false,
        team: 'TEAM-1',
        managerId: 'MGR-1',
        children: [{ childRef: 'C-1', dateOfBirth: bornYearsAgo(11) }],
        ...overrides,
      },
    ],
  });
}

const state = async (handle: ReferralHandle) => (await handle.query(stateQuery)) as ReferralState;

/** The referral has loaded its calendar and raised its duty-decision prompt. */
const ready = (handle: ReferralHandle) =>
  harness.eventually(async () => {
    const current = await state(handle);
    if (!current.openPrompts.some((prompt) => prompt.kind === 'duty-decision')) throw new Error('no duty-decision prompt yet');
    return current;
  });

const promptOf = (current: ReferralState, kind: string) => {
  const prompt = current.openPrompts.find((candidate) => candidate.kind === kind);
  if (!prompt) throw new Error(`no open ${kind} prompt`);
  return prompt;
};

async function decide(handle: ReferralHandle, promptId: string, decision: string) {
  return handle.executeUpdate(decideUpdate, {
    args: [{ promptId, decision, rationale: 'reasons recorded by the duty manager', decidedBy: 'MGR-1', decidedAt: iso(await harness.now()) }],
  });
}

describe('referral workflow', () => {
  it('R-1 asks for the duty decision within 1 working day of the referral and escalates, without dropping it, when that passes', async () => {
    const handle = await startReferral();
    const before = await ready(handle);
    const receivedAt = Date.parse(before.receivedAt);
    const dueBy = Date.parse(promptOf(before, 'duty-decision').dueBy!);
    // One working day, counted independently of the engine: the next working day at the same
    // local time (from 00:00 of the next working day when received on a weekend or bank
    // holiday, and an hour more or less across a clock change), whatever day this runs on.
    expect(iso(dueBy)).toBe(addWorkingDaysIndependent(receivedAt, 1));
    expect(dueBy - receivedAt).toBeGreaterThanOrEqual(DAY_MS);
    expect(before.dutyDecisionDueAt).toBe(iso(dueBy));

    await env.sleep(dueBy - (await harness.now()) + HOUR_MS);
    const after = await harness.eventually(async () => {
      const current = await state(handle);
      if (!current.dutyDecisionOverdue) throw new Error('not overdue yet');
      return current;
    });
    expect(after.openPrompts.map((prompt) => prompt.kind).sort()).toEqual(['duty-decision', 'escalation']);
    expect(after.stage).toBe('awaiting-duty-decision');
    await harness.eventually(() => expect(harness.notifications(handle.workflowId)).toContainEqual(expect.objectContaining({ recipient: 'manager', reason: 'duty-decision-overdue', rule: 'R-1' })));
    await harness.finish(handle);
  });

  it('R-1 wants the decision sooner with a child protection concern, and a back-dated referral past its deadline escalates at once', async () => {
    const concern = await startReferral({ childProtectionConcern: true });
    const current = await ready(concern);
    expect(Date.parse(promptOf(current, 'duty-decision').dueBy!) - Date.parse(current.receivedAt)).toBe(4 * HOUR_MS);
    // The duty manager hears of it at once, not when the deadline passes.
    await harness.eventually(() =>
      expect(harness.notifications(concern.workflowId)).toContainEqual(expect.objectContaining({ recipient: 'manager', reason: 'child-protection-referral-received', rule: 'R-1' })),
    );
    await harness.finish(concern);

    const backDated = await startReferral({}, 10 * DAY_MS);
    const escalated = await harness.eventually(async () => {
      const now = await state(backDated);
      if (!now.openPrompts.some((prompt) => prompt.kind === 'escalation')) throw new Error('no escalation yet');
      return now;
    });
    expect(escalated.dutyDecisionOverdue).toBe(true);
    await harness.finish(backDated);
  });

  it('R-1 a closing duty decision (early help) closes the referral and tells the referrer', async () => {
    const handle = await startReferral();
    const current = await ready(handle);
    await decide(handle, promptOf(current, 'duty-decision').promptId, 'early-help');
    const result = await handle.result();
    expect(result).toMatchObject({ stage: 'closed', dutyDecision: { decision: 'early-help', decidedBy: 'MGR-1' } });
    expect(harness.notifications(handle.workflowId)).toContainEqual(expect.objectContaining({ recipient: 'referrer', reason: 'duty-decision-early-help' }));
  });

  it('R-2 consent refused asks a manager whether to share without it; the authorisation is recorded with its reasons', async () => {
    const handle = await startReferral();
    await ready(handle);
    const occurredAt = iso(await harness.now());
    await handle.signal(eventSignal, { type: 'consent-recorded', eventId: 'EV-CONSENT-1', occurredAt, actor: 'SW-1', given: false });
    const refused = await harness.eventually(async () => {
      const now = await state(handle);
      promptOf(now, 'consent-override');
      return now;
    });
    expect(refused.consent).toBe('refused');
    await decide(handle, promptOf(refused, 'consent-override').promptId, 'approve');
    const after = await state(handle);
    expect(after.consent).toBe('overridden');
    expect(after.record).toContainEqual(expect.objectContaining({ source: 'decision', type: 'approve', rule: 'R-2', actor: 'MGR-1' }));
    await harness.finish(handle);
  });

  it('R-3 a decision for assessment starts one assessment per child, each a child workflow with its own id', async () => {
    const handle = await startReferral({ children: [{ childRef: 'C-1', dateOfBirth: bornYearsAgo(11) }, { childRef: 'C-2', dateOfBirth: bornYearsAgo(7) }] });
    const current = await ready(handle);
    await decide(handle, promptOf(current, 'duty-decision').promptId, 'single-assessment');
    const running = await harness.eventually(async () => {
      const now = await state(handle);
      if (now.assessments.filter((entry) => entry.status === 'running').length !== 2) throw new Error('not both running');
      return now;
    });
    expect(running.stage).toBe('assessments-running');
    const referralId = current.referralId;
    expect(running.assessments.map((entry) => entry.workflowId)).toEqual([assessmentWorkflowId(referralId, 'C-1'), assessmentWorkflowId(referralId, 'C-2')]);
    for (const childRef of ['C-1', 'C-2']) {
      const child = env.client.workflow.getHandle(assessmentWorkflowId(referralId, childRef));
      const childState = await harness.eventually(async () => (await child.query(stateQuery)) as AssessmentState);
      expect(childState).toMatchObject({ childRef, track: 'S17', stage: 'awaiting-allocation' });
      expect((await child.describe()).raw.workflowExecutionInfo?.parentExecution?.workflowId).toBe(handle.workflowId);
      await harness.finish(child);
    }
    await harness.finish(handle);
  });

  it('R-3 a strategy discussion now starts the assessments on the S47 track', async () => {
    const handle = await startReferral({ childProtectionConcern: true });
    const current = await ready(handle);
    await decide(handle, promptOf(current, 'duty-decision').promptId, 'strategy-discussion');
    const child = env.client.workflow.getHandle(assessmentWorkflowId(current.referralId, 'C-1'));
    const childState = await harness.eventually(async () => {
      const now = (await child.query(stateQuery)) as AssessmentState;
      if (now.strategyDiscussions.length === 0) throw new Error('no strategy discussion yet');
      return now;
    });
    expect(childState.track).toBe('S47');
    const discussion = env.client.workflow.getHandle(childState.strategyDiscussions[0]!.workflowId);
    await harness.eventually(async () => expect((await discussion.describe()).status.name).toBe('RUNNING'));
    await harness.finish(discussion);
    await harness.finish(child);
    await harness.finish(handle);
  });

  it('R-3 two referrals whose refs ran together under the old joiner get assessments and strategy discussions of their own (collision-free ids)', async () => {
    // Under the hyphenated ids both were assessment-REF-…-1-2-C-3: the second start failed.
    const base = `REF-${Date.now().toString(36).toUpperCase()}`;
    const first = await startReferral({ referralId: `${base}-1`, childProtectionConcern: true, children: [{ childRef: '2-C-3', dateOfBirth: bornYearsAgo(9) }] });
    const second = await startReferral({ referralId: `${base}-1-2`, childProtectionConcern: true, children: [{ childRef: 'C-3', dateOfBirth: bornYearsAgo(9) }] });
    for (const handle of [first, second]) await decide(handle, promptOf(await ready(handle), 'duty-decision').promptId, 'strategy-discussion');
    const assessmentIds = [`assessment-${base}-1.2-C-3`, `assessment-${base}-1-2.C-3`];
    const discussionIds = [`strategy-${base}-1.2-C-3.1`, `strategy-${base}-1-2.C-3.1`];
    for (const [index, handle] of [first, second].entries()) {
      const running = await harness.eventually(async () => {
        const now = await state(handle);
        if (now.assessments[0]?.status !== 'running') throw new Error('assessment not running');
        return now;
      });
      expect(running.assessments.map((entry) => entry.workflowId)).toEqual([assessmentIds[index]]);
      const child = env.client.workflow.getHandle(assessmentIds[index]!);
      const childState = await harness.eventually(async () => {
        const now = (await child.query(stateQuery)) as AssessmentState;
        if (now.strategyDiscussions[0]?.status !== 'running') throw new Error('no strategy discussion running yet');
        return now;
      });
      expect(childState.strategyDiscussions[0]).toMatchObject({ workflowId: discussionIds[index], section47WorkflowId: discussionIds[index]!.replace(/^strategy-/, 's47-') });
      expect((await child.describe()).raw.workflowExecutionInfo?.parentExecution?.workflowId).toBe(handle.workflowId);
    }
    for (const id of [...discussionIds, ...assessmentIds]) await harness.finish(env.client.workflow.getHandle(id));
    for (const handle of [first, second]) await harness.finish(handle);
  });

  it('R-13 an assessment started with the hyphenated ids of a case from before the change starts its strategy discussion with them too', async () => {
    const referralId = `REF-${Date.now().toString(36).toUpperCase()}-7`;
    const input = await harness.input(referralId, { idScheme: 'hyphenated', track: 'S47', strategyDiscussionNow: true, childProtectionConcern: true });
    const handle = await env.client.workflow.start(assessmentWorkflow, {
      workflowId: assessmentWorkflowId(referralId, 'C-1', 'hyphenated'),
      taskQueue: harness.taskQueue,
      args: [input],
    });
    const current = await harness.eventually(async () => {
      const now = (await handle.query(stateQuery)) as AssessmentState;
      if (now.strategyDiscussions[0]?.status !== 'running') throw new Error('no strategy discussion running yet');
      return now;
    });
    expect(current.strategyDiscussions[0]).toMatchObject({ workflowId: `strategy-${referralId}-C-1-1`, section47WorkflowId: `s47-${referralId}-C-1-1` });
    await harness.finish(env.client.workflow.getHandle(`strategy-${referralId}-C-1-1`));
    await harness.finish(handle);
  });

  it('R-28 a homeless 16 year old must be assessed: a duty decision that closes the referral is refused', async () => {
    const now = await harness.now();
    const sixteen = new Date(now - 16.5 * 365 * DAY_MS).toISOString().slice(0, 10);
    const handle = await startReferral({ children: [{ childRef: 'C-16', dateOfBirth: sixteen, homelessOrAtRisk: true }] });
    const current = await ready(handle);
    expect(current.mustBeAssessed).toEqual(['C-16']);
    const refused = await decide(handle, promptOf(current, 'duty-decision').promptId, 'no-further-action').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((refused as WorkflowUpdateFailedError).cause).toMatchObject({ type: 'invalid-decision' });
    expect((refused as WorkflowUpdateFailedError).cause?.message).toContain('R-28');
    await decide(handle, promptOf(current, 'duty-decision').promptId, 'single-assessment');
    const child = env.client.workflow.getHandle(assessmentWorkflowId(current.referralId, 'C-16'));
    await harness.eventually(async () => expect(((await child.query(stateQuery)) as AssessmentState).homeless16Or17).toBe(true));
    await harness.finish(child);
    await harness.finish(handle);
  });

  it('keeps an out-of-stage event in the record as rejected each time it comes (its eventId stays free), and a repeated accepted eventId changes nothing', async () => {
    const handle = await startReferral();
    await ready(handle);
    const event = { type: 'home-visited' as const, eventId: 'EV-1', occurredAt: iso(await harness.now()), actor: 'SW-1', bedroomSeen: true };
    await handle.signal(eventSignal, event);
    await handle.signal(eventSignal, event);
    const consent = { type: 'consent-recorded' as const, eventId: 'EV-2', occurredAt: iso(await harness.now()), actor: 'SW-1', given: true };
    await handle.signal(eventSignal, consent);
    await handle.signal(eventSignal, consent);
    const current = await state(handle);
    const events = current.record.filter((entry) => entry.source === 'event');
    expect(events.map((entry) => [entry.type, entry.status])).toEqual([
      ['home-visited', 'rejected'],
      ['home-visited', 'rejected'],
      ['consent-recorded', 'applied'],
    ]);
    expect(events[0]!.reason).toContain('does not fit');
    await harness.finish(handle);
  });

  it('the decide update refuses an answer not allowed, a missing rationale, and a closed prompt, saying why', async () => {
    const handle = await startReferral({ children: [{ childRef: 'C-1' }] });
    const current = await ready(handle);
    const prompt = promptOf(current, 'duty-decision');
    const answer = { promptId: prompt.promptId, rationale: 'reasons', decidedBy: 'MGR-1', decidedAt: iso(await harness.now()) };
    const refusal = async (input: Record<string, unknown>) =>
      ((await handle.executeUpdate(decideUpdate, { args: [input as never] }).catch((error: unknown) => error)) as WorkflowUpdateFailedError).cause;

    expect(await refusal({ ...answer, decision: 'approve' })).toMatchObject({ type: 'decision-not-allowed' });
    expect(await refusal({ ...answer, rationale: ' ', decision: 'single-assessment' })).toMatchObject({ type: 'invalid-decision' });
    expect(await refusal({ ...answer, promptId: `${handle.workflowId}~duty-decision-9`, decision: 'single-assessment' })).toMatchObject({ type: 'unknown-prompt' });
    await handle.executeUpdate(decideUpdate, { args: [{ ...answer, decision: 'single-assessment' }] });
    expect(await refusal({ ...answer, decision: 'single-assessment' })).toMatchObject({ type: 'prompt-closed' });

    const child = env.client.workflow.getHandle(assessmentWorkflowId(current.referralId, 'C-1'));
    await harness.eventually(async () => expect((await child.describe()).status.name).toBe('RUNNING'));
    await harness.finish(child);
    await harness.finish(handle);
  });

  it('a referral started with its working calendar (as the API starts it) opens its duty prompt without the calendar activity, at the same due time', async () => {
    const now = await harness.now();
    const policy = authorityPolicySchema.parse({});
    const calendar = buildWorkingCalendar({ region: policy.bankHolidayRegion, timeZone: policy.timeZone, ...caseCalendarYears(now, now) });
    // Received at the same instant, so that their due times can be compared.
    const receivedAt = iso(now);
    const withCalendar = await startReferral({ receivedAt, workingCalendar: calendar } as Partial<ReferralRequest>);
    const loaded = await startReferral({ receivedAt });
    const [given, fetched] = [await ready(withCalendar), await ready(loaded)];
    expect(given.dutyDecisionDueAt).toBe(fetched.dutyDecisionDueAt);
    expect(given.calendarYears).toEqual(fetched.calendarYears);
    expect(await calendarActivities(withCalendar)).toBe(0);
    expect(await calendarActivities(loaded)).toBe(1);
    await harness.finish(withCalendar);
    await harness.finish(loaded);
  });

  it('a working calendar passed in that does not serve the case (too few years, another region) is not used: the calendar is loaded by activity', async () => {
    const now = await harness.now();
    const policy = authorityPolicySchema.parse({});
    const years = caseCalendarYears(now, now);
    const short = buildWorkingCalendar({ region: policy.bankHolidayRegion, timeZone: policy.timeZone, fromYear: years.fromYear, toYear: years.toYear - 1 });
    const scottish = buildWorkingCalendar({ region: 'scotland', timeZone: policy.timeZone, ...years });
    for (const workingCalendar of [short, scottish]) {
      const handle = await startReferral({ workingCalendar } as Partial<ReferralRequest>);
      const current = await ready(handle);
      expect(current.calendarYears).toEqual({ from: years.fromYear, to: years.toYear });
      expect(await calendarActivities(handle)).toBe(1);
      await harness.finish(handle);
    }
  });
});

/** How many times the referral ran the calendar activity. */
async function calendarActivities(handle: ReferralHandle): Promise<number> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'loadWorkingCalendar').length;
}
