import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referralWorkflowId } from '../../domain/ids';
import { eventSignal, stateQuery } from '../../workflows/messages';
import { referralWorkflow, type ReferralState } from '../../workflows/referral';
import { timeSkippingEnvironment, timeSkippingWorker } from '../support/temporal';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await timeSkippingEnvironment();
});
afterAll(async () => {
  await env?.teardown();
});

describe('referral workflow on the time-skipping server', () => {
  it('raises the duty decision prompt and keeps an out-of-stage event as rejected', async () => {
    const { worker, taskQueue } = await timeSkippingWorker(env);
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(referralWorkflow, {
        workflowId: referralWorkflowId('REF-1001'),
        taskQueue,
        args: [{ referralId: 'REF-1001', receivedAt: '2026-11-23T09:00:00Z', referrerType: 'police', childProtectionConcern: false, children: [{ childRef: 'C-1' }] }],
      });
      const event = { type: 'home-visited' as const, eventId: 'EV-1', occurredAt: '2026-11-23T10:00:00Z', actor: 'SW-1', bedroomSeen: true };
      await handle.signal(eventSignal, event);
      await handle.signal(eventSignal, event);
      const state = (await handle.query(stateQuery)) as ReferralState;
      expect(state.prompts.map((prompt) => prompt.kind)).toEqual(['duty-decision']);
      expect(state.record).toHaveLength(1);
      expect(state.record[0]).toMatchObject({ type: 'home-visited', status: 'rejected' });
      await handle.terminate('test over');
    });
  });
});
