import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Connection } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { METADATA_ENCODING_KEY } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { ENCRYPTED_ENCODING, METADATA_KEY_ID } from '../../common/codec';
import { connectWorkerConnection } from '../../common/temporal';
import type { DomainEvent } from '../../domain/events';
import { referralWorkflowId } from '../../domain/ids';
import type { ReferralInput } from '../../domain/referral';
import { eventSignal, stateQuery } from '../../workflows/messages';
import { referralWorkflow, type ReferralState } from '../../workflows/referral';
import { bundleWorkflowCode } from '@temporalio/worker';
import { assertBundleEncodesFailures, bundleWorkflows, createWorker } from '../../worker/worker';
import { testCodec } from '../support/payload-keys';
import { devServerHarness, type DevServerHarness } from '../support/temporal';
import { decodedText, findPayloads, flatten, rawConnection, rawHistory, text, type HistoryEvent } from './raw';
import { CENSUS_MEASURES_PATCH, COLLISION_FREE_IDS_PATCH, DEADLINE_INTEGRITY_PATCH, OPEN_PROMPTS_DUE_PATCH, OPEN_PROMPTS_MEMO_PATCH, OUTCOMES_FOLLOW_ON_PATCH, PROCEDURE_CHECKS_PATCH, QUIET_ENGINE_PATCH } from '../../workflows/engine';
import { assessmentWorkflowId } from '../../domain/ids';
import { decideUpdate } from '../../workflows/messages';
import type { AssessmentState } from '../../workflows/assessment';

/** Stands for personal data: it must never reach the Temporal server in a readable form. */
const MARKER = 'CANARY-7f3a';
const NAMESPACE = 'default';
const EventType = temporal.api.enums.v1.EventType;

let harness: DevServerHarness;
let raw: Connection;

beforeAll(async () => {
  harness = await devServerHarness();
  raw = await rawConnection(inject('devServerAddress'));
});
afterAll(async () => {
  await raw?.close();
  await harness?.stop();
});

const referral = (referralId: string, extra: Partial<ReferralInput> = {}): ReferralInput =>
  ({ referralId, receivedAt: '2026-11-23T09:00:00Z', referrerType: 'education', childProtectionConcern: false, children: [{ childRef: 'C-1' }], ...extra }) as ReferralInput;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((next) => setTimeout(next, 200));
  }
}

/** What the server lets anyone with frontend access see of one workflow: history, description, visibility. */
async function everythingStoredAbout(workflowId: string): Promise<{ history: HistoryEvent[]; described: unknown; listed: unknown[] }> {
  const history = await rawHistory(raw, NAMESPACE, workflowId);
  const described = await raw.workflowService.describeWorkflowExecution({ namespace: NAMESPACE, execution: { workflowId } });
  const listed = await waitFor('the workflow in visibility', async () => {
    const page = await raw.workflowService.listWorkflowExecutions({ namespace: NAMESPACE, query: `WorkflowId = '${workflowId}'`, pageSize: 10 });
    return page.executions.length > 0 ? page.executions : undefined;
  });
  return { history, described, listed };
}

function assertNoMarker(stored: unknown): void {
  const haystack = flatten(stored);
  expect(haystack.length).toBeGreaterThan(20);
  const hits = haystack.filter((piece) => piece.includes(MARKER));
  expect(hits, 'the marker is readable in what the server stores').toEqual([]);
}

/**
 * Every payload outside search attributes (plaintext by design) is sealed by the codec.
 * The SDK writes a patch marker's data (the patch id, e.g. 'deadline-integrity': code, not
 * case data) in clear, so the server can version workflows; those are checked to hold
 * nothing but a patch id.
 */
