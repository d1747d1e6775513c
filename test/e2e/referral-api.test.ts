import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { signLocalToken } from '../../api/tokens';
import { devServerHarness, type DevServerHarness } from '../support/temporal';

let harness: DevServerHarness;
let server: Server;
let base: string;
let auth: Record<string, string>;

beforeAll(async () => {
  harness = await devServerHarness();
  const secret = 'e2e-secret-that-is-at-least-32-characters';
  const auditFile = join(mkdtempSync(join(tmpdir(), 'e2e-')), 'audit.log');
  auth = { authorization: `Bearer ${await signLocalToken(secret, { sub: 'SYS-1', roles: ['system'], allTeams: true })}` };
  server = createApp({ client: harness.client, taskQueue: harness.taskQueue, auth: { mode: 'secret', secret }, audit: auditFile, logger: pino({ level: 'silent' }) }).listen(0, '127.0.0.1');
  await new Promise((ready) => server.once('listening', ready));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((done) => server?.close(done));
  await harness?.stop();
});

const post = (path: string, body: unknown) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(body) });

describe('end to end on the dev server', () => {
  it('a referral started through the API runs as a workflow, takes an event and answers its state', async () => {
    const referralId = `REF-${Date.now()}`;
    const started = await post('/v1/referrals', {
      referralId,
      receivedAt: new Date(Date.now() - 3_600_000).toISOString(),
      referrerType: 'education',
      childProtectionConcern: false,
      children: [{ childRef: 'C-77' }],
    });
    expect(started.status).toBe(201);
    expect(await started.json()).toMatchObject({ workflowId: `referral-${referralId}` });

    const description = await harness.client.workflow.getHandle(`referral-${referralId}`).describe();
    expect(description.status.name).toBe('RUNNING');

    const sent = await post(`/v1/referrals/${referralId}/events`, {
      type: 'consent-recorded',
      eventId: 'EV-CONSENT-1',
      occurredAt: new Date(Date.now() - 1_800_000).toISOString(),
      actor: 'SW-9',
      given: true,
    });
    expect(sent.status).toBe(202);

    const state = (await (await fetch(`${base}/v1/referrals/${referralId}`, { headers: auth })).json()) as { record: Array<{ source: string }> };
    expect(state.record.filter((entry) => entry.source === 'event')).toEqual([expect.objectContaining({ type: 'consent-recorded', ref: 'EV-CONSENT-1', status: 'applied' })]);
  });

  it('an invalid referral is refused with the field that is wrong', async () => {
    const refused = await post('/v1/referrals', { referralId: 'no digits here', receivedAt: 'yesterday', referrerType: 'police', childProtectionConcern: false, children: [] });
    expect(refused.status).toBe(400);
    const body = (await refused.json()) as { issues: Array<{ path: string }> };
    expect(body.issues.map((issue) => issue.path)).toEqual(expect.arrayContaining(['referralId', 'receivedAt', 'children']));
  });
});
