import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watchOpenPrompts } from '../../api/prompt-metrics';
import { startMetricsEndpoint, type MetricsEndpoint } from '../../common/metrics-endpoint';
import { referralWorkflowId } from '../../domain/ids';
import { eventually, newReferralId, referralBody, startApi, type ApiUnderTest } from '../api/support';
import { samples, scrape, total } from '../support/prometheus';
import { coreMetrics } from '../support/temporal';

/**
 * Issue 16: the API's request latency is labelled by route pattern, never by a URL with ids
 * in it; the open prompts are counted by kind and team from visibility; and the one
 * metrics endpoint serves Core's worker metrics and the engine's own together.
 */
const DURATION = 'assessments_api_request_duration_seconds';
let api: ApiUnderTest;
let endpoint: MetricsEndpoint;

beforeAll(async () => {
  api = await startApi();
  watchOpenPrompts(api.harness.client);
  endpoint = await startMetricsEndpoint({ host: '127.0.0.1', port: 0, coreMetricsUrl: coreMetrics.url });
});
afterAll(async () => {
  await endpoint?.close();
  await api?.stop();
});

describe('API request metrics', () => {
  it('labels a request with the route pattern it matched, never the ids in its URL; a path no route matched is `unmatched`', async () => {
    const manager = await api.token('manager', 'MGR-1');
    const referralId = newReferralId();
    const promptId = `${referralWorkflowId(referralId)}~duty-decision-1`;
    // Unauthenticated (401), and an unknown case (404), at two routes with ids in their paths.
    expect((await api.call('POST', `/v1/prompts/${promptId}/decision`, { body: { decision: 'no-further-action', rationale: 'r' } })).status).toBe(401);
    expect((await api.call('GET', `/v1/referrals/${referralId}`, { token: manager })).status).toBe(404);
    expect((await api.call('GET', `/v1/no-such-route/${referralId}`)).status).toBe(404);

    const text = await scrape(endpoint.url);
    const counts = samples(text).filter((sample) => sample.name === `${DURATION}_count`);
    expect(counts.find((sample) => sample.labels.route === '/v1/prompts/:promptId/decision')?.labels).toMatchObject({ method: 'POST', status: '401' });
    expect(counts.find((sample) => sample.labels.route === '/v1/referrals/:referralId')?.labels).toMatchObject({ method: 'GET', status: '404' });
    expect(total(text, `${DURATION}_count`, { route: 'unmatched', method: 'GET', status: '404' })).toBeGreaterThanOrEqual(1);
    // No referral, workflow or prompt id anywhere in the endpoint's text.
    expect(text).not.toContain(referralId);
    expect(counts.every((sample) => !/REF-/.test(sample.labels.route ?? ''))).toBe(true);
  });
});

describe('the metrics endpoint', () => {
  it("serves Temporal Core's worker metrics and the engine's own on one /metrics, and nothing else", async () => {
    const text = await scrape(endpoint.url);
    expect(text).toMatch(/^temporal_worker_task_slots_available\{/m);
    expect(text).toMatch(/^assessments_worker_metrics_up 1$/m);
    expect(text).toMatch(/^# TYPE assessments_api_request_duration_seconds histogram$/m);
    expect((await fetch(endpoint.url.replace('/metrics', '/'))).status).toBe(404);
  });

  it('counts open prompts by kind and team, with the oldest due time, from visibility', async () => {
    const team = `TM${Date.now().toString(36).toUpperCase()}`;
    const system = await api.token('system', 'SYS-1');
    const referralId = newReferralId();
    expect((await api.call('POST', '/v1/referrals', { token: system, body: referralBody(referralId, { team }) })).status).toBe(201);
    const labels = { kind: 'duty-decision', team };
    // The listing is cached for 30 s; a new watch starts afresh, as a restarted process would.
    const text = await eventually(async () => {
      watchOpenPrompts(api.harness.client);
      const current = await scrape(endpoint.url);
      return total(current, 'assessments_prompts_open', labels) === 1 ? current : undefined;
    }, 30_000);
    const oldestDue = total(text, 'assessments_prompt_oldest_due_timestamp_seconds', labels);
    // The duty decision is due one working day after the referral: within the next week.
    expect(oldestDue).toBeGreaterThan(Date.now() / 1000);
    expect(oldestDue).toBeLessThan(Date.now() / 1000 + 7 * 86_400);
    expect(total(text, 'assessments_prompt_metrics_truncated')).toBe(0);
    expect(text).not.toContain(referralId);
    // The referral's workflow tasks ran on this process's worker: Core's schedule-to-start
    // histogram, in seconds, with buckets around the 5 s alert (worker/telemetry.ts).
    const scheduleToStart = await eventually(async () => {
      const current = await scrape(endpoint.url);
      return total(current, 'temporal_workflow_task_schedule_to_start_latency_count') > 0 ? current : undefined;
    });
    expect(total(scheduleToStart, 'temporal_workflow_task_schedule_to_start_latency_bucket', { le: '7.5' })).toBeGreaterThan(0);
  });
});
