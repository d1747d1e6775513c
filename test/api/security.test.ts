import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../api/auth';
import { createCodecRouter } from '../../api/codec-server';
import { signLocalToken } from '../../api/tokens';
import { testCodec } from '../support/payload-keys';
import { devServerHarness, type DevServerHarness } from '../support/temporal';
import { TEST_SECRET, newReferralId, referralBody, startApi, type ApiUnderTest } from './support';

let harness: DevServerHarness;
let api: ApiUnderTest;
const tokens = {} as Record<Role, string>;
const allRoles: Role[] = ['system', 'social_worker', 'manager', 'operations'];

beforeAll(async () => {
  harness = await devServerHarness();
  // The real codec server (test-only keys), to prove the role gate in front of /codec.
  const codec = { router: createCodecRouter({ codec: testCodec(), allowedOrigin: 'http://127.0.0.1:8233' }), allowedOrigin: 'http://127.0.0.1:8233' };
  api = await startApi({ harness, codec });
  for (const role of allRoles) tokens[role] = await api.token(role, `USR-${role.length}`);
});
afterAll(async () => {
  await api?.stop();
  await harness?.stop();
});

interface RouteCase {
  method: 'GET' | 'POST';
  path: string;
  allowed: Role[];
  body?: unknown;
}

/** Every protected route with the roles that may call it (ids that do not exist, bodies that do not validate: no side effects). */
const routes: RouteCase[] = [
  { method: 'POST', path: '/v1/referrals', allowed: ['system'], body: {} },
  { method: 'POST', path: '/v1/referrals/REF-NOPE-1/events', allowed: ['system', 'social_worker'], body: {} },
  { method: 'GET', path: '/v1/referrals/REF-NOPE-1', allowed: allRoles },
  { method: 'GET', path: '/v1/assessments', allowed: ['manager', 'operations'] },
  { method: 'POST', path: '/v1/assessments/assessment-REF-NOPE-1-C-1/events', allowed: ['system', 'social_worker'], body: {} },
  { method: 'GET', path: '/v1/assessments/assessment-REF-NOPE-1-C-1', allowed: allRoles },
  { method: 'GET', path: '/v1/assessments/assessment-REF-NOPE-1-C-1/history', allowed: ['manager', 'operations'] },
  { method: 'GET', path: '/v1/prompts', allowed: ['manager'] },
  { method: 'POST', path: '/v1/prompts/referral-REF-NOPE-1~duty-decision-1/decision', allowed: ['manager'], body: {} },
  { method: 'GET', path: '/v1/reports/timeliness', allowed: ['manager', 'operations'] },
  { method: 'POST', path: '/codec/decode', allowed: ['operations'], body: { payloads: [] } },
];

const matrix = routes.flatMap((route) => [
  ...allRoles.map((role) => ({ ...route, caller: role as string, expected: route.allowed.includes(role) ? 'allowed' : 403 })),
  { ...route, caller: 'no token', expected: 401 },
  { ...route, caller: 'bad token', expected: 401 },
]);

