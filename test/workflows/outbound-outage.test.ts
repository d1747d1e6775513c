/**
 * Deadline integrity (issue 9): outside work never holds up a deadline. The outbound
 * webhook is a real HTTP receiver on loopback, switched to answer 500. In a file of its
 * own: the failing deliveries' retries must not share a time-skipping server with the
 * other deadline tests.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { allocate, AssessmentHarness, HOUR_MS, openPrompt, send, state, useTimeSkippingHarness, type Handle } from '../support/assessment-harness';
import { expectNothingStalled, passed } from '../support/deadline-checks';
import { timeSkippingWorker } from '../support/temporal';
import { WebhookReceiver } from '../support/webhook-receiver';

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

describe('deadline integrity: outside work never holds up a deadline', () => {
  it('R-7 with every receiver down, the visit deadline fires on time, a strategy discussion starts, and the failing deliveries raise an operations alert', async () => {
    receiver.down = true;
    try {
      const handle = await startAssessment();
      await allocate(harness, handle, { visitWithinHours: 2 });
      const now = await harness.now();
      await send(handle, { type: 'crime-suspected' }, now);
      await send(handle, { type: 'significant-harm-suspected' }, now);
      await env.sleep(3 * HOUR_MS);
      const late = await harness.eventually(async () => {
        const current = await state(handle);
        openPrompt(current, 'visit-overdue');
        expect(current.strategyDiscussions[0]?.status).toBe('running');
        return current;
      });
      expect(late.overdue.visit).toBe(true);
      expect(passed(late, 'visit')).toHaveLength(1);
      expectNothingStalled(late, await harness.now());
      expect(late.record.filter((entry) => entry.type === 'delivery-failing').length).toBeGreaterThan(0);
      await harness.eventually(async () => expect((await handle.describe()).searchAttributes.FailingDeliveries?.[0]).toBeGreaterThan(0));

      receiver.down = false;
      await env.sleep(20 * 60_000);
      await harness.eventually(async () => {
        const current = await state(handle);
        expect(current.record.some((entry) => entry.type === 'delivery-recovered')).toBe(true);
        expect((await handle.describe()).searchAttributes.FailingDeliveries).toEqual([0]);
      }, 20_000);
      // Police first, each delivery once: every attempt of one delivery carries one key.
      const police = receiver.for(handle.workflowId).filter((body) => body.recipient === 'police');
      expect(police).toEqual([expect.objectContaining({ reason: 'crime-suspected', rule: 'R-12' })]);
      const keys = receiver.deliveries.filter((delivery) => delivery.body.workflowId === handle.workflowId).map((delivery) => delivery.idempotencyKey);
      expect(new Set(keys).size).toBe(keys.length);
      await harness.finish(handle);
      await harness.finish(env.client.workflow.getHandle(late.strategyDiscussions[0]!.workflowId));
    } finally {
      receiver.down = false;
    }
  });
});

