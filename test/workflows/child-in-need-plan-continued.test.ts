import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { temporal } from '@temporalio/proto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dataConverter } from '../../common/temporal';
import type { ChildInNeedPlanInput } from '../../domain/child-in-need-plan';
import { childInNeedPlanWorkflowId } from '../../domain/ids';
import { childInNeedPlanWorkflow, type ChildInNeedPlanState } from '../../workflows/child-in-need-plan';
import { decideUpdate, recordEventUpdate, stateQuery } from '../../workflows/messages';
import { childInNeedPlan, childInNeedPlanInput } from '../support/assessment-harness';
import { testCodec } from '../support/payload-keys';
import { devServerHarness, type DevServerHarness } from '../support/temporal';

/**
 * Issue 13: a child in need plan lasts months or years, so its run hands over to a new one
 * (continue-as-new) before its history grows long. Here the bound is lowered to a few
 * dozen events so that a short test crosses it, several times.
 *
 * On the dev server (a real Temporal server): messages that reach a run as it continues
 * are passed to the next run by the server, as in production. The time-skipping test
 * server does not do that reliably (an update racing the hand-over can hang there).
 */
let harness: DevServerHarness;
beforeAll(async () => {
  harness = await devServerHarness();
});
afterAll(async () => harness?.stop());

const HISTORY_BOUND = 40;
const iso = (ms: number) => new Date(ms).toISOString();
let plans = 0;

async function startPlan(options: { firstReviewInMs?: number; carryOverLimits?: ChildInNeedPlanInput['carryOverLimits'] } = {}) {
  const now = Date.now();
  const referralId = `REF-CAN-${now.toString(36).toUpperCase()}-${(plans += 1)}`;
  const plan = childInNeedPlan(now, [20, 60]);
  if (options.firstReviewInMs !== undefined) plan.reviewDates[0] = iso(now + options.firstReviewInMs);
  const input = childInNeedPlanInput(referralId, now, {
    plan,
    continueAsNewAtHistoryEvents: HISTORY_BOUND,
    ...(options.carryOverLimits ? { carryOverLimits: options.carryOverLimits } : {}),
  });
  return harness.client.workflow.start(childInNeedPlanWorkflow, {
    workflowId: childInNeedPlanWorkflowId(referralId, 'C-1', { kind: 'assessment' }),
    taskQueue: harness.taskQueue,
    args: [input],
  });
}

type PlanHandle = Awaited<ReturnType<typeof startPlan>>;
const planState = async (handle: PlanHandle) => (await handle.query(stateQuery)) as ChildInNeedPlanState;
/** An answer or an error, readable in a failed expectation's message. */
const describeAnswer = (answer: unknown) => (answer instanceof Error ? `${answer.name}: ${answer.message}${answer.cause ? ` (cause: ${String(answer.cause)})` : ''}` : JSON.stringify(answer));
const failureType = (error: unknown) => (error instanceof WorkflowUpdateFailedError ? (error.cause as { type?: string } | undefined)?.type : undefined);

async function eventually<T>(check: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** What the outbound activities wrote for one workflow (one JSON object a line). */
function outbox(channel: 'notification' | 'case-record', workflowId: string): Array<Record<string, unknown>> {
  const file = join(harness.outboxDir, `${channel}.jsonl`);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.workflowId === workflowId);
}

async function record(handle: PlanHandle, eventId: string, event: Record<string, unknown>) {
  return handle.executeUpdate(recordEventUpdate, { args: [{ eventId, occurredAt: iso(Date.now()), actor: 'SW-1', ...event } as never] });
}

/**
 * Should the server deliver an update one run took to the next run again, that run refuses
 * it as a repeat, which the API answers as accepted (202 duplicate, or 200 with the recorded
 * decision): taken, said on the test's output. Any other failure is thrown.
 */
const takenAsRepeat = (type: string) => (error: unknown) => {
  if (failureType(error) !== type) throw error;
  console.warn(`[continued plan] an update taken by one run came back to the next as a repeat (${type})`);
};

/** A review asked for early and answered "continue", under an Idempotency-Key. */
async function reviewAndContinue(handle: PlanHandle, eventId: string) {
  await record(handle, eventId, { type: 'cin-plan-review-requested' }).catch(takenAsRepeat('duplicate-event'));
  const prompt = await eventually(async () => {
    const open = (await planState(handle)).openPrompts.find((candidate) => candidate.kind === 'cin-plan-review');
    if (!open) throw new Error('no review prompt yet');
    return open;
  });
  const request = { idempotencyKey: `KEY-${eventId}`, requestHash: `HASH-${eventId}` };
  const decision = { promptId: prompt.promptId, decision: 'continue', rationale: 'going well', decidedBy: 'MGR-2', decidedAt: iso(Date.now()) };
  await handle.executeUpdate(decideUpdate, { args: [decision as never, request] }).catch(takenAsRepeat('decision-repeated'));
  return { promptId: prompt.promptId, decision, request };
}

