import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devServerHarness } from '../support/temporal';
import { eventually, newReferralId, referralBody, startApi, type ApiUnderTest } from './support';

/**
 * Issue 16 item 5: a decision is retry-safe with the Idempotency-Key header. The key lives
 * in the workflow with the answer, so a repeat is recognised by another API process and
 * after the worker has restarted and replayed the case, and even once the decision has
 * closed its workflow.
 */
let api: ApiUnderTest;
let system: string;
let manager: string;
let otherManager: string;
const team = `T${Date.now().toString(36).toUpperCase()}R`;

type Answer = { accepted: boolean; promptId: string; duplicate: boolean; decision: { decision: string; decidedBy: string; decidedAt: string }; state: { stage: string; record: Array<{ source: string; status: string }> } };
type Refusal = { error: string; message: string; issues?: Array<{ path: string; message: string }> };

beforeAll(async () => {
  api = await startApi();
  system = await api.token('system', 'SYS-1');
  manager = await api.token('manager', 'MGR-1', team);
  otherManager = await api.token('manager', 'MGR-3', team);
});
afterAll(async () => api?.stop());

async function startReferral(on: ApiUnderTest = api): Promise<{ referralId: string; promptId: string }> {
  const referralId = newReferralId();
  const started = await on.call('POST', '/v1/referrals', { token: system, body: referralBody(referralId, { team, managerId: 'MGR-1' }) });
  expect(started.status).toBe(201);
  await eventually(async () => ((await on.call('GET', `/v1/referrals/${referralId}`, { token: manager })).status === 200 ? true : undefined));
  return { referralId, promptId: `referral-${referralId}~duty-decision-1` };
}

function decide(on: ApiUnderTest, promptId: string, body: Record<string, unknown>, options: { key?: string; token?: string } = {}): Promise<Response> {
  return on.call('POST', `/v1/prompts/${promptId}/decision`, {
    token: options.token ?? manager,
    body,
    ...(options.key === undefined ? {} : { headers: { 'idempotency-key': options.key } }),
  });
}

async function json<T>(answer: Response, status: number): Promise<T> {
  const text = await answer.text();
  expect(answer.status, text).toBe(status);
  return JSON.parse(text) as T;
}

const appliedDecisions = (state: Answer['state']) => state.record.filter((entry) => entry.source === 'decision' && entry.status === 'applied').length;

