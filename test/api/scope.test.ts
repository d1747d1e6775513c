import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../api/auth';
import { createCodecRouter } from '../../api/codec-server';
import { loadApiConfig } from '../../api/config';
import { signLocalToken } from '../../api/tokens';
import { assessmentWorkflowId } from '../../domain/ids';
import { testCodec } from '../support/payload-keys';
import { devServerHarness, type DevServerHarness } from '../support/temporal';
import { TEST_SECRET, eventually, newReferralId, referralBody, startApi, type ApiUnderTest } from './support';

/**
 * Issue 10: least privilege on every case. A route × role × scope matrix on real cases of
 * two teams (T1 and T2): a case out of the caller's scope answers 404, as if it did not
 * exist; listings and reports keep to the scope and refuse a team outside it (403); every
 * team only with the explicit all_teams claim; who acted comes from the token.
 */
const T1 = `TEAM-S${process.pid}-1`;
const T2 = `TEAM-S${process.pid}-2`;
const roles: Role[] = ['system', 'social_worker', 'manager', 'operations'];
type ScopeName = 'T1' | 'T2' | 'all teams' | 'no team';
const scopes: ScopeName[] = ['T1', 'T2', 'all teams', 'no team'];

let harness: DevServerHarness;
let api: ApiUnderTest;
let caseload: ApiUnderTest;
let referralId: string;
let assessmentId: string;
const now = () => new Date().toISOString();

function sign(role: Role | Role[], sub: string, scope: ScopeName, extra: { iat?: number; exp?: number } = {}): Promise<string> {
  const claims = scope === 'all teams' ? { allTeams: true } : scope === 'no team' ? { teams: [] } : { teams: [scope === 'T1' ? T1 : T2] };
  if (extra.iat === undefined && extra.exp === undefined) return signLocalToken(TEST_SECRET, { sub, roles: Array.isArray(role) ? role : [role], ...claims });
  return new SignJWT({ roles: [role], teams: claims.teams, all_teams: claims.allTeams })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt(extra.iat)
    .setExpirationTime(extra.exp ?? Math.floor(Date.now() / 1000) + 600)
    .sign(new TextEncoder().encode(TEST_SECRET));
}

const tokens = new Map<string, string>();
const tokenOf = (role: Role, scope: ScopeName) => tokens.get(`${role}/${scope}`)!;

beforeAll(async () => {
  harness = await devServerHarness();
  const codec = { router: createCodecRouter({ codec: testCodec(), allowedOrigin: 'http://127.0.0.1:8233' }), allowedOrigin: 'http://127.0.0.1:8233' };
  api = await startApi({ harness, codec });
  caseload = await startApi({ harness, scope: { socialWorkers: 'caseload' } });
  for (const role of roles) for (const scope of scopes) tokens.set(`${role}/${scope}`, await sign(role, `${role === 'social_worker' ? 'SW' : role.slice(0, 3).toUpperCase()}-${scope.length}1`, scope));

  // A T1 referral decided for assessment, and its assessment allocated to SW-41; a T2 referral beside it.
  referralId = newReferralId();
  assessmentId = assessmentWorkflowId(referralId, 'C-1');
  const system = await sign('system', 'SYS-1', 'all teams');
  const manager = await sign('manager', 'MGR-1', 'T1');
  expect((await api.call('POST', '/v1/referrals', { token: system, body: referralBody(referralId, { team: T1 }) })).status).toBe(201);
  expect((await api.call('POST', '/v1/referrals', { token: system, body: referralBody(newReferralId(), { team: T2 }) })).status).toBe(201);
  const duty = `referral-${referralId}~duty-decision-1`;
  await eventually(async () => ((await api.call('GET', `/v1/referrals/${referralId}`, { token: manager })).status === 200 ? true : undefined));
  expect((await api.call('POST', `/v1/prompts/${duty}/decision`, { token: manager, body: { decision: 'single-assessment', rationale: 'needs an assessment' } })).status).toBe(200);
  const allocation = await eventually(async () => {
    const response = await api.call('GET', `/v1/assessments/${assessmentId}`, { token: manager });
    if (response.status !== 200) return undefined;
    return ((await response.json()) as { openPrompts: Array<{ promptId: string; kind: string }> }).openPrompts.find((prompt) => prompt.kind === 'allocation');
  });
  const allocated = await api.call('POST', `/v1/prompts/${allocation.promptId}/decision`, {
    token: manager,
    body: { decision: 'allocate', rationale: 'to the team', socialWorkerId: 'SW-41', track: 'S17', assessmentType: 'brief' },
  });
  expect(allocated.status).toBe(200);
}, 60_000);
afterAll(async () => {
  await caseload?.stop();
  await api?.stop();
  await harness?.stop();
});