function assertPayloadsEncrypted(history: HistoryEvent[]): number {
  const patchMarkers = findPayloads(history).filter((found) => /markerRecordedEventAttributes\.details\.patch-data/.test(found.path));
  for (const { path, payload } of patchMarkers) {
    const patchIds = [DEADLINE_INTEGRITY_PATCH, COLLISION_FREE_IDS_PATCH, CENSUS_MEASURES_PATCH, OPEN_PROMPTS_DUE_PATCH, OPEN_PROMPTS_MEMO_PATCH, PROCEDURE_CHECKS_PATCH, OUTCOMES_FOLLOW_ON_PATCH, QUIET_ENGINE_PATCH, 'notify-duty-manager-of-child-protection-referral'];
    expect(JSON.parse(text(payload.data)) as { id: string }, path).toMatchObject({ id: expect.toBeOneOf(patchIds) });
    expect(text(payload.data), path).not.toContain(MARKER);
  }
  const payloads = findPayloads(history).filter((found) => !/searchAttributes|header|markerRecordedEventAttributes\.details\.patch-data/i.test(found.path));
  for (const { path, payload } of payloads) {
    expect(text(payload.metadata?.[METADATA_ENCODING_KEY]), path).toBe(ENCRYPTED_ENCODING);
    expect(text(payload.metadata?.[METADATA_KEY_ID]), path).toBe('test-only-k1');
  }
  return payloads.length;
}

