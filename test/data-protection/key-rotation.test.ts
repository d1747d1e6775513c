import type { Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { METADATA_KEY_ID, PayloadDecryptionError } from '../../common/codec';
import { dataConverter } from '../../common/temporal';
import type { DomainEvent } from '../../domain/events';
import { referralWorkflowId } from '../../domain/ids';
import { eventSignal, stateQuery } from '../../workflows/messages';
import { referralWorkflow, type ReferralState } from '../../workflows/referral';
import { TEST_ONLY_KEY_1, TEST_ONLY_KEY_2, testCodec } from '../support/payload-keys';
import { devServerHarness, type DevServerHarness } from '../support/temporal';
import { rawConnection, rawHistory, text } from './raw';

const MARKER = 'CANARY-7f3a';
const EventType = temporal.api.enums.v1.EventType;
const K1_ONLY = TEST_ONLY_KEY_1;
const ROTATED = `${TEST_ONLY_KEY_2},${TEST_ONLY_KEY_1}`;
const K2_ONLY = TEST_ONLY_KEY_2;

let raw: Connection;
const harnesses: DevServerHarness[] = [];
beforeAll(async () => {
  raw = await rawConnection(inject('devServerAddress'));
});
afterAll(async () => {
  for (const harness of harnesses) await harness.stop().catch(() => undefined);
  await raw?.close();
});

const event = (eventId: string): DomainEvent => ({
  type: 'new-information',
  eventId,
  occurredAt: '2026-11-23T10:00:00Z',
  actor: 'SW-1',
  summary: `${MARKER} ${eventId}`,
});

const eventRefs = (state: ReferralState) => state.record.map((entry) => entry.ref).filter((ref) => ref?.startsWith('EV-'));

const signalKeyIds = (history: temporal.api.history.v1.IHistoryEvent[]) =>
  history
    .filter((item) => item.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
    .map((item) => text(item.workflowExecutionSignaledEventAttributes!.input!.payloads![0]!.metadata![METADATA_KEY_ID]));

describe('key rotation (PAYLOAD_KEYS = k1, then k2,k1)', () => {
  it('a history written under k1 still decodes and replays after rotation; new payloads are sealed with k2', async () => {
    const referralId = `REF-${Date.now()}`;
    const workflowId = referralWorkflowId(referralId);

    // Before rotation: worker and client on k1.
    const before = await devServerHarness({ codec: testCodec(K1_ONLY) });
    harnesses.push(before);
    const handle = await before.client.workflow.start(referralWorkflow, {
      workflowId,
      taskQueue: before.taskQueue,
      args: [{ referralId, receivedAt: '2026-11-23T09:00:00Z', referrerType: 'health', childProtectionConcern: false, children: [{ childRef: 'C-2' }] }],
    });
    await handle.signal(eventSignal, event('EV-1'));
    expect(eventRefs((await handle.query(stateQuery)) as ReferralState)).toEqual(['EV-1']);
    const k1History = await handle.fetchHistory();
    await before.stop();

    // After rotation: a new worker (empty cache, so it replays the k1 history) and client on k2,k1.
    const after = await devServerHarness({ codec: testCodec(ROTATED), taskQueue: before.taskQueue });
    harnesses.push(after);
    const rotatedHandle = after.client.workflow.getHandle(workflowId);
    await rotatedHandle.signal(eventSignal, event('EV-2'));
    const state = (await rotatedHandle.query(stateQuery)) as ReferralState;
    expect(eventRefs(state)).toEqual(['EV-1', 'EV-2']);

    const history = await rawHistory(raw, 'default', workflowId);
    expect(signalKeyIds(history)).toEqual(['test-only-k1', 'test-only-k2']);
    const started = history.find((item) => item.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)!;
    expect(text(started.workflowExecutionStartedEventAttributes!.input!.payloads![0]!.metadata![METADATA_KEY_ID])).toBe('test-only-k1');

    // Replay, as a deployment check would: the k1-only history and the mixed one.
    const workflowBundle = { codePath: inject('workflowBundlePath') };
    await Worker.runReplayHistory({ workflowBundle, dataConverter: dataConverter(testCodec(ROTATED)) }, k1History, workflowId);
    const mixedHistory = await rotatedHandle.fetchHistory();
    await Worker.runReplayHistory({ workflowBundle, dataConverter: dataConverter(testCodec(ROTATED)) }, mixedHistory, workflowId);

    // Once k1 is dropped, the k1 payloads cannot be read, and the error says which key is missing.
    const k1Payload = started.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    const error = await testCodec(K2_ONLY)
      .decode([k1Payload])
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PayloadDecryptionError);
    expect((error as Error).message).toMatch(/encrypted with key id 'test-only-k1', which is not in PAYLOAD_KEYS;/);
    // Nor does it tell which keys this process holds.
    expect((error as Error).message).not.toContain('test-only-k2');
    const replayError = await Worker.runReplayHistory({ workflowBundle, dataConverter: dataConverter(testCodec(K2_ONLY)) }, mixedHistory, workflowId).catch(
      (caught: unknown) => caught,
    );
    // Replay refuses the history. (The worker logs the decryption error naming the key id;
    // the failure it reports is itself encoded, as every failure is.)
    expect(replayError).toBeInstanceOf(Error);
    expect((replayError as Error).message).toMatch(/Replay failed/);

    await rotatedHandle.terminate('test over');
  });
});
