import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { referralWorkflowId } from '../../domain/ids';
import type { ReferralRequest } from '../../domain/referral';
import { stateQuery } from '../../workflows/messages';
import { referralWorkflow, type ReferralState } from '../../workflows/referral';
import { AssessmentHarness, bornYearsAgo, DAY_MS, HOUR_MS, iso, useTimeSkippingHarness } from '../support/assessment-harness';
import { scrape, total } from '../support/prometheus';
import { coreMetrics } from '../support/temporal';

/**
 * Issue 16: a deadline's lag appears in the metric. The workflow records it with the SDK's
 * workflow `metricMeter` (workflows/metrics.ts); this process's Runtime exports it through
 * Temporal Core's Prometheus exporter (test/support/temporal.ts), which is scraped here.
 */
let env: TestWorkflowEnvironment;
let harness: AssessmentHarness;
useTimeSkippingHarness((ready) => ({ env, harness } = ready));

// Core does not prefix a workflow's own metrics with `temporal_`.
const LAG = 'assessments_deadline_lag_seconds';
const dutyDecision = { deadline: 'duty-decision' };

async function startReferral(receivedAgoMs: number) {
  const referralId = `REF-LAG-${Date.now().toString(36)}-${receivedAgoMs}`;
  const request: ReferralRequest = {
    referralId,
    receivedAt: iso((await harness.now()) - receivedAgoMs),
    referrerType: 'education',
    childProtectionConcern: false,
    team: 'TEAM-1',
    managerId: 'MGR-1',
    children: [{ childRef: 'C-1', dateOfBirth: bornYearsAgo(11) }],
  };
  return env.client.workflow.start(referralWorkflow, { workflowId: referralWorkflowId(referralId), taskQueue: harness.taskQueue, args: [request] });
}

/** The lag histogram's count and sum for the duty decision, once its count passes `above`. */
async function lagAfter(above: number): Promise<{ count: number; sum: number; text: string }> {
  return harness.eventually(async () => {
    const text = await scrape(coreMetrics.url);
    const count = total(text, `${LAG}_count`, dutyDecision);
    if (count <= above) throw new Error(`${LAG}_count{deadline="duty-decision"} is ${count}`);
    return { count, sum: total(text, `${LAG}_sum`, dutyDecision), text };
  });
}

describe('deadline lag metric', () => {
  it("records the duty decision's deadline when its timer fires, labelled by the deadline's kind and never its id", async () => {
    const before = total(await scrape(coreMetrics.url), `${LAG}_count`, dutyDecision);
    const handle = await startReferral(0);
    const state = await harness.eventually(async () => {
      const current = (await handle.query(stateQuery)) as ReferralState;
      if (!current.dutyDecisionDueAt) throw new Error('no duty decision deadline yet');
      return current;
    });
    await env.sleep(Date.parse(state.dutyDecisionDueAt!) - (await harness.now()) + HOUR_MS);
    const { count, text } = await lagAfter(before);
    expect(count).toBeGreaterThanOrEqual(1);
    // One bucket series per boundary, all labelled by kind: no workflow, referral or prompt id.
    const series = text.split('\n').filter((line) => line.startsWith(LAG));
    expect(series.length).toBeGreaterThan(0);
    for (const line of series) expect(line).not.toContain('REF-LAG');
  });

  it('counts a deadline set already past due (a back-dated referral) from when it was set, not from its due time', async () => {
    const before = await lagAfter(0);
    // Received 5 days ago: the duty decision was due days before the workflow started.
    await startReferral(5 * DAY_MS);
    const after = await lagAfter(before.count);
    expect(after.sum - before.sum).toBeLessThan(60);
  });
});