/** Every run of a workflow, oldest first, read back through its continuations. */
async function runsOf(workflowId: string): Promise<History[]> {
  const histories: History[] = [];
  let runId: string | undefined;
  do {
    const history = await harness.client.workflow.getHandle(workflowId, runId).fetchHistory();
    histories.unshift(history);
    runId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  } while (runId);
  return histories;
}

/** With RECORD_HISTORIES=1 (`npm run record-histories`), the runs become replay fixtures (test/replay/replay.test.ts). */
function keepAsFixtures(workflowId: string, runs: History[]): void {
  const dir = resolve(__dirname, '..', 'fixtures', 'histories');
  const name = 'child-in-need-plan-continued';
  for (const file of readdirSync(dir).filter((candidate) => candidate.startsWith(`${name}-run-`))) rmSync(join(dir, file));
  for (const [index, history] of runs.entries()) {
    const json = temporal.api.history.v1.History.toObject(temporal.api.history.v1.History.fromObject(history), { longs: String, enums: String, bytes: String });
    writeFileSync(join(dir, `${name}-run-${index + 1}.child-in-need-plan.json`), `${JSON.stringify({ workflowId, history: json }, null, 1)}\n`);
  }
}

describe('child in need plan continued as new (issue 13)', () => {
  it('R-44 a plan past its history bound continues as new with its prompts, record, deadlines, event ids and decision keys; its next review still prompts; each run replays', async () => {
    const handle = await startPlan({ firstReviewInMs: 15_000 });
    const firstRunId = (await handle.describe()).runId;
    const deadlinesAtStart = (await planState(handle)).deadlines;

    // Events sent at once, while the run crosses its bound: every one is taken exactly once.
    const burst = Array.from({ length: 24 }, (_, index) => `EV-CAN-SENT-${index + 1}`);
    const answers = await Promise.all(
      burst.map((eventId, index) =>
        record(handle, eventId, { type: 'cin-plan-sent', agencyRef: index % 2 === 0 ? 'AG-1' : 'AG-2' }).then(
          (answer) => (answer.duplicate ? 'duplicate' : 'taken'),
          // Should the server deliver an update taken by one run to the next again, that run refuses it as
          // a repeat; the API answers that 202 too ("already reached this case"). Anything else fails here.
          (error: unknown) => (failureType(error) === 'duplicate-event' ? 'taken, answered as a repeat' : `failed: ${String(error)}`),
        ),
      ),
    );
    expect(answers.filter((answer) => !answer.startsWith('taken'))).toEqual([]);
    const first = await reviewAndContinue(handle, 'EV-CAN-REVIEW-1');
    const second = await reviewAndContinue(handle, 'EV-CAN-REVIEW-2');

    // The run hands over once idle (its deliveries done), so shortly after the last answer.
    const description = await eventually(async () => {
      const current = await handle.describe();
      expect(current.runId).not.toBe(firstRunId);
      return current;
    });
    const continued = await planState(handle);
    // The record runs on across the runs: every event once, both reviews and their decisions.
    const applied = continued.record.filter((entry) => entry.source === 'event' && entry.status === 'applied').map((entry) => entry.ref);
    expect(applied.sort()).toEqual([...burst, 'EV-CAN-REVIEW-1', 'EV-CAN-REVIEW-2'].sort());
    expect(continued.record.filter((entry) => entry.source === 'decision').map((entry) => entry.ref)).toEqual([first.promptId, second.promptId]);
    expect(continued.agenciesNotSent).toEqual([]);
    // Prompt ids go on from where they were, never reused.
    expect(new Set(continued.prompts.map((prompt) => prompt.promptId)).size).toBe(continued.prompts.length);
    expect(continued.prompts.filter((prompt) => prompt.kind === 'cin-plan-review')).toHaveLength(2);
    // Every deadline pending at the start is pending still, at the same time.
    expect(continued.deadlines, JSON.stringify(continued.deadlines)).toEqual(deadlinesAtStart);
    expect(continued.reviews.filter((review) => review.status === 'held')).toHaveLength(2);
    // Its search attributes carried over.
    expect(description.searchAttributes).toMatchObject({ Team: ['TEAM-1'], AssessmentStage: ['cin-plan-open'] });

    // What a sender or a manager retries after the hand-over changes nothing.
    const resent = await record(handle, burst[0]!, { type: 'cin-plan-sent', agencyRef: 'AG-1' }).catch((error: unknown) => error);
    expect(failureType(resent), describeAnswer(resent)).toBe('duplicate-event');
    const repeated = await handle.executeUpdate(decideUpdate, { args: [first.decision as never, first.request] }).catch((error: unknown) => error);
    expect(failureType(repeated), describeAnswer(repeated)).toBe('decision-repeated');
    const reused = await handle.executeUpdate(decideUpdate, { args: [first.decision as never, { ...first.request, requestHash: 'OTHER' }] }).catch((error: unknown) => error);
    expect(failureType(reused), describeAnswer(reused)).toBe('idempotency-key-reused');

    // The plan's start was told once, not again by a continued run.
    await eventually(async () => {
      expect(outbox('notification', handle.workflowId).filter((notification) => notification.reason === 'cin-plan-started')).toHaveLength(1);
      expect(outbox('case-record', handle.workflowId).filter((entry) => entry.kind === 'cin-plan-started')).toHaveLength(1);
      expect(outbox('case-record', handle.workflowId).filter((entry) => entry.kind === 'cin-plan-review')).toHaveLength(2);
    });

    // The first review date comes, in a continued run: the plan's manager is prompted.
    const due = await eventually(async () => {
      const current = await planState(handle);
      expect(current.openPrompts.map((prompt) => prompt.kind)).toEqual(['cin-plan-review']);
      expect(current.reviews[0]).toMatchObject({ status: 'due' });
      return current;
    }, 40_000);
    await eventually(async () => expect(outbox('notification', handle.workflowId)).toContainEqual(expect.objectContaining({ reason: 'cin-plan-review-due', target: 'MGR-2' })));
    await handle.executeUpdate(decideUpdate, {
      args: [{ promptId: due.openPrompts[0]!.promptId, decision: 'close', reasonForClosure: 'RC1', rationale: 'met', decidedBy: 'MGR-2', decidedAt: iso(Date.now()) } as never],
    });
    expect(await handle.result()).toMatchObject({ status: 'closed', reasonForClosure: 'RC1' });

    // Each run replays on today's code; each but the last ends by continuing as new.
    const runs = await runsOf(handle.workflowId);
    expect(runs.length).toBeGreaterThan(1);
    for (const history of runs.slice(0, -1)) expect(history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
    for (const history of runs) {
      await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: dataConverter(testCodec()) }, history, handle.workflowId);
    }
    if (process.env.RECORD_HISTORIES === '1') keepAsFixtures(handle.workflowId, runs);
  }, 90_000);

  it('R-44 a hand-over carries at most its limits of the record and of event ids: the rest of the record is counted, and stays in the earlier runs', async () => {
    const handle = await startPlan({ carryOverLimits: { recordEntries: 10, eventIds: 10 } });
    const firstRunId = (await handle.describe()).runId;
    const eventIds = Array.from({ length: 20 }, (_, index) => `EV-CAN-LIMIT-${index + 1}`);
    for (const [index, eventId] of eventIds.entries()) {
      await record(handle, eventId, { type: 'cin-plan-sent', agencyRef: index % 2 === 0 ? 'AG-1' : 'AG-2' }).catch(takenAsRepeat('duplicate-event'));
    }
    await eventually(async () => expect((await handle.describe()).runId).not.toBe(firstRunId));
    const continued = await planState(handle);
    const earlier = continued.recordEntriesInEarlierRuns ?? 0;
    expect(earlier).toBeGreaterThan(0);
    // The latest entries are carried, in order; the count of those left makes up the whole record (20 events and the start's notice at least).
    const carriedEvents = continued.record.filter((entry) => entry.source === 'event').map((entry) => entry.ref);
    expect(carriedEvents.length).toBeLessThan(20);
    expect(carriedEvents).toEqual(eventIds.slice(eventIds.length - carriedEvents.length));
    expect(earlier + continued.record.length).toBeGreaterThanOrEqual(21);
    // The latest events are still known: a retry of one changes nothing.
    expect(failureType(await record(handle, eventIds.at(-1)!, { type: 'cin-plan-sent', agencyRef: 'AG-2' }).catch((error: unknown) => error))).toBe('duplicate-event');
    await handle.terminate('test over');
  });

  it('R-44 a plan under its history bound does not continue, and records no continue-as-new marker', async () => {
    const handle = await startPlan();
    const firstRunId = (await handle.describe()).runId;
    await record(handle, 'EV-CAN-UNDER-1', { type: 'cin-plan-sent', agencyRef: 'AG-1' });
    expect((await handle.describe()).runId).toBe(firstRunId);
    const markers = (await handle.fetchHistory()).events?.filter((event) => event.markerRecordedEventAttributes) ?? [];
    expect(markers).toHaveLength(1); // quiet-engine's, no other
    await handle.terminate('test over');
  });
});
