import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checklistItems, outcomes, promptKinds } from '../../domain/prompts';
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
    // Every write says how it is retry-safe: referrals by referralId, events by eventId, decisions by Idempotency-Key.
    const writes = document.paths as unknown as Record<string, Record<string, { description?: string; parameters?: Array<{ name: string; in: string; required?: boolean }> }>>;
    expect(writes['/v1/referrals']?.post?.description).toMatch(/retry-safe by referralId/i);
    expect(writes['/v1/referrals/{referralId}/events']?.post?.description).toMatch(/retry-safe by eventId/i);
    expect(writes['/v1/assessments/{assessmentId}/events']?.post?.description).toMatch(/retry-safe by eventId/i);
    const decision = writes['/v1/prompts/{promptId}/decision']?.post;
    expect(decision?.description).toMatch(/Idempotency-Key/);
    expect(decision?.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: false })]));
    const event = document.paths['/v1/referrals/{referralId}/events']?.post?.requestBody?.content['application/json']?.schema as { oneOf?: unknown[]; anyOf?: unknown[] };
    expect((event.oneOf ?? event.anyOf ?? []).length).toBeGreaterThan(10);
  });

  it("describes each prompt kind's decision body, generated from the schema the decide update validates, and pages the prompt list", async () => {
    const document = (await (await api.call('GET', '/v1/openapi.json')).json()) as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { anyOf?: Array<{ $ref: string }> } }> }; parameters?: Array<{ name: string }>; responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, { items?: { properties?: Record<string, unknown> } }> } }> }> }>>;
      components: { schemas: Record<string, { oneOf?: Array<{ properties: Record<string, { const?: string; enum?: string[]; required?: string[]; propertyNames?: { enum?: string[] } }>; required?: string[] }>; properties?: Record<string, unknown> }> };
    };
    const body = document.paths['/v1/prompts/{promptId}/decision']?.post?.requestBody?.content['application/json']?.schema;
    // anyOf, not oneOf: kinds share answers (approve, refuse), so one body can fit several.
    expect(body?.anyOf?.map((ref) => ref.$ref)).toEqual(promptKinds.map((kind) => `#/components/schemas/Decision.${kind}`));
    const signOff = document.components.schemas['Decision.sign-off'];
    const answer = signOff?.oneOf?.find((option) => option.properties.decision?.const === 'sign-off');
    expect(answer?.required).toEqual(expect.arrayContaining(['decision', 'rationale', 'outcome', 'determinations', 'checklist']));
    expect(answer?.required).not.toContain('promptId');
    // Every checklist item named, each met or not with its reason.
    expect(answer?.properties.checklist?.propertyNames?.enum).toEqual([...checklistItems]);
    expect(answer?.properties.checklist?.required).toEqual([...checklistItems]);
    expect(answer?.properties.outcome?.enum).toEqual([...outcomes]);
    const allocation = document.components.schemas['Decision.allocation'];
    expect(Object.keys(allocation?.properties ?? allocation?.oneOf?.[0]?.properties ?? {})).toEqual(expect.arrayContaining(['socialWorkerId', 'track', 'assessmentType', 'timescaleWorkingDays']));

    const list = document.paths['/v1/prompts']?.get;
    expect(list?.parameters?.map((parameter) => parameter.name)).toEqual(expect.arrayContaining(['team', 'managerId', 'kind', 'pageSize', 'nextPageToken']));
    const page = list?.responses['200']?.content?.['application/json']?.schema.properties;
    expect(Object.keys(page ?? {})).toEqual(expect.arrayContaining(['prompts', 'complete', 'nextPageToken', 'totalOpen', 'pageSize', 'unreadableWorkflowIds']));
    expect(Object.keys(page?.prompts?.items?.properties ?? {})).toEqual(expect.arrayContaining(['promptId', 'kind', 'rule', 'dueBy', 'allowedDecisions', 'answerSchema']));
  });
});
