import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referralWorkflowId } from '../../domain/ids';
import { decideUpdate, eventSignal, stateQuery } from '../../workflows/messages';
import { referralWorkflow, type ReferralState } from '../../workflows/referral';
import { timeSkippingEnvironment, timeSkippingWorker } from '../support/temporal';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await timeSkippingEnvironment();
});
afterAll(async () => {
  await env?.teardown();
});

const referral = (referralId: string) => ({
  referralId,
  receivedAt: '2026-11-23T09:00:00Z',
  referrerType: 'police' as const,
  childProtectionConcern: false,
  children: [{ childRef: 'C-1' }],
});

describe('referral workflow on the time-skipping server', () => {
  it('keeps an out-of-stage event in the record as rejected, and a repeated eventId changes nothing', async () => {
    const { worker, taskQueue } = await timeSkippingWorker(env);
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(referralWorkflow, { workflowId: referralWorkflowId('REF-1001'), taskQueue, args: [referral('REF-1001')] });
      const event = { type: 'home-visited' as const, eventId: 'EV-1', occurredAt: '2026-11-23T10:00:00Z', actor: 'SW-1', bedroomSeen: true };
      await handle.signal(eventSignal, event);
      await handle.signal(eventSignal, event);
      const state = (await handle.query(stateQuery)) as ReferralState;
      expect(state.openPrompts.map((prompt) => prompt.kind)).toEqual(['duty-decision']);
      const events = state.record.filter((entry) => entry.source === 'event');
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ type: 'home-visited', status: 'rejected' });
      expect((await handle.describe()).status.name).toBe('RUNNING');
      await handle.terminate('test over');
    });
  });

  it('the decide update accepts an allowed answer once, and says why it refuses the others', async () => {
    const { worker, taskQueue } = await timeSkippingWorker(env);
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(referralWorkflow, { workflowId: referralWorkflowId('REF-1002'), taskQueue, args: [referral('REF-1002')] });
      const [prompt] = ((await handle.query(stateQuery)) as ReferralState).openPrompts;
      const answer = { promptId: prompt!.promptId, rationale: 'universal services suffice', decidedBy: 'MGR-1', decidedAt: '2026-11-23T11:00:00Z' };

      const notAllowed = await handle.executeUpdate(decideUpdate, { args: [{ ...answer, decision: 'approve' }] }).catch((error: unknown) => error);
      expect(notAllowed).toBeInstanceOf(WorkflowUpdateFailedError);
      expect((notAllowed as WorkflowUpdateFailedError).cause).toMatchObject({ type: 'decision-not-allowed' });

      const noRationale = await handle.executeUpdate(decideUpdate, { args: [{ ...answer, rationale: ' ', decision: 'early-help' }] }).catch((error: unknown) => error);
      expect((noRationale as WorkflowUpdateFailedError).cause).toMatchObject({ type: 'invalid-decision' });

      const accepted = await handle.executeUpdate(decideUpdate, { args: [{ ...answer, decision: 'early-help' }] });
      expect(accepted).toMatchObject({ accepted: true, promptId: prompt!.promptId });

      const result = await handle.result();
      expect(result).toMatchObject({ stage: 'closed', dutyDecision: 'early-help' });
    });
  });
});
