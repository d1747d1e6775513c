import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { dataConverter } from '../../common/temporal';
import { AssessmentHarness, useTimeSkippingHarness } from '../support/assessment-harness';
import { testCodec } from '../support/payload-keys';
import { assessmentSignedOff, dutyDecisionRepeated, referralClosedAtDutyDecision, section47WithConference, strategyDiscussionFromDutyDecision, type ScenarioRun } from './scenarios';

/**
 * Complete runs, start to end, replayed at once on the same code. With
 * RECORD_HISTORIES=1 (`npm run record-histories`) their histories are also written as
 * replay fixtures: encrypted with the test-only key, like real data.
 */
const fixturesDir = resolve(__dirname, '..', 'fixtures', 'histories');

let harness: AssessmentHarness;
useTimeSkippingHarness((ready) => ({ harness } = ready));

async function replayAndKeep(run: ScenarioRun): Promise<void> {
  for (const { workflowId, history } of run.histories) {
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: dataConverter(testCodec()) }, history, workflowId);
  }
  if (process.env.RECORD_HISTORIES === '1') {
    mkdirSync(fixturesDir, { recursive: true });
    for (const { workflowId, kind, history } of run.histories) {
      // protobufjs's own object form (enums as names, bytes as base64): what replay.test.ts reads back.
      const json = temporal.api.history.v1.History.toObject(temporal.api.history.v1.History.fromObject(history), { longs: String, enums: String, bytes: String });
      writeFileSync(join(fixturesDir, `${run.name}.${kind}.json`), `${JSON.stringify({ workflowId, history: json }, null, 1)}\n`);
    }
  }
}

describe('complete runs', () => {
  it('R-1 a referral closed at its duty decision runs to the end and replays', async () => {
    const run = await referralClosedAtDutyDecision(harness);
    expect(run.results.referral).toMatchObject({ stage: 'closed', dutyDecision: { decision: 'early-help' } });
    await replayAndKeep(run);
  });

  it('R-1 a duty decision repeated under its Idempotency-Key is answered from the record, nothing written, and replays', async () => {
    const run = await dutyDecisionRepeated(harness);
    expect(run.results.accepted).toMatchObject({ accepted: true, duplicate: false, decision: { decision: 'single-assessment', decidedBy: 'MGR-1' } });
    expect(run.results.repeat).toMatchObject({ type: 'decision-repeated', details: { decision: { decision: 'single-assessment', decidedBy: 'MGR-1' } } });
    expect(run.results.reused).toBe('idempotency-key-reused');
    expect(run.results.another).toBe('prompt-closed');
    const updates = run.histories[0]!.history.events?.filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes) ?? [];
    expect(updates).toHaveLength(1);
    await replayAndKeep(run);
  });

  it('R-21 a section 17 assessment from referral to sign-off, through a late visit and the review window, runs to the end and replays', async () => {
    const run = await assessmentSignedOff(harness);
    expect(run.results.assessment).toMatchObject({ childRef: 'C-1', stage: 'completed', outcome: 'child-in-need-plan' });
    expect(run.results.plan).toMatchObject({ status: 'closed', reasonForClosure: 'RC7' });
    expect(run.results.referral).toMatchObject({ stage: 'closed', assessments: [{ childRef: 'C-1', status: 'completed' }] });
    await replayAndKeep(run);
  });

  it('R-27 a strategy discussion with a section 47 enquiry and a late conference runs to the end and replays', async () => {
    const run = await section47WithConference(harness);
    expect(run.results.strategyDiscussion).toMatchObject({ outcome: 'section-47-enquiry', section47: { outcome: 'initial-child-protection-conference' } });
    expect(run.results.conferenceOverdue).toBe(true);
    await replayAndKeep(run);
  });

  it('R-13 a strategy discussion called by the duty decision, a late allocation, a child seen before the enquiry and a sign-off run to the end and replay', async () => {
    const run = await strategyDiscussionFromDutyDecision(harness);
    expect(run.results.strategyDiscussion).toMatchObject({ outcome: 'section-47-enquiry', section47: { outcome: 'child-in-need-plan' } });
    expect(run.results.assessment).toMatchObject({ stage: 'completed', outcome: 'child-in-need-plan' });
    expect(run.results.referral).toMatchObject({ stage: 'closed' });
    await replayAndKeep(run);
  });
});
