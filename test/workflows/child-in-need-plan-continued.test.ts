import { WorkflowUpdateFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { ChildInNeedPlanInput } from '../../domain/child-in-need-plan';
import { childInNeedPlanWorkflowId } from '../../domain/ids';
import { defaultPolicy } from '../../domain/policy';
import { childInNeedPlanWorkflow, type ChildInNeedPlanState } from '../../workflows/child-in-need-plan';
import { decideUpdate, recordEventUpdate, stateQuery } from '../../workflows/messages';
import { AssessmentHarness, childInNeedPlan, DAY_MS, iso, testCalendar, useTimeSkippingHarness } from '../support/assessment-harness';

/**
 * Issue 13: a child in need plan lasts months or years, so its run hands over to a new one
 * (continue-as-new) before its history grows long. Here the bound is lowered to a few
 * dozen events so that a short test crosses it several times.
 */
let harness: AssessmentHarness;
useTimeSkippingHarness((ready) => ({ harness } = ready));

const HISTORY_BOUND = 40;

async function startPlan(referralId: string) {
  const now = await harness.now();
  const input: ChildInNeedPlanInput = {
    referralId,
    receivedAt: iso(now - 30 * DAY_MS),
    referrerType: 'health',
    childProtectionConcern: false,
    team: 'TEAM-1',
    managerId: 'MGR-1',
    localAuthority: 'LA-1',
    policy: defaultPolicy,
    calendar: testCalendar(),
    childRef: 'C-1',
    origin: { kind: 'assessment' },
    startedAt: iso(now),
    decidedBy: 'MGR-1',
    plan: childInNeedPlan(now, [20, 60]),
    continueAsNewAtHistoryEvents: HISTORY_BOUND,
  };
  return harness.env.client.workflow.start(childInNeedPlanWorkflow, {
    workflowId: childInNeedPlanWorkflowId(referralId, 'C-1', { kind: 'assessment' }),
    taskQueue: harness.taskQueue,
    args: [input],
  });
}

type PlanHandle = Awaited<ReturnType<typeof startPlan>>;
const planState = async (handle: PlanHandle) => (await handle.query(stateQuery)) as ChildInNeedPlanState;
const failureType = (error: unknown) => ((error as WorkflowUpdateFailedError).cause as { type?: string } | undefined)?.type;

async function record(handle: PlanHandle, eventId: string, event: Record<string, unknown>) {
  return handle.executeUpdate(recordEventUpdate, { args: [{ eventId, occurredAt: iso(await harness.now()), actor: 'SW-1', ...event } as never] });
}

/** A review asked for early and answered "continue", under an Idempotency-Key: the prompt's id and the request key. */
async function reviewAndContinue(handle: PlanHandle, eventId: string) {
  await record(handle, eventId, { type: 'cin-plan-review-requested' });
  const prompt = (await planState(handle)).openPrompts.find((candidate) => candidate.kind === 'cin-plan-review')!;
  const request = { idempotencyKey: `KEY-${eventId}`, requestHash: `HASH-${eventId}` };
  const decision = { promptId: prompt.promptId, decision: 'continue', rationale: 'going well', decidedBy: 'MGR-2', decidedAt: iso(await harness.now()) };
  await handle.executeUpdate(decideUpdate, { args: [decision as never, request] });
  return { promptId: prompt.promptId, decision, request };
}

describe('child in need plan continued as new (issue 13)', () => {
  it('R-44 a plan past its history bound continues as new with its prompts, record, deadlines, event ids and decision keys, and its next review still prompts', async () => {
    const handle = await startPlan('REF-7101');
    const firstRunId = (await handle.describe()).runId;
    const started = await planState(handle);
    const deadlinesAtStart = started.deadlines;

    // Events sent at once, while the run crosses its bound: every one is taken exactly once.
    const burst = Array.from({ length: 24 }, (_, index) => `EV-7101-SENT-${index + 1}`);
    const answers = await Promise.all(burst.map((eventId, index) => record(handle, eventId, { type: 'cin-plan-sent', agencyRef: index % 2 === 0 ? 'AG-1' : 'AG-2' })));
    expect(answers.every((answer) => answer.duplicate === false)).toBe(true);
    const first = await reviewAndContinue(handle, 'EV-7101-REVIEW-1');
    const second = await reviewAndContinue(handle, 'EV-7101-REVIEW-2');

    // The run hands over once idle (its deliveries done), so shortly after the last answer.
    const description = await harness.eventually(async () => {
      const current = await handle.describe();
      expect(current.runId).not.toBe(firstRunId);
      return current;
    });
    const continued = await planState(handle);
    // The record runs on across the runs: every event once, both reviews and their decisions.
    const applied = continued.record.filter((entry) => entry.source === 'event' && entry.status === 'applied').map((entry) => entry.ref);
    expect(applied.sort()).toEqual([...burst, 'EV-7101-REVIEW-1', 'EV-7101-REVIEW-2'].sort());
    expect(continued.record.filter((entry) => entry.source === 'decision').map((entry) => entry.ref)).toEqual([first.promptId, second.promptId]);
    expect(continued.agenciesNotSent).toEqual([]);
    // Prompt ids go on from where they were, never reused.
    expect(new Set(continued.prompts.map((prompt) => prompt.promptId)).size).toBe(continued.prompts.length);
    expect(continued.prompts.filter((prompt) => prompt.kind === 'cin-plan-review')).toHaveLength(2);
    // Every deadline pending at the start is pending still, at the same time.
    expect(continued.deadlines).toEqual(deadlinesAtStart);
    expect(continued.reviews.filter((review) => review.status === 'held')).toHaveLength(2);

    // What a sender or a manager retries after the hand-over changes nothing.
    expect(failureType(await record(handle, burst[0]!, { type: 'cin-plan-sent', agencyRef: 'AG-1' }).catch((error: unknown) => error))).toBe('duplicate-event');
    const repeated = await handle.executeUpdate(decideUpdate, { args: [first.decision as never, first.request] }).catch((error: unknown) => error);
    expect(failureType(repeated)).toBe('decision-repeated');
    const reused = await handle.executeUpdate(decideUpdate, { args: [first.decision as never, { ...first.request, requestHash: 'OTHER' }] }).catch((error: unknown) => error);
    expect(failureType(reused)).toBe('idempotency-key-reused');

    // The plan's start was told once, not again by a continued run.
    await harness.eventually(() => {
      expect(harness.notifications(handle.workflowId).filter((notification) => notification.reason === 'cin-plan-started')).toHaveLength(1);
      expect(harness.caseRecords(handle.workflowId).filter((entry) => entry.kind === 'cin-plan-started')).toHaveLength(1);
      expect(harness.caseRecords(handle.workflowId).filter((entry) => entry.kind === 'cin-plan-review')).toHaveLength(2);
    });
    // Its search attributes carried over (the listing that shows it once is tested on the dev server: test/api).
    expect(description.searchAttributes).toMatchObject({ Team: ['TEAM-1'], AssessmentStage: ['cin-plan-open'] });

    // The first review date comes, in a continued run: the plan's manager is prompted, and the action point falls due.
    await harness.env.sleep(21 * DAY_MS);
    const due = await harness.eventually(async () => {
      const current = await planState(handle);
      expect(current.openPrompts.map((prompt) => prompt.kind)).toEqual(['cin-plan-review']);
      return current;
    });
    expect(due.actionsDue).toEqual(['ACT-1']);
    await harness.eventually(() => expect(harness.notifications(handle.workflowId)).toContainEqual(expect.objectContaining({ reason: 'cin-plan-review-due', target: 'MGR-2' })));
    await handle.executeUpdate(decideUpdate, {
      args: [{ promptId: due.openPrompts[0]!.promptId, decision: 'close', reasonForClosure: 'RC1', rationale: 'met', decidedBy: 'MGR-2', decidedAt: iso(await harness.now()) } as never],
    });
    expect(await handle.result()).toMatchObject({ status: 'closed', reasonForClosure: 'RC1' });
  });

  it('R-44 a plan under its history bound does not continue, and records no continue-as-new marker', async () => {
    const handle = await startPlan('REF-7102');
    const firstRunId = (await handle.describe()).runId;
    await record(handle, 'EV-7102-1', { type: 'cin-plan-sent', agencyRef: 'AG-1' });
    expect((await handle.describe()).runId).toBe(firstRunId);
    const markers = (await handle.fetchHistory()).events?.filter((event) => event.markerRecordedEventAttributes) ?? [];
    expect(markers).toHaveLength(1); // quiet-engine's, no other
    await harness.finish(handle);
  });
});
