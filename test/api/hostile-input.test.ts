import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../api/openapi';
import { referralIdSchema } from '../../domain/ids';
import { newReferralId, referralBody, startApi, type ApiUnderTest } from './support';

// What a generated (schemathesis) run found: hostile but well-formed input must never answer
// 5xx, and the OpenAPI document must describe what the server does.
let api: ApiUnderTest;
let operations: string;
let system: string;
let manager: string;

beforeAll(async () => {
  api = await startApi();
  operations = await api.token('operations', 'OPS-1');
  system = await api.token('system', 'SYS-1');
  manager = await api.token('manager', 'MGR-1');
});
afterAll(async () => api?.stop());

type Document = {
  paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string; schema: { pattern?: string } }>; responses: Record<string, unknown> }>>;
};
const document = openApiDocument() as unknown as Document;
const issuePaths = async (answer: Response) => ((await answer.json()) as { issues?: Array<{ path: string }> }).issues?.map((issue) => issue.path);

describe('GET /v1/reports/timeliness with months the report cannot hold', () => {
  it('answers 400 naming the field for a year outside 1900..2099, never 500', async () => {
    for (const query of ['from=0000-01&to=0000-01', 'from=0001-01&to=0001-01', 'to=0000-01', 'from=9999-12&to=9999-12']) {
      const answer = await api.call('GET', `/v1/reports/timeliness?${query}`, { token: operations });
      expect(answer.status, query).toBe(400);
      expect(await issuePaths(answer), query).toEqual(expect.arrayContaining([query.startsWith('to=') ? 'to' : 'from']));
    }
  });

  it('the month pattern of the document is the one the server applies', () => {
    const from = document.paths['/v1/reports/timeliness']?.get?.parameters?.find((parameter) => parameter.name === 'from');
    const pattern = new RegExp(from?.schema.pattern ?? '');
    expect(pattern.test('2026-11')).toBe(true);
    expect(pattern.test('0000-01')).toBe(false);
    expect(pattern.test('9999-12')).toBe(false);
  });

  it('answers 422 (well-formed, refused for its meaning) when from is after to', async () => {
    const answer = await api.call('GET', '/v1/reports/timeliness?from=2026-11&to=2026-10', { token: operations });
    expect(answer.status).toBe(422);
    expect(await issuePaths(answer)).toEqual(['from']);
  });
});

describe('GET /v1/assessments/{assessmentId}/history of a workflow that does not exist', () => {
  it('answers 404', async () => {
    for (const id of ['referral-0', `assessment-${newReferralId()}-C-1`]) {
      const answer = await api.call('GET', `/v1/assessments/${id}/history`, { token: operations });
      expect(answer.status, id).toBe(404);
      expect(((await answer.json()) as { error: string }).error).toBe('not-found');
    }
  });
});

describe('a nextPageToken the server never issued', () => {
  it('answers 400 naming nextPageToken, never 500', async () => {
    for (const token of ['AAAA', 'not-a-token_0', 'eyJmb28iOiJiYXIifQ']) {
      const answer = await api.call('GET', `/v1/assessments?nextPageToken=${token}`, { token: operations });
      expect(answer.status, token).toBe(400);
      expect(await issuePaths(answer), token).toEqual(['nextPageToken']);
    }
  });
});

describe('methods a path does not declare', () => {
  it('answer 405 with an Allow header, before authentication', async () => {
    const cases: Array<[string, string, string]> = [
      ['DELETE', '/v1/referrals', 'POST'],
      ['PUT', '/v1/referrals/REF-1', 'GET, HEAD'],
      ['GET', '/v1/referrals/REF-1/events', 'POST'],
      ['PATCH', '/v1/assessments', 'GET, HEAD'],
      ['DELETE', '/v1/assessments/assessment-REF-1-C-1/history', 'GET, HEAD'],
      ['GET', '/v1/prompts/referral-REF-1~duty-decision-1/decision', 'POST'],
      ['POST', '/v1/reports/timeliness', 'GET, HEAD'],
      ['POST', '/healthz', 'GET, HEAD'],
      ['PUT', '/v1/openapi.json', 'GET, HEAD'],
      ['POST', '/V1/Referrals/REF-1/', 'GET, HEAD'],
    ];
    for (const [method, path, allow] of cases) {
      const answer = await api.call(method, path);
      expect(answer.status, `${method} ${path}`).toBe(405);
      expect(answer.headers.get('allow'), `${method} ${path}`).toBe(allow);
      if (method !== 'HEAD') expect(((await answer.json()) as { error: string }).error).toBe('method-not-allowed');
    }
  });

  it('OPTIONS answers with the Allow header; unknown paths stay 404', async () => {
    for (const [path, allow] of [
      ['/v1/assessments/assessment-REF-1-C-1', 'GET, HEAD'],
      ['/v1/referrals', 'POST'],
    ]) {
      const options = await api.call('OPTIONS', path as string);
      expect([200, 204], path).toContain(options.status);
      expect(options.headers.get('allow'), path).toBe(allow);
    }
    expect((await api.call('DELETE', '/v1/nothing-here')).status).toBe(404);
    expect((await api.call('GET', '/v1/referrals/REF-1/events/more')).status).toBe(404);
  });
});