interface RouteCase {
  name: string;
  method: 'GET' | 'POST';
  path: () => string;
  allowed: Role[];
  /** A case route: out of scope is 404. A listing: a team outside the scope is 403. A new case: its team outside is 403. */
  kind: 'case' | 'listing' | 'new-case' | 'all-teams-only';
  body?: () => unknown;
  /** The answer in scope (bodies that do not validate keep the matrix free of side effects). */
  inScope: number;
}

const routes: RouteCase[] = [
  { name: 'read a referral', method: 'GET', path: () => `/v1/referrals/${referralId}`, allowed: roles, kind: 'case', inScope: 200 },
  { name: 'send a referral event', method: 'POST', path: () => `/v1/referrals/${referralId}/events`, allowed: ['system', 'social_worker'], kind: 'case', body: () => ({ type: 'nope' }), inScope: 400 },
  { name: 'read an assessment', method: 'GET', path: () => `/v1/assessments/${assessmentId}`, allowed: roles, kind: 'case', inScope: 200 },
  { name: 'send an assessment event', method: 'POST', path: () => `/v1/assessments/${assessmentId}/events`, allowed: ['system', 'social_worker'], kind: 'case', body: () => ({ type: 'nope' }), inScope: 400 },
  { name: 'read a history', method: 'GET', path: () => `/v1/assessments/${assessmentId}/history`, allowed: ['manager', 'operations'], kind: 'case', inScope: 200 },
  { name: 'decide a prompt', method: 'POST', path: () => `/v1/prompts/${assessmentId}~allocation-1/decision`, allowed: ['manager'], kind: 'case', body: () => ({}), inScope: 400 },
  { name: 'list assessments of T1', method: 'GET', path: () => `/v1/assessments?team=${T1}`, allowed: ['manager', 'operations'], kind: 'listing', inScope: 200 },
  { name: 'list prompts of T1', method: 'GET', path: () => `/v1/prompts?team=${T1}`, allowed: ['manager'], kind: 'listing', inScope: 200 },
  { name: 'timeliness of T1', method: 'GET', path: () => `/v1/reports/timeliness?team=${T1}`, allowed: ['manager', 'operations'], kind: 'listing', inScope: 200 },
  { name: 'start a T1 referral', method: 'POST', path: () => '/v1/referrals', allowed: ['system'], kind: 'new-case', body: () => referralBody(newReferralId(), { team: T1 }), inScope: 201 },
  { name: 'decode payloads', method: 'POST', path: () => '/codec/decode', allowed: ['operations'], kind: 'all-teams-only', body: () => ({ payloads: [] }), inScope: 200 },
];

function expected(route: RouteCase, role: Role, scope: ScopeName): number {
  if (!route.allowed.includes(role)) return 403;
  const reachesT1 = scope === 'T1' || scope === 'all teams';
  switch (route.kind) {
    case 'case':
      return reachesT1 ? route.inScope : 404;
    case 'listing':
    case 'new-case':
      return reachesT1 ? route.inScope : 403;
    case 'all-teams-only':
      return scope === 'all teams' ? route.inScope : 403;
  }
}

const matrix = routes.flatMap((route) => roles.flatMap((role) => scopes.map((scope) => ({ route: route.name, role, scope, status: expected(route, role, scope) }))));

