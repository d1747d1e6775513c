/**
 * A case cannot be frozen or killed through its history: a repeated event is answered
 * without being written, and a run takes only so many events (workflows/engine.ts
 * EVENT_WRITE_LIMITS), each refusal with its own failure type and nothing written.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { referralWorkflowId } from '../../domain/ids';
import type { DomainEvent } from '../../domain/events';
import { EVENT_WRITE_LIMITS } from '../../workflows/engine';
import { decideUpdate, eventSignal, recordEventUpdate, stateQuery } from '../../workflows/messages';
import { referralWorkflow, type ReferralState } from '../../workflows/referral';
import { AssessmentHarness, HOUR_MS, iso, useTimeSkippingHarness } from '../support/assessment-harness';
import { refusalOf } from '../support/deadline-checks';

let env: TestWorkflowEnvironment;
let harness: AssessmentHarness;
useTimeSkippingHarness((ready) => ({ env, harness } = ready));

type ReferralHandle = WorkflowHandle<typeof referralWorkflow>;
let counter = 0;

async function startReferral(): Promise<ReferralHandle> {
  counter += 1;
  const referralId = `REF-${7000 + counter}-${Date.now().toString(36).toUpperCase()}`;
  const handle = await env.client.workflow.start(referralWorkflow, {
    workflowId: referralWorkflowId(referralId),
    taskQueue: harness.taskQueue,
    args: [{ referralId, receivedAt: iso((await harness.now()) - HOUR_MS), referrerType: 'education', childProtectionConcern: false, children: [{ childRef: 'C-1' }] }],
  });
  await harness.eventually(async () => {
    const current = (await handle.query(stateQuery)) as ReferralState;
    if (!current.openPrompts.some((prompt) => prompt.kind === 'duty-decision')) throw new Error('not ready');
  });
  return handle;
}

/** An event a referral awaiting its duty decision takes any number of times. */
const consent = async (eventId: string): Promise<DomainEvent> => ({ type: 'consent-recorded', eventId, occurredAt: iso((await harness.now()) - 60_000), actor: 'SW-1', given: true });


const acceptedUpdates = async (handle: WorkflowHandle) => ((await handle.fetchHistory()).events ?? []).filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes).length;

describe('a case cannot be frozen or killed through its history', () => {
  it('refuses a repeated eventId in the validator as duplicate-event: nothing is written, and the record holds the event once', async () => {
    const handle = await startReferral();
    const event = await consent('EV-DUP-1');
    expect(await handle.executeUpdate(recordEventUpdate, { args: [event] })).toEqual({ duplicate: false });
    const written = await acceptedUpdates(handle);
    const historyLength = ((await handle.fetchHistory()).events ?? []).length;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const refusal = await refusalOf(handle.executeUpdate(recordEventUpdate, { args: [event] }));
      expect(refusal.type).toBe('duplicate-event');
      expect(refusal.details).toEqual([{ eventId: 'EV-DUP-1' }]);
    }
    // A signal of the same event (as a parent forwards it) changes nothing either.
    await handle.signal(eventSignal, event);
    const current = (await handle.query(stateQuery)) as ReferralState;
    expect(current.record.filter((entry) => entry.ref === 'EV-DUP-1')).toHaveLength(1);
    expect(await acceptedUpdates(handle)).toBe(written);
    // Only the signal (and its workflow task) reached the history: no update was written.
    const after = (await handle.fetchHistory()).events ?? [];
    expect(after.slice(historyLength).every((entry) => !entry.workflowExecutionUpdateAcceptedEventAttributes)).toBe(true);
    await harness.finish(handle);
  });

  it(`takes ${EVENT_WRITE_LIMITS.perHour} events in a rolling hour, refuses the next as too-many-events (with when to retry), and takes events again once the hour has moved on`, async () => {
    const handle = await startReferral();
    const startedAt = await harness.now();
    for (let index = 1; index <= EVENT_WRITE_LIMITS.perHour; index += 1) {
      expect(await handle.executeUpdate(recordEventUpdate, { args: [await consent(`EV-RATE-${index}`)] })).toEqual({ duplicate: false });
    }
    const written = await acceptedUpdates(handle);
    const refusal = await refusalOf(handle.executeUpdate(recordEventUpdate, { args: [await consent('EV-RATE-9999')] }));
    expect(refusal.type).toBe('too-many-events');
    expect(refusal.message).toMatch(/120 events in the last hour/);
    const details = refusal.details?.[0] as { limit: number; retryAfterSeconds: number };
    expect(details.limit).toBe(EVENT_WRITE_LIMITS.perHour);
    expect(details.retryAfterSeconds).toBeGreaterThan(0);
    expect(details.retryAfterSeconds).toBeLessThanOrEqual(3600);
    // A retry of an event already taken still answers as a duplicate, not as limited.
    expect((await refusalOf(handle.executeUpdate(recordEventUpdate, { args: [await consent('EV-RATE-1')] }))).type).toBe('duplicate-event');
    expect(await acceptedUpdates(handle)).toBe(written);

    // An hour after the first of them, the window has room again (the refused eventId is still free).
    await env.sleep(startedAt + HOUR_MS + 1000 - (await harness.now()));
    expect(await handle.executeUpdate(recordEventUpdate, { args: [await consent('EV-RATE-9999')] })).toEqual({ duplicate: false });
    expect((await handle.describe()).status.name).toBe('RUNNING');
    await harness.finish(handle);
  });

  it(`takes at most ${EVENT_WRITE_LIMITS.perRun} events in a run: the next is refused as event-limit-reached, and the case goes on (decisions, queries)`, async () => {
    const handle = await startReferral();
    // Signals (as parents forward events) count too, and are the quick way to fill a run.
    const batch = 50;
    for (let start = 1; start <= EVENT_WRITE_LIMITS.perRun; start += batch) {
      await Promise.all(Array.from({ length: batch }, async (_, offset) => handle.signal(eventSignal, await consent(`EV-RUN-${start + offset}`))));
    }
    await harness.eventually(async () => {
      const current = (await handle.query(stateQuery)) as ReferralState;
      if (current.record.filter((entry) => entry.source === 'event').length < EVENT_WRITE_LIMITS.perRun) throw new Error('signals not all taken yet');
    }, 60_000);
    const refusal = await refusalOf(handle.executeUpdate(recordEventUpdate, { args: [await consent('EV-RUN-9999')] }));
    expect(refusal.type).toBe('event-limit-reached');
    expect(refusal.details).toEqual([{ limit: EVENT_WRITE_LIMITS.perRun }]);
    const current = (await handle.query(stateQuery)) as ReferralState;
    expect(current.record.some((entry) => entry.ref === 'EV-RUN-9999')).toBe(false);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    // Decisions are not events: the duty manager can still decide, and the case goes on from there.
    const duty = current.openPrompts.find((prompt) => prompt.kind === 'duty-decision')!;
    const decided = await handle.executeUpdate(decideUpdate, {
      args: [{ promptId: duty.promptId, decision: 'early-help', rationale: 'reasons recorded by the duty manager', decidedBy: 'MGR-1', decidedAt: iso(await harness.now()) }],
    });
    expect(decided).toMatchObject({ accepted: true, promptId: duty.promptId });
    await harness.finish(handle);
  }, 180_000);
});