describe('decisions with an Idempotency-Key', () => {
  it('a repeat with the same key and body answers 200 with the decision recorded the first time, and writes nothing', async () => {
    const { referralId, promptId } = await startReferral();
    const key = `IK-${referralId}`;
    // No decidedAt: the API dates it now, so only the key can tell the repeat's from the first's.
    const body = { decision: 'single-assessment', rationale: 'needs assessing' };
    const first = await json<Answer>(await decide(api, promptId, body, { key }), 200);
    expect(first).toMatchObject({ accepted: true, promptId, duplicate: false, decision: { decision: 'single-assessment', decidedBy: 'MGR-1' } });
    await new Promise((resolve) => setTimeout(resolve, 20));

    const repeat = await json<Answer>(await decide(api, promptId, body, { key }), 200);
    expect(repeat).toMatchObject({ accepted: true, promptId, duplicate: true });
    expect(repeat.decision).toEqual(first.decision);
    expect(Object.keys(repeat).sort()).toEqual(Object.keys(first).sort());
    // Key order and a rationale's surrounding spaces are not a different body.
    const reordered = await json<Answer>(await decide(api, promptId, { rationale: ' needs assessing ', decision: 'single-assessment' }, { key }), 200);
    expect(reordered.duplicate).toBe(true);

    const state = await json<Answer['state']>(await api.call('GET', `/v1/referrals/${referralId}`, { token: manager }), 200);
    expect(appliedDecisions(state)).toBe(1);
    // The repeats were refused by the update's validator: the history holds one update.
    const raw = await json<{ events: Array<{ type: string }> }>(await api.call('GET', `/v1/assessments/referral-${referralId}/history?format=raw`, { token: manager }), 200);
    expect(raw.events.filter((event) => event.type === 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED')).toHaveLength(1);
  });

  it('a different answer to the answered prompt is 409; the same key with another body or from another caller is 422 naming the key', async () => {
    const { referralId, promptId } = await startReferral();
    const key = `IK-${referralId}`;
    const body = { decision: 'single-assessment', rationale: 'needs assessing', decidedAt: new Date().toISOString() };
    await json<Answer>(await decide(api, promptId, body, { key }), 200);

    // Another decision, under its own key or none: the prompt is closed, as before.
    expect(await json<Refusal>(await decide(api, promptId, { decision: 'early-help', rationale: 'second thoughts' }, { key: `${key}-2` }), 409)).toMatchObject({ error: 'prompt-closed' });
    // Without the header even the identical body is 409: nothing says it is the same request.
    expect(await json<Refusal>(await decide(api, promptId, body), 409)).toMatchObject({ error: 'prompt-closed' });

    const otherBody = await json<Refusal>(await decide(api, promptId, { ...body, rationale: 'needs assessing now' }, { key }), 422);
    expect(otherBody.error).toBe('idempotency-key-reused');
    expect(otherBody.message).toContain(`Idempotency-Key ${key}`);
    expect(otherBody.issues).toEqual([{ path: 'Idempotency-Key', message: expect.stringContaining('different request') }]);
    const otherAnswer = await json<Refusal>(await decide(api, promptId, { ...body, decision: 'early-help' }, { key }), 422);
    expect(otherAnswer.error).toBe('idempotency-key-reused');
    // The same body from another manager is not their decision to have repeated.
    const otherCaller = await json<Refusal>(await decide(api, promptId, body, { key, token: otherManager }), 422);
    expect(otherCaller.error).toBe('idempotency-key-reused');

    const state = await json<Answer['state']>(await api.call('GET', `/v1/referrals/${referralId}`, { token: manager }), 200);
    expect(appliedDecisions(state)).toBe(1);
  });

  it('a malformed key is refused (400, naming the header); a refused decision leaves its key free for the corrected one', async () => {
    const { referralId, promptId } = await startReferral();
    for (const bad of ['has space', 'x'.repeat(256)]) {
      const refused = await json<Refusal>(await decide(api, promptId, { decision: 'early-help', rationale: 'r' }, { key: bad }), 400);
      expect(refused.issues?.map((issue) => issue.path)).toEqual(['Idempotency-Key']);
    }
    const key = `IK-${referralId}`;
    const notAllowed = await json<Refusal>(await decide(api, promptId, { decision: 'sign-off', rationale: 'wrong prompt' }, { key }), 422);
    expect(notAllowed.error).toBe('decision-not-allowed');
    const corrected = await json<Answer>(await decide(api, promptId, { decision: 'single-assessment', rationale: 'needs assessing' }, { key }), 200);
    expect(corrected.duplicate).toBe(false);
  });

  it('a repeat reaches another API process after the worker has restarted and replayed the case, and still answers 200', async () => {
    const firstHarness = await devServerHarness();
    const firstApi = await startApi({ harness: firstHarness });
    const { referralId, promptId } = await startReferral(firstApi);
    const key = `IK-${referralId}`;
    const body = { decision: 'single-assessment', rationale: 'needs assessing' };
    const first = await json<Answer>(await decide(firstApi, promptId, body, { key }), 200);
    // The answer is lost; the API and the worker go down.
    await firstApi.stop();
    await firstHarness.stop();

    const secondHarness = await devServerHarness({ taskQueue: firstHarness.taskQueue });
    const secondApi = await startApi({ harness: secondHarness });
    try {
      const repeat = await json<Answer>(await decide(secondApi, promptId, body, { key }), 200);
      expect(repeat).toMatchObject({ duplicate: true, decision: first.decision });
      expect(await json<Refusal>(await decide(secondApi, promptId, { ...body, rationale: 'changed' }, { key }), 422)).toMatchObject({ error: 'idempotency-key-reused' });
    } finally {
      await secondApi.stop();
      await secondHarness.stop();
    }
  });

  it('a repeat of a decision that closed its referral answers 200 from the closed workflow; another request under its key is 422, another answer 409', async () => {
    const { referralId, promptId } = await startReferral();
    const key = `IK-${referralId}`;
    const body = { decision: 'no-further-action', rationale: 'needs met by universal services' };
    const first = await json<Answer>(await decide(api, promptId, body, { key }), 200);
    await eventually(async () => ((await api.harness.client.workflow.getHandle(`referral-${referralId}`).describe()).status.name === 'COMPLETED' ? true : undefined));

    const repeat = await json<Answer>(await decide(api, promptId, body, { key }), 200);
    expect(repeat).toMatchObject({ accepted: true, promptId, duplicate: true, decision: first.decision, state: { stage: 'closed' } });
    expect(await json<Refusal>(await decide(api, promptId, { ...body, rationale: 'changed' }, { key }), 422)).toMatchObject({ error: 'idempotency-key-reused' });
    expect(await json<Refusal>(await decide(api, promptId, { decision: 'early-help', rationale: 'second thoughts' }, { key: `${key}-2` }), 409)).toMatchObject({ error: 'prompt-closed' });
    expect(await json<Refusal>(await decide(api, promptId, body), 409)).toMatchObject({ error: 'prompt-closed' });
  });
});