describe('route × role × scope', () => {
  it.each(matrix)('$route as $role with $scope → $status', async ({ route: name, role, scope, status }) => {
    const route = routes.find((candidate) => candidate.name === name)!;
    const answer = await api.call(route.method, route.path(), { token: tokenOf(role, scope), ...(route.body ? { body: route.body() } : {}) });
    expect(answer.status, await answer.text()).toBe(status);
  });

  it('answers a case out of scope exactly as one that does not exist', async () => {
    const token = tokenOf('manager', 'T2');
    const hidden = await api.call('GET', `/v1/assessments/${assessmentId}`, { token });
    const missing = await api.call('GET', `/v1/assessments/${assessmentWorkflowId(`REF-NOPE-${process.pid}`, 'C-1')}`, { token });
    expect([hidden.status, missing.status]).toEqual([404, 404]);
    expect(Object.keys((await hidden.json()) as object)).toEqual(Object.keys((await missing.json()) as object));
  });

  it('keeps listings to the scope: a T2 manager never sees the T1 referral, a T1 manager does', async () => {
    const listed = async (scope: ScopeName) => {
      const response = await api.call('GET', '/v1/assessments?type=referral&pageSize=200', { token: tokenOf('manager', scope) });
      expect(response.status).toBe(200);
      return ((await response.json()) as { assessments: Array<{ workflowId: string; Team?: string }> }).assessments;
    };
    await eventually(async () => ((await listed('T1')).some((row) => row.workflowId === `referral-${referralId}`) ? true : undefined));
    const t2 = await listed('T2');
    expect(t2.map((row) => row.workflowId)).not.toContain(`referral-${referralId}`);
    expect(t2.every((row) => row.Team === T2)).toBe(true);
    expect((await api.call('GET', '/v1/assessments', { token: tokenOf('manager', 'no team') })).status).toBe(403);
  });

  it('holds a social worker to their caseload where the council configures it', async () => {
    const allocatedWorker = await sign('social_worker', 'SW-41', 'T1');
    const colleague = await sign('social_worker', 'SW-42', 'T1');
    expect((await caseload.call('GET', `/v1/assessments/${assessmentId}`, { token: allocatedWorker })).status).toBe(200);
    expect((await caseload.call('GET', `/v1/assessments/${assessmentId}`, { token: colleague })).status).toBe(404);
    // The referral has no allocated worker: the team's social workers reach it.
    expect((await caseload.call('GET', `/v1/referrals/${referralId}`, { token: colleague })).status).toBe(200);
    // A manager is not held to a caseload.
    expect((await caseload.call('GET', `/v1/assessments/${assessmentId}`, { token: tokenOf('manager', 'T1') })).status).toBe(200);
  });
});

describe('who acted comes from the token', () => {
  const event = (eventId: string, extra: Record<string, unknown> = {}) => ({ type: 'home-visited', eventId, occurredAt: now(), bedroomSeen: true, ...extra });

  it('refuses a social worker naming someone else as actor (403), and records them when the body leaves it out', async () => {
    const worker = await sign('social_worker', 'SW-41', 'T1');
    const other = await api.call('POST', `/v1/assessments/${assessmentId}/events`, { token: worker, body: event(`EV-${referralId}-A1`, { actor: 'SW-99' }) });
    expect(other.status).toBe(403);
    expect(await other.json()).toMatchObject({ error: 'actor-not-caller', issues: [{ path: 'actor' }] });
    const own = await api.call('POST', `/v1/assessments/${assessmentId}/events`, { token: worker, body: event(`EV-${referralId}-A2`) });
    expect(own.status).toBe(202);
    const state = (await (await api.call('GET', `/v1/assessments/${assessmentId}`, { token: worker })).json()) as { record: Array<{ type: string; actor?: string }> };
    expect(state.record.find((entry) => entry.type === 'home-visited')).toMatchObject({ actor: 'SW-41' });
  });

  it('lets a system send on behalf of a named member of staff and back-date, recorded as such; a person may not back-date', async () => {
    const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();
    const consent = (eventId: string, occurredAt: string, actor?: string) => ({ type: 'consent-recorded', eventId, occurredAt, given: true, ...(actor ? { actor } : {}) });
    const late = await startApi({ harness, backdateWindowHours: 1 });
    try {
      const system = await late.token('system', 'SYS-7');
      const worker = await late.token('social_worker', 'SW-41', T1);
      const received = newReferralId();
      expect((await late.call('POST', '/v1/referrals', { token: system, body: referralBody(received, { team: T1, receivedAt: hoursAgo(3) }) })).status).toBe(201);
      const path = `/v1/referrals/${received}/events`;
      // Nothing about a case happened before its referral.
      const beforeReferral = await late.call('POST', path, { token: system, body: consent(`EV-${received}-0`, hoursAgo(4), 'SW-41') });
      expect(beforeReferral.status).toBe(422);
      expect(await beforeReferral.json()).toMatchObject({ issues: [{ path: 'occurredAt', message: expect.stringMatching(/before the referral/) }] });
      // Two hours back is outside a person's 1-hour window, not a system's.
      const refused = await late.call('POST', path, { token: worker, body: consent(`EV-${received}-1`, hoursAgo(2)) });
      expect(refused.status).toBe(422);
      expect(await refused.json()).toMatchObject({ issues: [{ path: 'occurredAt', message: expect.stringMatching(/more than 1 hours ago/) }] });
      expect((await late.call('POST', path, { token: system, body: consent(`EV-${received}-2`, hoursAgo(2), 'SW-41') })).status).toBe(202);
      // The history shows who sent it and that it was back-dated.
      const history = await late.call('GET', `/v1/assessments/referral-${received}/history?format=raw`, { token: await late.token('operations', 'OPS-1') });
      const sent = JSON.stringify(((await history.json()) as { events: unknown[] }).events);
      expect(sent).toContain('"submittedBy":"SYS-7"');
      expect(sent).toContain('"backdated":true');
      const timeline = await late.call('GET', `/v1/assessments/referral-${received}/history`, { token: await late.token('operations', 'OPS-1') });
      expect(((await timeline.json()) as { timeline: Array<{ what: string; who?: string }> }).timeline).toContainEqual(
        expect.objectContaining({ what: 'event consent-recorded received, back-dated', who: 'SW-41 (sent by SYS-7)' }),
      );
      const state = await late.call('GET', `/v1/referrals/${received}`, { token: system });
      expect(((await state.json()) as { record: Array<Record<string, unknown>> }).record).toContainEqual(
        expect.objectContaining({ type: 'consent-recorded', actor: 'SW-41', submittedBy: 'SYS-7', backdated: true }),
      );
    } finally {
      await late.stop();
    }
  });

  it('refuses a decision whose decidedBy names someone other than the caller', async () => {
    const answer = await api.call('POST', `/v1/prompts/${assessmentId}~allocation-1/decision`, {
      token: await sign('manager', 'MGR-2', 'T1'),
      body: { decision: 'allocate', rationale: 'r', decidedBy: 'MGR-9' },
    });
    expect(answer.status).toBe(403);
    expect(await answer.json()).toMatchObject({ error: 'actor-not-caller', issues: [{ path: 'decidedBy' }] });
  });
});

