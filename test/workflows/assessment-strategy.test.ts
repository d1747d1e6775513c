import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { mkdtempSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { testCodec } from '../support/payload-keys';
import { createActivities } from '../../activities';
import { dataConverter } from '../../common/temporal';
import { strategyDiscussionWorkflowId } from '../../domain/ids';
import { STRATEGY_DISCUSSION_WORKFLOW_TYPE } from '../../workflows/assessment';
import { allMet, allocate, AssessmentHarness, decide, doFieldwork, iso, openPrompt, send, state, useTimeSkippingHarness } from '../support/assessment-harness';
import { concludeDoubleSignal, doubleInputQuery } from '../support/doubles/strategy-discussion';

let env: TestWorkflowEnvironment;
let harness: AssessmentHarness;
// The product's workflows plus test doubles registered as 'strategyDiscussionWorkflow' and
// the section 47 enquiry, so that the assessment's side of R-13 is tested on its own.
useTimeSkippingHarness(
  (ready) => ({ env, harness } = ready),
  async (environment) => {
    const taskQueue = `test-${randomUUID()}`;
    const outboxDir = mkdtempSync(join(tmpdir(), 'outbox-'));
    const worker = await Worker.create({
      connection: environment.nativeConnection,
      namespace: 'default',
      taskQueue,
      workflowsPath: resolve(__dirname, '../support/doubles/workflows.ts'),
      activities: createActivities({ outbound: { outboxDir } }),
      dataConverter: dataConverter(testCodec()),
    });
    return { worker, taskQueue, outboxDir };
  },
);

describe('assessment workflow: strategy discussions (R-13)', () => {
  it('R-13 significant harm starts a strategy discussion child by name, one at a time, and records its result', async () => {
    const handle = await harness.start(await harness.input('REF-4001'));
    await allocate(harness, handle);
    const suspectedAt = await harness.now();
    await send(handle, { type: 'significant-harm-suspected' }, suspectedAt);

    const childId = strategyDiscussionWorkflowId('REF-4001', 'C-1', 1);
    const started = await harness.eventually(async () => {
      const current = await state(handle);
      expect(current.strategyDiscussions[0]).toMatchObject({ sequence: 1, workflowId: childId, status: 'running', cause: 'significant-harm-suspected' });
      return current;
    });
    expect(started.track).toBe('S47');
    const child = env.client.workflow.getHandle(childId);
    const described = await child.describe();
    expect(described.type).toBe(STRATEGY_DISCUSSION_WORKFLOW_TYPE);
    expect(described.parentExecution?.workflowId).toBe(handle.workflowId);
    expect(await child.query(doubleInputQuery)).toMatchObject({
      referralId: 'REF-4001',
      childRef: 'C-1',
      sequence: 1,
      calledAt: iso(suspectedAt),
      childProtectionConcern: true,
      team: 'TEAM-1',
    });

    // A repeated concern while one runs is recorded, not a second discussion.
    await send(handle, { type: 'significant-harm-suspected' }, suspectedAt);
    // The child being seen and a conference held go to the running strategy discussion, which
    // credits a child seen before its enquiry starts and passes the rest on to the enquiry.
    const seen = await send(handle, { type: 'child-seen', seenAlone: true, viewsRecorded: true }, suspectedAt);
    const repeated = await harness.eventually(async () => {
      const current = await state(handle);
      expect(current.record.some((entry) => entry.type === 'event-forwarded' && entry.ref === seen.eventId && entry.reason === child.workflowId)).toBe(true);
      return current;
    });
    expect(repeated.strategyDiscussions).toHaveLength(1);
    expect(repeated.record.some((entry) => entry.type === 'strategy-discussion-already-running' && entry.rule === 'R-13')).toBe(true);
    await harness.eventually(() => expect(harness.notifications(handle.workflowId)).toContainEqual(expect.objectContaining({ reason: 'significant-harm-suspected-again' })));
    const conference = await send(handle, { type: 'child-protection-conference-held' }, suspectedAt);
    await harness.eventually(async () => expect((await state(handle)).record.some((entry) => entry.type === 'event-forwarded' && entry.ref === conference.eventId)).toBe(true));

    const heldAt = iso(await harness.now());
    await child.signal(concludeDoubleSignal, { outcome: 'no-section-47', heldAt });
    const concluded = await harness.eventually(async () => {
      const current = await state(handle);
      expect(current.strategyDiscussions[0]?.status).toBe('concluded');
      return current;
    });
    expect(concluded.strategyDiscussions[0]?.result).toEqual({ outcome: 'no-section-47', heldAt });
    expect(concluded.track).toBe('S17');

    // More than one may be needed: the next has its own id and knows when the first was held.
    await send(handle, { type: 'significant-harm-suspected' }, await harness.now());
    const second = env.client.workflow.getHandle(strategyDiscussionWorkflowId('REF-4001', 'C-1', 2));
    await harness.eventually(async () => expect(await second.query(doubleInputQuery)).toMatchObject({ sequence: 2, initialStrategyDiscussionAt: heldAt }));
    await second.signal(concludeDoubleSignal, { outcome: 'section-47-enquiry', heldAt: iso(await harness.now()) });
    await harness.eventually(async () => expect((await state(handle)).strategyDiscussions[1]?.status).toBe('concluded'));
    expect((await state(handle)).track).toBe('S47');
    await harness.finish(handle);
  });

  it('R-13 a duty decision for a strategy discussion now, a supervision review, a sign-off outcome and a decision on new information each start one', async () => {
    const now = await harness.now();
    const atOnce = await harness.start(await harness.input('REF-4002', { track: 'S47', strategyDiscussionNow: true }));
    await harness.eventually(async () => expect((await state(atOnce)).strategyDiscussions[0]).toMatchObject({ status: 'running', cause: 'strategy-discussion-now' }));
    const first = env.client.workflow.getHandle(strategyDiscussionWorkflowId('REF-4002', 'C-1', 1));
    await first.signal(concludeDoubleSignal, { outcome: 'section-47-enquiry', heldAt: iso(now) });
    await harness.eventually(async () => expect((await state(atOnce)).strategyDiscussions[0]?.status).toBe('concluded'));
    await harness.finish(atOnce);

    const reviewed = await harness.start(await harness.input('REF-4003'));
    const allocated = await allocate(harness, reviewed);
    await decide(reviewed, openPrompt(allocated, 'supervision-review').promptId, 'strategy-discussion', now);
    await harness.eventually(async () => expect((await state(reviewed)).strategyDiscussions[0]).toMatchObject({ status: 'running', cause: 'supervision-review' }));
    await env.client.workflow.getHandle(strategyDiscussionWorkflowId('REF-4003', 'C-1', 1)).signal(concludeDoubleSignal, { outcome: 'no-section-47', heldAt: iso(now) });
    await harness.eventually(async () => expect((await state(reviewed)).strategyDiscussions[0]?.status).toBe('concluded'));
    await harness.finish(reviewed);

    const signedOff = await harness.start(await harness.input('REF-4004'));
    await allocate(harness, signedOff);
    await doFieldwork(harness, signedOff);
    await send(signedOff, { type: 'assessment-submitted' }, now);
    await decide(signedOff, openPrompt(await state(signedOff), 'sign-off').promptId, 'sign-off', now, {
      outcome: 'strategy-discussion',
      determinations: { childInNeed: true, significantHarmSuspected: true, accommodationNeeded: false },
      checklist: allMet(),
      primaryNeedCode: 'N1',
      assessmentFactors: ['16A'],
    });
    const after = await harness.eventually(async () => {
      const current = await state(signedOff);
      expect(current.strategyDiscussions[0]).toMatchObject({ status: 'running', cause: 'sign-off-outcome' });
      return current;
    });
    expect(after.outcome).toBe('strategy-discussion');
    await env.client.workflow.getHandle(strategyDiscussionWorkflowId('REF-4004', 'C-1', 1)).signal(concludeDoubleSignal, { outcome: 'section-47-enquiry', heldAt: iso(now) });
    await harness.eventually(async () => expect((await state(signedOff)).strategyDiscussions[0]?.status).toBe('concluded'));

    // new information after completion may call another, on top of the completed record.
    await send(signedOff, { type: 'new-information' }, await harness.now());
    await decide(signedOff, openPrompt(await state(signedOff), 'duty-decision').promptId, 'strategy-discussion', await harness.now());
    const reopened = await harness.eventually(async () => {
      const current = await state(signedOff);
      expect(current.strategyDiscussions[1]).toMatchObject({ sequence: 2, status: 'running', cause: 'new-information' });
      return current;
    });
    expect(reopened.outcome).toBe('strategy-discussion');
    expect(reopened.subsequentDecisions.map((d) => d.decision)).toEqual(['strategy-discussion']);
    await env.client.workflow.getHandle(strategyDiscussionWorkflowId('REF-4004', 'C-1', 2)).signal(concludeDoubleSignal, { outcome: 'no-section-47', heldAt: iso(now) });
    await harness.eventually(async () => expect((await state(signedOff)).strategyDiscussions[1]?.status).toBe('concluded'));
    await harness.finish(signedOff);
  });
});