describe('the document says what the server does', () => {
  it('path parameter patterns refuse what the server refuses (an opaque ref needs a digit)', () => {
    const pattern = document.paths['/v1/referrals/{referralId}']?.get?.parameters?.find((parameter) => parameter.name === 'referralId')?.schema.pattern;
    expect(pattern).toBeDefined();
    const regex = new RegExp(pattern as string);
    for (const value of ['hjZg', 'REF-1', 'a_b-9', '000', 'no-digits', 'x y 1', 'REF-1;']) {
      expect(regex.test(value), value).toBe(referralIdSchema.safeParse(value).success || value.length < 3);
    }
    expect(regex.test('hjZg')).toBe(false);
  });

  it('a referral id without a digit is refused with 400 by the server as by the document', async () => {
    const answer = await api.call('GET', '/v1/referrals/hjZg', { token: operations });
    expect(answer.status).toBe(400);
  });

  it('documents 429 on every rate-limited write route, and 413/415 on every route with a body', () => {
    for (const [path, method] of [
      ['/v1/referrals', 'post'],
      ['/v1/referrals/{referralId}/events', 'post'],
      ['/v1/assessments/{assessmentId}/events', 'post'],
      ['/v1/prompts/{promptId}/decision', 'post'],
    ] as const) {
      const responses = document.paths[path]?.[method]?.responses ?? {};
      expect(Object.keys(responses), path).toEqual(expect.arrayContaining(['413', '415', '429', '422']));
    }
  });

  it('the rate limit answers 429 as documented', async () => {
    const limited = await startApi({ harness: api.harness, rateLimit: { windowMs: 60_000, limit: 1 } });
    try {
      const token = await limited.token('system', 'SYS-429');
      expect((await limited.call('POST', '/v1/referrals', { token, body: {} })).status).toBe(400);
      const second = await limited.call('POST', '/v1/referrals', { token, body: {} });
      expect(second.status).toBe(429);
      expect(document.paths['/v1/referrals']?.post?.responses).toHaveProperty('429');
    } finally {
      await limited.stop();
    }
  });

  it('a well-formed request refused for its meaning answers 422 naming the field: a time in the future, two children with one ref', async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const refused = await api.call('POST', '/v1/referrals', { token: system, body: referralBody(newReferralId(), { receivedAt: future }) });
    expect(refused.status).toBe(422);
    expect(await issuePaths(refused)).toEqual(['receivedAt']);
    const twice = await api.call('POST', '/v1/referrals', { token: system, body: referralBody(newReferralId(), { children: [{ childRef: 'C-1' }, { childRef: 'C-1' }] }) });
    expect(twice.status).toBe(422);
    expect(await issuePaths(twice)).toEqual(['children']);
    // Malformed is still 400.
    expect((await api.call('POST', '/v1/referrals', { token: system, body: referralBody(newReferralId(), { receivedAt: 'yesterday' }) })).status).toBe(400);
    void manager;
  });
});

describe('request bodies', () => {
  it('are required in the document, as the server requires them', () => {
    const paths = document.paths as unknown as Record<string, Record<string, { requestBody?: { required?: boolean } }>>;
    for (const [path, method] of [
      ['/v1/referrals', 'post'],
      ['/v1/referrals/{referralId}/events', 'post'],
      ['/v1/assessments/{assessmentId}/events', 'post'],
      ['/v1/prompts/{promptId}/decision', 'post'],
    ] as const) {
      expect(paths[path]?.[method]?.requestBody?.required, path).toBe(true);
    }
  });
});
