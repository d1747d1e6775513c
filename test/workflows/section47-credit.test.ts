/**
 * Deadline integrity (issue 9): a child seen while a strategy discussion is pending counts
 * for the section 47 enquiry it starts, and cancelling that enquiry is recorded. In
 * a file of its own: its day of skipped time must not meet the timers left by other tests.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { section47EnquiryWorkflowId, strategyDiscussionWorkflowId } from '../../domain/ids';
import { decideUpdate, stateQuery } from '../../workflows/messages';
import type { Section47State } from '../../workflows/section47-enquiry';
import type { StrategyDiscussionState } from '../../workflows/strategy-discussion';
import { allocate, AssessmentHarness, HOUR_MS, iso, send, state, useTimeSkippingHarness } from '../support/assessment-harness';

let env: TestWorkflowEnvironment;
let harness: AssessmentHarness;
useTimeSkippingHarness((ready) => ({ env, harness } = ready));

const startAssessment = async () => harness.start(await harness.input(`REF-${Date.now().toString(36).toUpperCase()}7`));

describe('section 47 enquiry: the child seen before it starts', () => {
  it('R-27 a child seen while the strategy discussion is pending is credited to the enquiry it starts; cancelling that enquiry is recorded, not a failure', async () => {
    const handle = await startAssessment();
    await allocate(harness, handle);
    await send(handle, { type: 'significant-harm-suspected' }, await harness.now());
    const seen = await send(handle, { type: 'child-seen', seenAlone: true, viewsRecorded: true }, await harness.now());
    const referralId = (await state(handle)).referralId;
    const discussion = env.client.workflow.getHandle(strategyDiscussionWorkflowId(referralId, 'C-1', 1));
    const pending = await harness.eventually(async () => {
      const value = (await discussion.query(stateQuery)) as StrategyDiscussionState;
      expect(value.childSeenAt).toBe(seen.occurredAt);
      return value;
    });
    const outcome = pending.openPrompts.find((prompt) => prompt.kind === 'strategy-discussion-outcome')!;
    await discussion.executeUpdate(decideUpdate, {
      args: [{ promptId: outcome.promptId, decision: 'section-47-enquiry', attendees: ['police', 'health'], rationale: 'held', decidedBy: 'MGR-1', decidedAt: iso(await harness.now()) }],
    });
    const enquiry = env.client.workflow.getHandle(section47EnquiryWorkflowId(referralId, 'C-1', 1));
    const started = await harness.eventually(async () => (await enquiry.query(stateQuery)) as Section47State);
    expect(started.childSeenAt).toBe(seen.occurredAt);
    expect(started.deadlines.map((deadline) => deadline.name)).not.toContain('child-seen');
    await env.sleep(30 * HOUR_MS);
    expect(((await enquiry.query(stateQuery)) as Section47State).overdue.childSeen).toBe(false);

    await enquiry.cancel();
    await harness.eventually(async () => {
      const after = (await discussion.query(stateQuery).catch(() => undefined)) as StrategyDiscussionState | undefined;
      expect((await discussion.describe()).status.name).toBe('COMPLETED');
      if (after) expect(after.record.some((entry) => entry.type === 'section-47-cancelled')).toBe(true);
    }, 20_000);
    await harness.finish(handle);
  });
});
