/**
 * Hostile input through the API (issue item 8): a repeated event is answered 202 duplicate
 * without being written, a case takes only so many events an hour (429 with when to retry),
 * and event lists are bounded (400).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referralWorkflowId } from '../../domain/ids';
import { EVENT_LIST_LIMITS } from '../../domain/events';
import { EVENT_WRITE_LIMITS } from '../../workflows/engine';
import { consentEvent, newReferralId, referralBody, startApi, type ApiUnderTest } from './support';

let api: ApiUnderTest;
let system: string;

beforeAll(async () => {
  // The per-caller limit of the API is not what is tested here.
  api = await startApi({ rateLimit: { windowMs: 60_000, limit: 10_000 } });
  system = await api.token('system', 'SYS-1');
});
afterAll(async () => api?.stop());

async function newReferral(): Promise<string> {
  const referralId = newReferralId();
  expect((await api.call('POST', '/v1/referrals', { token: system, body: referralBody(referralId) })).status).toBe(201);
  return referralId;
}

const acceptedUpdates = async (referralId: string) =>
  ((await api.harness.client.workflow.getHandle(referralWorkflowId(referralId)).fetchHistory()).events ?? []).filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes).length;

describe('events: hostile input', () => {
  it('answers a repeated event 202 duplicate, and writes it to the history once', async () => {
    const referralId = await newReferral();
    const first = await api.call('POST', `/v1/referrals/${referralId}/events`, { token: system, body: consentEvent('EV-ONCE-1') });
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ accepted: true, duplicate: false });
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const retry = await api.call('POST', `/v1/referrals/${referralId}/events`, { token: system, body: consentEvent('EV-ONCE-1') });
      expect(retry.status).toBe(202);
      expect(await retry.json()).toEqual({ accepted: true, duplicate: true });
    }
    expect(await acceptedUpdates(referralId)).toBe(1);
  });

  it(`answers 429 too-many-events, with Retry-After, once a case has taken ${EVENT_WRITE_LIMITS.perHour} events in an hour; a retry of one taken is still 202 duplicate`, async () => {
    const referralId = await newReferral();
    for (let index = 1; index <= EVENT_WRITE_LIMITS.perHour; index += 1) {
      const answer = await api.call('POST', `/v1/referrals/${referralId}/events`, { token: system, body: consentEvent(`EV-HOUR-${index}`) });
      expect(answer.status).toBe(202);
    }
    const over = await api.call('POST', `/v1/referrals/${referralId}/events`, { token: system, body: consentEvent('EV-HOUR-9999') });
    expect(over.status).toBe(429);
    const body = (await over.json()) as { error: string; message: string; retryAfterSeconds: number; limit: number };
    expect(body).toMatchObject({ error: 'too-many-events', limit: EVENT_WRITE_LIMITS.perHour });
    expect(body.message).toMatch(/in the last hour/);
    expect(body.retryAfterSeconds).toBeGreaterThan(0);
    expect(over.headers.get('retry-after')).toBe(String(body.retryAfterSeconds));
    const retry = await api.call('POST', `/v1/referrals/${referralId}/events`, { token: system, body: consentEvent('EV-HOUR-1') });
    expect(retry.status).toBe(202);
    expect(await retry.json()).toEqual({ accepted: true, duplicate: true });
    expect(await acceptedUpdates(referralId)).toBe(EVENT_WRITE_LIMITS.perHour);
    // The case is not harmed: it still answers.
    expect((await api.call('GET', `/v1/referrals/${referralId}`, { token: system })).status).toBe(200);
  }, 120_000);

  it('refuses event lists beyond their bounds with 400 naming the field', async () => {
    const base = { eventId: 'EV-LIST-1', occurredAt: new Date(Date.now() - 60_000).toISOString(), actor: 'SW-1' };
    // A case in scope: one that does not exist (or is out of scope) answers 404 before its body is read.
    const path = `/v1/referrals/${await newReferral()}/events`;
    const sources = await api.call('POST', path, {
      token: system,
      body: { ...base, type: 'analysis-completed', sources: Array.from({ length: EVENT_LIST_LIMITS.analysisSources + 1 }, (_, index) => `SRC-${index}`) },
    });
    expect(sources.status).toBe(400);
    expect(((await sources.json()) as { issues: Array<{ path: string }> }).issues.map((issue) => issue.path)).toEqual(['sources']);
    const attempts = await api.call('POST', path, {
      token: system,
      body: { ...base, type: 'family-declined-engagement', attempts: Array.from({ length: EVENT_LIST_LIMITS.engagementAttempts + 1 }, () => ({ occurredAt: base.occurredAt, method: 'phone' })) },
    });
    expect(attempts.status).toBe(400);
    expect(((await attempts.json()) as { issues: Array<{ path: string }> }).issues.map((issue) => issue.path)).toEqual(['attempts']);
  });
});
