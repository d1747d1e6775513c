import { createServer, type AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../domain/events';
import { eventSignal, OPEN_PROMPTS_MEMO } from '../../workflows/messages';
import { consentEvent, newReferralId, referralBody, startApi, type ApiUnderTest } from './support';

let api: ApiUnderTest;
let system: string;
let worker: string;
let manager: string;

beforeAll(async () => {
  api = await startApi();
  system = await api.token('system', 'SYS-1');
  worker = await api.token('social_worker', 'SW-1');
  manager = await api.token('manager', 'MGR-1');
});
afterAll(async () => api?.stop());

describe('POST /v1/referrals', () => {
  it('starts a referral (201), answers a retry with the same body 200 and the same result, and a different body 409', async () => {
    const referralId = newReferralId();
    const first = await api.call('POST', '/v1/referrals', { token: system, body: referralBody(referralId) });
    expect(first.status).toBe(201);
    const result = await first.json();
    expect(result).toEqual({ referralId, workflowId: `referral-${referralId}` });

    // The same body with its keys in another order is the same referral.
    const reordered = Object.fromEntries(Object.entries(referralBody(referralId)).reverse());
    const again = await api.call('POST', '/v1/referrals', { token: system, body: reordered });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(result);

    const different = await api.call('POST', '/v1/referrals', { token: system, body: referralBody(referralId, { childProtectionConcern: true }) });
    expect(different.status).toBe(409);
    expect(await different.json()).toMatchObject({ error: 'referral-conflict' });

    // The memo holds only a hash of the body, never the body (and, once the referral has run
    // its first task, its open prompts, which the inbox reads: a race this test once lost).
    const description = await api.harness.client.workflow.getHandle(`referral-${referralId}`).describe();
    expect(Object.keys(description.memo ?? {}).filter((key) => key !== OPEN_PROMPTS_MEMO)).toEqual(['inputSha256']);
    expect(description.memo?.inputSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('starts one workflow when ten retries arrive at once: one 201, nine 200', async () => {
    const referralId = newReferralId();
    const answers = await Promise.all(Array.from({ length: 10 }, () => api.call('POST', '/v1/referrals', { token: system, body: referralBody(referralId) })));
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    const runs = [];
    for await (const run of api.harness.client.workflow.list({ query: `WorkflowId = 'referral-${referralId}'` })) runs.push(run);
    expect(runs).toHaveLength(1);
  });

  it('accepts a receivedAt in the past', async () => {
    const referralId = newReferralId();
    // Back-dated by more than a year (a migrated case), relative to now.
    const receivedAt = new Date(Date.now() - 400 * 86_400_000).toISOString();
    const answer = await api.call('POST', '/v1/referrals', { token: system, body: referralBody(referralId, { receivedAt }) });
    expect(answer.status).toBe(201);
  });

  it('refuses a receivedAt or occurredAt in the future (beyond 5 minutes of clock skew) with 422 naming the field (well-formed, refused for its meaning)', async () => {
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
    const referralId = newReferralId();
    const refused = await api.call('POST', '/v1/referrals', { token: system, body: referralBody(referralId, { receivedAt: tomorrow }) });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { issues: Array<{ path: string }> }).issues.map((issue) => issue.path)).toEqual(['receivedAt']);
    // A little skew is fine.
    const skewed = new Date(Date.now() + 60_000).toISOString();
    expect((await api.call('POST', '/v1/referrals', { token: system, body: referralBody(referralId, { receivedAt: skewed }) })).status).toBe(201);
    const event = { ...consentEvent('EV-FUTURE-1'), occurredAt: tomorrow, recordedAt: tomorrow };
    const refusedEvent = await api.call('POST', `/v1/referrals/${referralId}/events`, { token: system, body: event });
    expect(refusedEvent.status).toBe(422);
    expect(((await refusedEvent.json()) as { issues: Array<{ path: string }> }).issues.map((issue) => issue.path)).toEqual(['occurredAt', 'recordedAt']);
  });

  it('refuses an invalid referral with 400 listing every invalid field', async () => {
    const answer = await api.call('POST', '/v1/referrals', {
      token: system,
      body: { referralId: 'Jane Smith', receivedAt: 'yesterday', referrerType: 'neighbour', childProtectionConcern: 'yes', children: [], extra: 1 },
    });
    expect(answer.status).toBe(400);
    const body = (await answer.json()) as { error: string; issues: Array<{ path: string; message: string }> };
    expect(body.error).toBe('invalid-request');
    expect(body.issues.map((issue) => issue.path)).toEqual(
      expect.arrayContaining(['referralId', 'receivedAt', 'referrerType', 'childProtectionConcern', 'children', '(body)']),
    );
    for (const issue of body.issues) expect(issue.message.length).toBeGreaterThan(0);
  });

  it('answers 400 to malformed JSON and 413 to a body over 100kb', async () => {
    const malformed = await api.call('POST', '/v1/referrals', { token: system, rawBody: '{"referralId":' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: 'invalid-json' });
    const huge = await api.call('POST', '/v1/referrals', { token: system, rawBody: JSON.stringify({ padding: 'x'.repeat(110 * 1024) }) });
    expect(huge.status).toBe(413);
  });
});

describe('events', () => {
  it('takes an event (202, not a duplicate) and a retry of it (202, duplicate)', async () => {
    const referralId = newReferralId();
    expect((await api.call('POST', '/v1/referrals', { token: system, body: referralBody(referralId) })).status).toBe(201);
    const first = await api.call('POST', `/v1/referrals/${referralId}/events`, { token: worker, body: consentEvent('EV-1') });
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ accepted: true, duplicate: false });
    const retry = await api.call('POST', `/v1/referrals/${referralId}/events`, { token: system, body: consentEvent('EV-1') });
    expect(retry.status).toBe(202);
    expect(await retry.json()).toEqual({ accepted: true, duplicate: true });
  });

  it('applies the same event sent 20 times at once exactly once: 19 answers say duplicate', async () => {
    const referralId = newReferralId();
    expect((await api.call('POST', '/v1/referrals', { token: system, body: referralBody(referralId) })).status).toBe(201);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => api.call('POST', `/v1/referrals/${referralId}/events`, { token: system, body: consentEvent('EV-20') })),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(202));
    const bodies = (await Promise.all(answers.map((answer) => answer.json()))) as Array<{ duplicate: boolean }>;
    expect(bodies.filter((body) => body.duplicate)).toHaveLength(19);
    expect(bodies.filter((body) => !body.duplicate)).toHaveLength(1);

    const state = (await (await api.call('GET', `/v1/referrals/${referralId}`, { token: manager })).json()) as { record: Array<{ ref?: string }> };
    expect(state.record.filter((entry) => entry.ref === 'EV-20')).toHaveLength(1);
  });

  it('shares its de-duplication with the event signal: an event first signalled is a duplicate through the API', async () => {
    const referralId = newReferralId();
    expect((await api.call('POST', '/v1/referrals', { token: system, body: referralBody(referralId) })).status).toBe(201);
    await api.harness.client.workflow.getHandle(`referral-${referralId}`).signal(eventSignal, consentEvent('EV-SIG-1') as DomainEvent);
    const answer = await api.call('POST', `/v1/referrals/${referralId}/events`, { token: worker, body: consentEvent('EV-SIG-1') });
    expect(await answer.json()).toEqual({ accepted: true, duplicate: true });
  });

  it('answers 404 for an unknown referral or assessment', async () => {
    const unknownReferral = await api.call('POST', `/v1/referrals/REF-NOPE-404/events`, { token: system, body: consentEvent('EV-404') });
    expect(unknownReferral.status).toBe(404);
    const unknownAssessment = await api.call('POST', `/v1/assessments/assessment-REF-NOPE-404-C-1/events`, { token: system, body: consentEvent('EV-404') });
    expect(unknownAssessment.status).toBe(404);
  });

  it('refuses an invalid event with 400 listing every invalid field', async () => {
    const referralId = newReferralId();
    expect((await api.call('POST', '/v1/referrals', { token: system, body: referralBody(referralId) })).status).toBe(201);
    const answer = await api.call('POST', `/v1/referrals/${referralId}/events`, {
      token: system,
      body: { type: 'child-seen', eventId: 'x', occurredAt: 'soon', actor: 'Jane', seenAlone: false, viewsRecorded: 'yes' },
    });
    expect(answer.status).toBe(400);
    const body = (await answer.json()) as { issues: Array<{ path: string }> };
    expect(body.issues.map((issue) => issue.path)).toEqual(expect.arrayContaining(['eventId', 'occurredAt', 'actor', 'viewsRecorded']));
  });

  it('refuses a malformed id in the path with 400 naming it', async () => {
    const answer = await api.call('GET', '/v1/referrals/Jane%20Smith', { token: manager });
    expect(answer.status).toBe(400);
    const body = (await answer.json()) as { issues: Array<{ path: string }> };
    expect(body.issues.length).toBeGreaterThan(0);
    expect(new Set(body.issues.map((issue) => issue.path))).toEqual(new Set(['referralId']));
  });
});

