import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type ApiUnderTest } from './support';

let api: ApiUnderTest;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api?.stop());

describe('GET /v1/openapi.json', () => {
  it('is a parseable OpenAPI 3.1 document that lists every route, with request schemas from zod', async () => {
    const answer = await api.call('GET', '/v1/openapi.json');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/application\/json/);
    const document = JSON.parse(await answer.text()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Record<string, unknown> }> }; parameters?: Array<{ name: string; in: string }>; responses: Record<string, unknown> }>>;
    };
    expect(document.openapi).toBe('3.1.0');
    const operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
    expect(operations.sort()).toEqual(
      [
        'POST /v1/referrals',
        'POST /v1/referrals/{referralId}/events',
        'GET /v1/referrals/{referralId}',
        'GET /v1/assessments',
        'POST /v1/assessments/{assessmentId}/events',
        'GET /v1/assessments/{assessmentId}',
        'GET /v1/assessments/{assessmentId}/history',
        'GET /v1/prompts',
        'POST /v1/prompts/{promptId}/decision',
        'GET /v1/reports/timeliness',
        'POST /v1/reports/cin-census',
        'GET /healthz',
        'GET /v1/openapi.json',
      ].sort(),
    );
    const referral = document.paths['/v1/referrals']?.post;
    const schema = referral?.requestBody?.content['application/json']?.schema as { properties?: Record<string, unknown>; required?: string[] };
    expect(Object.keys(schema.properties ?? {})).toEqual(expect.arrayContaining(['referralId', 'receivedAt', 'referrerType', 'children']));
    expect(referral?.responses).toHaveProperty('409');
    // The census request: its children keyed by childRef, each with the identifiers the engine does not hold.
    const census = document.paths['/v1/reports/cin-census']?.post;
    const censusBody = census?.requestBody?.content['application/json']?.schema as { properties?: Record<string, unknown>; required?: string[] };
    expect(censusBody.required).toEqual(expect.arrayContaining(['censusYear', 'header', 'children']));
    expect(Object.keys((census?.responses as Record<string, { content?: Record<string, unknown> }>)['200']?.content ?? {})).toEqual(['application/xml', 'application/json']);
    expect(document.paths['/v1/prompts/{promptId}/decision']?.post?.responses).toHaveProperty('422');
    expect(document.paths['/v1/assessments']?.get?.parameters?.map((parameter) => parameter.name)).toEqual(
      expect.arrayContaining(['status', 'team', 'track', 'pageSize', 'nextPageToken']),
    );
    const event = document.paths['/v1/referrals/{referralId}/events']?.post?.requestBody?.content['application/json']?.schema as { oneOf?: unknown[]; anyOf?: unknown[] };
    expect((event.oneOf ?? event.anyOf ?? []).length).toBeGreaterThan(10);
  });
});