describe('nothing personal reaches the Temporal server in plaintext (dev server, raw reads without the codec)', () => {
  it('signal inputs with free text are ciphertext in history and visibility, and readable with the codec', async () => {
    const referralId = `REF-${Date.now()}`;
    const workflowId = referralWorkflowId(referralId);
    const handle = await harness.client.workflow.start(referralWorkflow, {
      workflowId,
      taskQueue: harness.taskQueue,
      args: [referral(referralId)],
      // A memo's values go through the codec too (its keys do not).
      memo: { note: `${MARKER} memo` },
    });
    const at = { occurredAt: '2026-11-23T10:00:00Z', actor: 'SW-1' };
    const events: DomainEvent[] = [
      { type: 'child-seen', eventId: 'EV-1', ...at, seenAlone: false, reasonNotAlone: `${MARKER} reason`, viewsRecorded: true },
      { type: 'family-comments-recorded', eventId: 'EV-2', ...at, comments: `${MARKER} comments` },
      { type: 'new-information', eventId: 'EV-3', ...at, summary: `${MARKER} summary` },
    ];
    for (const event of events) await handle.signal(eventSignal, event);
    const state = (await handle.query(stateQuery)) as ReferralState;
    expect(state.record.map((entry) => entry.ref).filter((ref) => ref?.startsWith('EV-'))).toEqual(['EV-1', 'EV-2', 'EV-3']);
    // The duty prompt written to the memo (it follows the calendar's activity).
    await waitFor('the open prompts in the memo', async () =>
      (await rawHistory(raw, NAMESPACE, workflowId)).some((event) => event.workflowPropertiesModifiedEventAttributes) ? true : undefined,
    );

    const stored = await everythingStoredAbout(workflowId);
    const signaled = stored.history.filter((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
    expect(signaled).toHaveLength(3);
    assertNoMarker(stored);
    // started input + 3 signals at least, all sealed with the test key
    expect(assertPayloadsEncrypted(stored.history)).toBeGreaterThanOrEqual(4);

    // Positive control: the same raw history, decrypted with the codec, holds the marker
    // (so the check above would have found it in plaintext).
    const decrypted = await decodedText(stored.history, testCodec());
    expect(decrypted.split(MARKER).length - 1).toBeGreaterThanOrEqual(4);
    const memo = (stored.described as { workflowExecutionInfo?: { memo?: { fields?: Record<string, unknown> } } }).workflowExecutionInfo?.memo?.fields ?? {};
    expect(Object.keys(memo)).toContain('note');
    expect(await decodedText(memo, testCodec())).toContain(`${MARKER} memo`);
    // The open prompts the engine keeps in its memo (open-prompts-memo) are sealed in history like any payload (checked above), and hold the prompt.
    const upserted = stored.history.flatMap((event) => Object.values(event.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields ?? {}));
    expect(upserted.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(upserted)).not.toContain('duty-decision');
    expect(await decodedText(upserted, testCodec())).toContain('duty-decision');
    expect(decrypted).toContain('json/plain');
    await handle.terminate('test over');
  });

  it('particular circumstances (special category data) are ciphertext only: never in an id, a search attribute, the visibility store or a prompt kind', async () => {
    const referralId = `REF-${Date.now()}-18`;
    const referralHandle = await harness.client.workflow.start(referralWorkflow, { workflowId: referralWorkflowId(referralId), taskQueue: harness.taskQueue, args: [referral(referralId)] });
    const duty = await waitFor('the duty decision prompt', async () => ((await referralHandle.query(stateQuery)) as ReferralState).openPrompts.find((prompt) => prompt.kind === 'duty-decision'));
    await referralHandle.executeUpdate(decideUpdate, {
      args: [{ promptId: duty.promptId, decision: 'single-assessment', rationale: 'assess', decidedBy: 'MGR-1', decidedAt: '2026-11-23T09:30:00Z' }],
    });
    const assessmentId = assessmentWorkflowId(referralId, 'C-1');
    const assessment = harness.client.workflow.getHandle(assessmentId);
    await waitFor('the assessment', async () => ((await assessment.query(stateQuery).catch(() => undefined)) as AssessmentState | undefined)?.stage);
    const at = { occurredAt: '2026-11-23T10:00:00Z', actor: 'SW-1' };
    const circumstances = ['trafficking', 'fgm-risk', 'youth-justice-risk', 'parent-in-prison', 'disability'] as const;
    const events: DomainEvent[] = [
      ...circumstances.map((circumstance, index): DomainEvent => ({ type: 'particular-circumstance-recorded', eventId: `EV-C${index + 1}`, ...at, circumstance, howAddressed: `${MARKER} plan` })),
      { type: 'parental-factor-recorded', eventId: 'EV-P1', ...at, factors: ['substance-misuse'] },
      { type: 'extra-familial-harm-recorded', eventId: 'EV-X1', ...at, kinds: ['radicalisation'] },
    ];
    for (const event of events) await assessment.signal(eventSignal, event);
    await waitFor('the circumstance prompts', async () => {
      const current = (await assessment.query(stateQuery)) as AssessmentState;
      return current.openPrompts.filter((prompt) => prompt.kind === 'circumstance-response').length === 2 ? current : undefined;
    });
    // Visibility is written asynchronously: wait until the open prompt kinds are listed there.
    await waitFor('OpenPromptKinds in visibility', async () => {
      const described = await assessment.describe();
      return (described.searchAttributes.OpenPromptKinds as string[] | undefined)?.includes('circumstance-response') ? described : undefined;
    });
    const stored = await everythingStoredAbout(assessmentId);
    assertNoMarker(stored);
    const haystack = flatten(stored);
    for (const word of [...circumstances, 'substance-misuse', 'radicalisation', 'nrm-referral']) {
      expect(haystack.filter((piece) => piece.includes(word)), `${word} is readable in what the server stores`).toEqual([]);
    }
    assertPayloadsEncrypted(stored.history);
    // Positive control: decrypted with the codec, the history holds them.
    const decrypted = await decodedText(stored.history, testCodec());
    for (const word of [...circumstances, 'substance-misuse', 'radicalisation', MARKER]) expect(decrypted).toContain(word);
    await assessment.terminate('test over');
    await referralHandle.terminate('test over');
  });

  it('a workflow task failure raised in the workflow sandbox keeps its message and stack trace encrypted', async () => {
    // The referral workflow validates its pinned policy; an unknown key fails the workflow
    // task with zod's message, which quotes the key (the marker).
    const referralId = `REF-${Date.now()}-2`;
    const workflowId = referralWorkflowId(referralId);
    const handle = await harness.client.workflow.start(referralWorkflow, {
      workflowId,
      taskQueue: harness.taskQueue,
      args: [referral(referralId, { policy: { [MARKER]: 1 } as unknown as ReferralInput['policy'] })],
    });
    const history = await waitFor('a failed workflow task', async () => {
      const events = await rawHistory(raw, NAMESPACE, workflowId);
      return events.some((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED) ? events : undefined;
    });
    const failed = history.find((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)!;
    const failure = failed.workflowTaskFailedEventAttributes!.failure!;
    expect(failure.message).toBe('Encoded failure');
    expect(failure.stackTrace ?? '').toBe('');
    expect(text(failure.encodedAttributes?.metadata?.[METADATA_ENCODING_KEY])).toBe(ENCRYPTED_ENCODING);

    const stored = await everythingStoredAbout(workflowId);
    assertNoMarker(stored);
    assertPayloadsEncrypted(stored.history);
    const decrypted = await decodedText(failed, testCodec());
    expect(decrypted).toContain('unrecognized_keys');
    expect(decrypted).toContain(MARKER);
    expect(decrypted).toContain('stack_trace');
    await handle.terminate('test over');
  });

  it('activity and workflow failure messages are encrypted too (a worker from createWorker, real activities)', async () => {
    const taskQueue = `test-${randomUUID()}`;
    const { code } = await bundleWorkflows({ workflowsPath: resolve(__dirname, 'fixtures', 'canary-workflows.ts'), logger: quiet });
    const connection = await connectWorkerConnection(inject('devServerAddress'));
    const worker = await createWorker({
      connection,
      namespace: NAMESPACE,
      taskQueue,
      codec: testCodec(),
      deps: { outbound: { outboxDir: mkdtempSync(join(tmpdir(), 'outbox-')) } },
      workflowBundle: { code },
    });
    const workflowId = `canary-failure-${randomUUID()}`;
    await worker.runUntil(async () => {
      const handle = await harness.client.workflow.start('failingCalendarWorkflow', { workflowId, taskQueue, args: [MARKER] });
      // Through the codec, the failure reads as it was raised: the test can see the marker.
      const error = await handle.result().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect((error as WorkflowFailedError).cause?.message).toBe(`calendar could not be loaded: unknown time zone ${MARKER}`);
    });
    await connection.close();

    const stored = await everythingStoredAbout(workflowId);
    const activityFailed = stored.history.find((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED);
    const workflowFailed = stored.history.find((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED);
    expect(activityFailed?.activityTaskFailedEventAttributes?.failure?.message).toBe('Encoded failure');
    expect(workflowFailed?.workflowExecutionFailedEventAttributes?.failure?.message).toBe('Encoded failure');
    assertNoMarker(stored);
    assertPayloadsEncrypted(stored.history);
    const decrypted = await decodedText([activityFailed, workflowFailed], testCodec());
    expect(decrypted).toContain(`unknown time zone ${MARKER}`);
    expect(decrypted).toContain(`calendar could not be loaded: unknown time zone ${MARKER}`);
  });
});

describe('a workflow bundle without the failure converter', () => {
  it('is refused by createWorker, since its workflows would write failure messages in plaintext', async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath: resolve(__dirname, 'fixtures', 'canary-workflows.ts'), logger: quiet });
    const connection = await connectWorkerConnection(inject('devServerAddress'));
    try {
      const refused = createWorker({
        connection,
        namespace: NAMESPACE,
        taskQueue: `test-${randomUUID()}`,
        codec: testCodec(),
        deps: { outbound: { outboxDir: mkdtempSync(join(tmpdir(), 'outbox-')) } },
        workflowBundle: { code },
      });
      await expect(refused).rejects.toThrow(/built without the failure converter.*bundleWorkflows\(\)/);
      await expect(assertBundleEncodesFailures({ codePath: inject('workflowBundlePath') })).resolves.toBeUndefined();
    } finally {
      await connection.close();
    }
  });
});

const quiet = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message: string) => console.error(message),
};