describe('state', () => {
  it('answers the state of a referral and 404 for an unknown one', async () => {
    const referralId = newReferralId();
    await api.call('POST', '/v1/referrals', { token: system, body: referralBody(referralId) });
    const state = await api.call('GET', `/v1/referrals/${referralId}`, { token: worker });
    expect(state.status).toBe(200);
    expect(await state.json()).toMatchObject({ referralId, stage: 'awaiting-duty-decision' });
    expect((await api.call('GET', '/v1/referrals/REF-NOPE-405', { token: worker })).status).toBe(404);
    expect((await api.call('GET', '/v1/assessments/assessment-REF-NOPE-405-C-1', { token: worker })).status).toBe(404);
  });
});

describe('HTTP hygiene', () => {
  it('echoes a request id (or makes one), sets security headers, and logs no bodies', async () => {
    const referralId = newReferralId();
    const answer = await api.call('POST', '/v1/referrals', { token: system, body: referralBody(referralId, { team: 'TEAM-77' }), headers: { 'x-request-id': 'req-abc-123' } });
    expect(answer.headers.get('x-request-id')).toBe('req-abc-123');
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    expect(answer.headers.get('content-security-policy')).toBeTruthy();
    expect(answer.headers.get('x-powered-by')).toBeNull();
    const generated = await api.call('GET', '/healthz');
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const line = api.logLines().find((entry) => entry.requestId === 'req-abc-123');
    expect(line).toMatchObject({ method: 'POST', route: '/v1/referrals', status: 201, sub: 'SYS-1' });
    expect(typeof line?.durationMs).toBe('number');
    const logText = JSON.stringify(api.logLines());
    expect(logText).not.toContain('TEAM-77');
    expect(logText).not.toContain('childProtectionConcern');
  });

  it('says Temporal is reachable on /healthz, and 503 when it is not', async () => {
    const answer = await api.call('GET', '/healthz');
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ status: 'ok', temporal: 'reachable' });

    // A client whose server is not there (a port nothing listens on).
    const closed = createServer();
    await new Promise<void>((ready) => closed.listen(0, '127.0.0.1', ready));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    const unreachable = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${port}` }), namespace: 'default' });
    const cut = await startApi({ harness: api.harness, client: unreachable });
    try {
      const down = await cut.call('GET', '/healthz');
      expect(down.status).toBe(503);
      expect(await down.json()).toEqual({ status: 'degraded', temporal: 'unreachable' });
    } finally {
      await cut.stop();
    }
  });
});