describe('tokens', () => {
  const read = (token: string) => api.call('GET', `/v1/referrals/${referralId}`, { token });
  const secret = new TextEncoder().encode(TEST_SECRET);
  const seconds = () => Math.floor(Date.now() / 1000);

  it('refuses a token without exp, without iat, older than the maximum age, or with an e-mail address as sub', async () => {
    expect((await read(await new SignJWT({ roles: ['manager'], all_teams: true }).setProtectedHeader({ alg: 'HS256' }).setSubject('MGR-1').setIssuedAt().sign(secret))).status).toBe(401);
    expect((await read(await new SignJWT({ roles: ['manager'], all_teams: true }).setProtectedHeader({ alg: 'HS256' }).setSubject('MGR-1').setExpirationTime('1h').sign(secret))).status).toBe(401);
    expect((await read(await sign('manager', 'MGR-1', 'all teams', { iat: seconds() - 13 * 3600, exp: seconds() + 3600 }))).status).toBe(401);
    expect((await read(await sign('manager', 'jane.smith1@council.example', 'all teams'))).status).toBe(401);
    // Within the clock tolerance (60 s) a token issued "in the future" is still good.
    expect((await read(await sign('manager', 'MGR-1', 'all teams', { iat: seconds() + 30 }))).status).toBe(200);
  });

  it('production needs an issuer and an audience whatever the key type', () => {
    const base = { NODE_ENV: 'production', API_JWT_SECRET: 'x'.repeat(40) };
    expect(() => loadApiConfig(base)).toThrow(/API_JWT_ISSUER and API_JWT_AUDIENCE/);
    expect(loadApiConfig({ ...base, API_JWT_ISSUER: 'https://idp.example', API_JWT_AUDIENCE: 'assessment-api' }).auth).toMatchObject({ mode: 'secret', issuer: 'https://idp.example' });
  });
});

describe('limits on reads', () => {
  it('limits reads per caller (429 with a reason) and says when a prompt list is complete', async () => {
    const limited = await startApi({ harness, readRateLimit: { windowMs: 60_000, limit: 2 } });
    try {
      const token = await limited.token('manager', 'MGR-RL-1', T1);
      const answers = [];
      for (let index = 0; index < 3; index += 1) answers.push(await limited.call('GET', `/v1/prompts?team=${T1}`, { token }));
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 429]);
      expect(await answers[0]!.json()).toMatchObject({ complete: true });
      expect(await answers[2]!.json()).toMatchObject({ error: 'rate-limited', message: expect.stringMatching(/read/) });
    } finally {
      await limited.stop();
    }
  });
});