describe('role matrix: route × role', () => {
  it.each(matrix)('$method $path as $caller → $expected', async ({ method, path, body, caller, expected }) => {
    const token = caller === 'no token' ? undefined : caller === 'bad token' ? `${tokens.manager}x` : tokens[caller as Role];
    const before = api.auditRecords().length;
    const answer = await api.call(method, path, { ...(token ? { token } : {}), ...(body !== undefined ? { body } : {}) });
    if (expected === 'allowed') expect([401, 403]).not.toContain(answer.status);
    else expect(answer.status).toBe(expected);
    if (expected === 401) expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
    // Exactly one audit record per call, whatever its outcome.
    const records = api.auditRecords();
    expect(records).toHaveLength(before + 1);
    expect(records.at(-1)).toMatchObject({ status: answer.status, who: token && caller !== 'bad token' ? expect.any(String) : null });
  });

  it('lets a CORS preflight to the codec server through without a token (browsers send none)', async () => {
    const before = api.auditRecords().length;
    const preflight = await api.call('OPTIONS', '/codec/decode', { headers: { origin: 'http://127.0.0.1:8233', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8233');
    expect(api.auditRecords()).toHaveLength(before);
  });

  it('leaves /healthz and /v1/openapi.json open', async () => {
    expect((await api.call('GET', '/healthz')).status).toBe(200);
    expect((await api.call('GET', '/v1/openapi.json')).status).toBe(200);
  });

  it('gives a token without a known role nothing', async () => {
    const token = await new SignJWT({ roles: ['admin'], all_teams: true })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('USR-7')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(TEST_SECRET));
    expect((await api.call('GET', '/v1/referrals/REF-NOPE-1', { token })).status).toBe(403);
  });

  it('refuses an expired token', async () => {
    const token = await new SignJWT({ roles: ['manager'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('USR-8')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(new TextEncoder().encode(TEST_SECRET));
    expect((await api.call('GET', '/v1/prompts', { token })).status).toBe(401);
  });
});

describe('audit trail', () => {
  it('writes exactly one record per call, with who, role, action, workflow, result, and no payload content', async () => {
    const referralId = newReferralId();
    const before = api.auditRecords().length;
    const started = await api.call('POST', '/v1/referrals', { token: tokens.system, body: referralBody(referralId, { team: 'TEAM-4242', localAuthority: 'LA-4242', children: [{ childRef: 'CHILD-98765' }] }) });
    expect(started.status).toBe(201);
    const event = { type: 'new-information', eventId: 'EV-AUDIT-1', occurredAt: new Date().toISOString(), actor: 'USR-13', summary: 'SECRET-SUMMARY-TEXT' };
    // New information does not fit a referral awaiting its duty decision: refused (422), and audited as such.
    expect((await api.call('POST', `/v1/referrals/${referralId}/events`, { token: tokens.social_worker, body: event })).status).toBe(422);
    expect((await api.call('GET', `/v1/referrals/${referralId}`, { token: tokens.operations })).status).toBe(200);

    const records = api.auditRecords().slice(before);
    expect(records).toHaveLength(3);
    expect(records.map((record) => [record.action, record.workflowId, record.status, record.who, record.roles])).toEqual([
      ['referral.start', `referral-${referralId}`, 201, 'USR-6', ['system']],
      ['referral.event', `referral-${referralId}`, 422, 'USR-13', ['social_worker']],
      ['referral.read', `referral-${referralId}`, 200, 'USR-10', ['operations']],
    ]);
    for (const record of records) expect(Date.parse(String(record.at))).not.toBeNaN();
    const text = JSON.stringify(records);
    for (const secret of ['SECRET-SUMMARY-TEXT', 'TEAM-4242', 'LA-4242', 'EV-AUDIT-1', 'CHILD-98765', 'education']) expect(text).not.toContain(secret);
  });

  it('names no workflow from a malformed id (it might hold a name)', async () => {
    const before = api.auditRecords().length;
    await api.call('POST', '/v1/referrals', { token: tokens.system, body: { referralId: 'Jane Smith' } });
    const [record] = api.auditRecords().slice(before);
    expect(record).toMatchObject({ action: 'referral.start', status: 400 });
    expect(record?.workflowId).toBeUndefined();
    expect(JSON.stringify(record)).not.toContain('Jane');
  });
});

describe('rate limit on write routes', () => {
  it('answers 429 once a caller passes a low limit, and leaves reads alone', async () => {
    const limited = await startApi({ harness, rateLimit: { windowMs: 60_000, limit: 3 } });
    try {
      const token = await limited.token('system', 'SYS-RL-1');
      const statuses: number[] = [];
      for (let i = 0; i < 4; i += 1) statuses.push((await limited.call('POST', '/v1/referrals', { token, body: {} })).status);
      expect(statuses).toEqual([400, 400, 400, 429]);
      expect((await limited.call('GET', '/v1/referrals/REF-NOPE-1', { token })).status).toBe(404);
      // Another caller has a budget of their own.
      const other = await limited.token('system', 'SYS-RL-2');
      expect((await limited.call('POST', '/v1/referrals', { token: other, body: {} })).status).toBe(400);
    } finally {
      await limited.stop();
    }
  });
});

describe('JWKS verification (production mode)', () => {
  it('accepts a token signed by a key in the JWKS with the right issuer and audience, and refuses others', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
    const idp = express();
    idp.get('/.well-known/jwks.json', (_req, res) => void res.json({ keys: [jwk] }));
    const idpServer: Server = idp.listen(0, '127.0.0.1');
    await new Promise((ready) => idpServer.once('listening', ready));
    const jwksUrl = `http://127.0.0.1:${(idpServer.address() as AddressInfo).port}/.well-known/jwks.json`;
    const production = await startApi({ harness, auth: { mode: 'jwks', jwksUrl, issuer: 'https://idp.example.test', audience: 'assessment-api' } });
    const sign = (claims: { iss?: string; aud?: string; roles?: string[] }) =>
      new SignJWT({ roles: claims.roles ?? ['operations'], all_teams: true })
        .setProtectedHeader({ alg: 'RS256', kid: 'key-1' })
        .setSubject('OPS-2')
        .setIssuedAt()
        .setIssuer(claims.iss ?? 'https://idp.example.test')
        .setAudience(claims.aud ?? 'assessment-api')
        .setExpirationTime('5m')
        .sign(privateKey);
    try {
      expect((await production.call('GET', '/v1/referrals/REF-NOPE-1', { token: await sign({}) })).status).toBe(404);
      expect((await production.call('GET', '/v1/referrals/REF-NOPE-1', { token: await sign({ aud: 'another-api' }) })).status).toBe(401);
      expect((await production.call('GET', '/v1/referrals/REF-NOPE-1', { token: await sign({ iss: 'https://evil.example.test' }) })).status).toBe(401);
      // A locally signed HS256 token means nothing to a JWKS-configured API.
      expect((await production.call('GET', '/v1/referrals/REF-NOPE-1', { token: await signLocalToken(TEST_SECRET, { sub: 'OPS-3', roles: ['operations'] }) })).status).toBe(401);
    } finally {
      await production.stop();
      await new Promise((done) => idpServer.close(done));
    }
  });
});
