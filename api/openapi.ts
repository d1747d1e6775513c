import { OpenAPIRegistry, OpenApiGeneratorV31, extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { domainEventSchema } from '../domain/events';
import { referralInputSchema } from '../domain/referral';
import { assessmentListQuerySchema, historyQuerySchema } from './routes/assessments';
import { decisionHeadersSchema, promptListQuerySchema } from './routes/prompts';
import { timelinessQuerySchema } from './routes/reports';
import { censusRequestJsonSchema } from './census';
import { earlierInvolvementSchema } from './earlier-involvement';
import { referralReadQuerySchema } from './routes/referrals';
import { caseWorkflowIdSchema, promptIdSchema } from './ids';
import { referralIdSchema } from '../domain/ids';
import { promptKinds } from '../domain/prompts';
import { decisionComponentName, decisionJsonSchema } from './decision-schemas';

extendZodWithOpenApi(z);

const errorSchema = z.object({
  error: z.string(),
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  allowedDecisions: z.array(z.string()).optional(),
});
const json = <S extends z.ZodType>(schema: S, description: string) => ({ description, content: { 'application/json': { schema } } });
/** A request body the route cannot do without (without `required`, a client may leave it out). */
const body = <S extends z.ZodType>(schema: S, description: string) => ({ ...json(schema, description), required: true });
const errors = {
  400: json(errorSchema, 'invalid request: it does not match this document; every invalid field is listed in issues'),
  401: json(errorSchema, 'no valid bearer token'),
  403: json(errorSchema, "the token lacks the role this needs, or a team asked for lies outside the token's scope"),
  429: {
    ...json(errorSchema, 'rate-limited: too many requests from this caller (token sub) or this address in the window; retry after the RateLimit header says'),
    headers: { RateLimit: { description: 'IETF draft-8 rate limit state', schema: { type: 'string' as const } } },
  },
};
/** What a route with a JSON body and the write rate limit may also answer. */
const writeErrors = {
  413: json(errorSchema, 'the body is larger than 100 kB'),
  415: json(errorSchema, 'the body is not UTF-8 JSON'),
  429: {
    ...json(errorSchema, 'rate-limited: too many write requests from this caller (token sub) in the window; retry after the RateLimit header says'),
    headers: { RateLimit: { description: 'IETF draft-8 rate limit state, e.g. "write";r=0;t=42', schema: { type: 'string' as const } } },
  },
};
const refusedForMeaning =
  'well-formed but refused for what it says (every field named in issues): a time in the future (beyond 5 minutes of clock skew), or a rule no schema can state';
const anyState = z.record(z.string(), z.unknown()).describe("the workflow's state (the state query)");

/** The case the document's examples name. */
export const EXAMPLE_CASE = {
  referralId: 'REF-4001',
  childRef: 'C-1',
  assessmentId: 'assessment-REF-4001.C-1',
  promptId: 'assessment-REF-4001.C-1~allocation-1',
} as const;

/** The OpenAPI document, generated from the same zod schemas that validate the requests. */
export function openApiDocument(): ReturnType<OpenApiGeneratorV31['generateDocument']> {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  const security = [{ bearer: [] }];
  // The examples name one case (a referral, its child's assessment and that assessment's
  // allocation prompt): `npm run schemathesis` creates it first, so generated requests reach it.
  const referralParams = z.object({ referralId: referralIdSchema.meta({ example: EXAMPLE_CASE.referralId }) });
  const assessmentParams = z.object({ assessmentId: caseWorkflowIdSchema.meta({ example: EXAMPLE_CASE.assessmentId }) });
  const promptParams = z.object({ promptId: promptIdSchema.meta({ example: EXAMPLE_CASE.promptId }) });
  const eventAnswer = json(z.object({ accepted: z.boolean(), duplicate: z.boolean() }), 'accepted; duplicate says whether this eventId had been received before');

  registry.registerPath({
    method: 'post',
    path: '/v1/referrals',
    summary: 'Start a referral (role system); idempotent on referralId',
    description:
      'Retry-safe by referralId: sending the same referral again (after a lost answer, a timeout, a restart) answers 200 with the same answer and starts nothing; the same referralId with a different body is refused (409). No Idempotency-Key is needed.',
    security,
    request: { body: body(referralInputSchema, 'the referral') },
    responses: {
      201: json(z.object({ referralId: z.string(), workflowId: z.string() }), 'started'),
      200: json(z.object({ referralId: z.string(), workflowId: z.string() }), 'the same referral again: the same answer'),
      409: json(errorSchema, 'the referralId was used with a different body'),
      422: json(errorSchema, `${refusedForMeaning} (receivedAt in the future; two children with one childRef; a child with both dateOfBirth and expectedDeliveryDate; a policy whose brief timescale exceeds the complex one)`),
      ...errors,
      ...writeErrors,
    },
  });
  // An event the case cannot take now, and one for a case that has closed (R-25: a new referral instead).
  const eventRefusals = {
    409: json(errorSchema, 'the case has closed: what was learnt goes in as a new referral'),
    422: json(
      errorSchema.extend({ rule: z.string().optional() }),
      `event-refused: the event does not fit the stage, or a rule refuses it (the reason says which); its eventId stays free. Or invalid-request: ${refusedForMeaning} (occurredAt or recordedAt in the future, further back than a person may date an event, or before the referral; recordedAt before occurredAt; a child not seen alone without reasonNotAlone)`,
    ),
    403: json(errorSchema, 'the token lacks the role, or a person names someone else as actor (actor-not-caller)'),
    503: json(errorSchema, "case-write-limit: the case has taken all the events one workflow run may take, or Temporal's own limit on it is reached; retry later or contact operations"),
  };
  const eventsRetrySafe =
    'Retry-safe by eventId: sending an event again answers 202 with duplicate: true and changes nothing (its first arrival counts). A refused event (422) is not kept, so its eventId stays free for a corrected resend. No Idempotency-Key is needed.';
  registry.registerPath({
    method: 'post',
    path: '/v1/referrals/{referralId}/events',
    summary: 'Send a field event to a referral (roles system, social_worker)',
    description: eventsRetrySafe,
    security,
    request: { params: referralParams, body: body(domainEventSchema, 'one event') },
    responses: { 202: eventAnswer, 404: json(errorSchema, 'no such referral, or not within your scope (the same answer)'), ...errors, ...writeErrors, ...eventRefusals },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/referrals/{referralId}',
    summary: "A referral's state (all roles)",
    security,
    request: { params: referralParams, query: referralReadQuerySchema },
    responses: {
      200: json(z.object({ earlierInvolvement: earlierInvolvementSchema.optional() }).catchall(z.unknown()).describe("the referral workflow's state (the state query), with the child's earlier involvement"), 'state'),
      404: json(errorSchema, 'no such referral, or not within your scope (the same answer)'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/assessments',
    summary: 'List assessments through Temporal visibility (roles manager, operations)',
    security,
    request: { query: assessmentListQuerySchema },
    responses: {
      200: json(z.object({ assessments: z.array(z.record(z.string(), z.unknown())), nextPageToken: z.string().optional() }), 'a page'),
      ...errors,
      400: json(errorSchema, 'invalid request: every invalid field is listed in issues; a nextPageToken that is not one this API issued (send it back as it came) is refused naming nextPageToken'),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/assessments/{assessmentId}/events',
    summary: 'Send a field event to an assessment (roles system, social_worker)',
    description: eventsRetrySafe,
    security,
    request: { params: assessmentParams, body: body(domainEventSchema, 'one event') },
    responses: { 202: eventAnswer, 404: json(errorSchema, 'no such case workflow, or not within your scope (the same answer)'), ...errors, ...writeErrors, ...eventRefusals },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/assessments/{assessmentId}',
    summary: "An assessment's state (all roles)",
    security,
    request: { params: assessmentParams },
    responses: { 200: json(anyState, 'state'), 404: json(errorSchema, 'no such case workflow, or not within your scope (the same answer)'), ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/assessments/{assessmentId}/history',
    summary: 'The decoded Temporal history of an assessment and its child workflows (roles manager, operations)',
    security,
    request: { params: assessmentParams, query: historyQuerySchema },
    responses: { 200: json(z.record(z.string(), z.unknown()), 'a timeline, or with format=raw the decoded events'), 404: json(errorSchema, 'no such case workflow, or not within your scope (the same answer)'), ...errors },
  });
  // Each prompt kind's answer, generated from the schema its `decide` update validates
  // (domain/prompts.ts): an integrator learns what a sign-off needs from the document.
  // Through zod's own JSON Schema (draft 2020-12, as OpenAPI 3.1 takes): it keeps what the
  // update enforces, e.g. that every checklist item is answered, and it is what the decision form is built from.
  for (const kind of promptKinds) {
    const { $schema: _dialect, ...schema } = decisionJsonSchema(kind);
    registry.registerComponent('schemas', decisionComponentName(kind), { ...schema, description: `the answer to a ${kind} prompt` });
  }
  const decisionBody = { anyOf: promptKinds.map((kind) => ({ $ref: `#/components/schemas/${decisionComponentName(kind)}` })) };
  const openPrompt = z.object({
    promptId: z.string(),
    kind: z.enum(promptKinds as [string, ...string[]]),
    rule: z.string().describe("the rule that asks, e.g. 'R-21'"),
    raisedAt: z.string(),
    dueBy: z.string().optional(),
    allowedDecisions: z.array(z.string()),
    status: z.literal('open'),
    about: z.string().optional().describe('opaque context: what the prompt refers to'),
    overdue: z.boolean().optional(),
    workflowId: z.string(),
    team: z.string().optional(),
    answerSchema: z.string().describe("where this prompt's answer is described: a JSON pointer into this document, /v1/openapi.json#/components/schemas/Decision.<kind>"),
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/prompts',
    summary: "Open decision prompts within the token's scope, oldest due first, a page at a time (role manager)",
    description:
      'Lists the workflows with open prompts through visibility, orders their prompts by due time, and queries only the workflows of the page asked for. Pass nextPageToken back as it came for the next page.',
    security,
    request: { query: promptListQuerySchema },
    responses: {
      200: json(
        z.object({
          prompts: z.array(openPrompt),
          complete: z
            .boolean()
            .describe('true only when this answer holds every open prompt in scope: false when a later page exists (nextPageToken), a workflow could not be read (unreadableWorkflowIds) or the listing was cut (truncated)'),
          nextPageToken: z.string().optional().describe('present when more prompts follow: send it back for the next page'),
          totalOpen: z.number().int().describe('open prompts in scope as visibility last saw them, all pages together'),
          pageSize: z.number().int(),
          truncated: z.boolean().optional(),
          message: z.string().optional(),
          unreadableWorkflowIds: z.array(z.string()).optional(),
        }),
        'a page of open prompts within your scope',
      ),
      ...errors,
      400: json(errorSchema, 'invalid request: every invalid field is listed in issues; a nextPageToken that is not one this API issued (send it back as it came) is refused naming nextPageToken'),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/prompts/{promptId}/decision',
    summary: 'Answer a prompt (role manager) through the workflow Update decide',
    description:
      "The body is the answer to the prompt's kind: one of the Decision.<kind> schemas (anyOf, since kinds share answers such as approve). decidedBy defaults to the token sub, decidedAt to now. " +
      'Retry-safe with the Idempotency-Key header: send a new key with each decision, and the same key and body when retrying it; a repeat of an applied decision answers 200 with duplicate: true and the decision recorded the first time. Without the header a repeat answers 409 prompt-closed (read the case to learn what was recorded).',
    security,
    request: {
      params: promptParams,
      headers: decisionHeadersSchema,
      body: { description: 'the decision, as its prompt kind asks', required: true, content: { 'application/json': { schema: decisionBody } } },
    },
    responses: {
      200: json(
        z.object({
          accepted: z.literal(true),
          promptId: z.string(),
          duplicate: z.boolean().describe('true when this repeated the request (same Idempotency-Key and body) that answered the prompt: nothing changed'),
          decision: z.object({ decision: z.string(), decidedBy: z.string(), decidedAt: z.string() }).describe('the decision as recorded (for a repeat, the first time)'),
          state: z.unknown(),
        }),
        'accepted, with the new state (for a repeat, the state as it is now)',
      ),
      ...errors,
      ...writeErrors,
      403: json(errorSchema, 'the token lacks the role, or decidedBy names someone other than the caller (actor-not-caller)'),
      404: json(errorSchema, 'no such workflow, or not within your scope (the same answer)'),
      409: json(errorSchema, 'the prompt is unknown, or already answered by another request (prompt-closed: a different answer, or a repeat without its Idempotency-Key)'),
      422: json(
        errorSchema,
        'the answer is not allowed for this prompt, or its fields are invalid for it, or decidedAt lies in the future, further back than a person may date a decision, or before the referral; or idempotency-key-reused: this Idempotency-Key already answered the prompt with a different body or from another caller',
      ),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/reports/timeliness',
    summary: "Timeliness per month from visibility (roles manager, operations): the engine's own figures and, in dfe, the DfE measure as the CIN census counts it (assessments: start to authorisation within 45 working days; type=section-47-enquiry: start to initial conference within 15)",
    security,
    request: { query: timelinessQuerySchema },
    responses: { 200: json(z.record(z.string(), z.unknown()), 'the report'), 422: json(errorSchema, 'from is after to, or more assessments match than one report reads (narrow it)'), ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/reports/cin-census',
    summary: 'The Children in Need census return for a census year (role operations); the child identifiers in the body are used for this answer only, never kept',
    security,
    // From zod's own JSON Schema: it states the childRef keys of `children` (propertyNames), which the generator leaves out.
    request: {
      body: {
        description: 'the census year, the header, and per childRef the identifiers and characteristics the engine does not hold (up to 25 MB)',
        required: true,
        content: { 'application/json': { schema: censusRequestJsonSchema() } },
      },
    },
    responses: {
      200: {
        description:
          'the return: the census XML (application/xml, the default; streamed), or with Accept: application/json the summary alone (children, who was left out and why, what is missing). The headers census-children, census-left-out and census-warnings carry the counts either way.',
        headers: {
          'census-children': { description: 'children in the return', schema: { type: 'string' as const } },
          'census-left-out': { description: 'children left out (the JSON summary says why)', schema: { type: 'string' as const } },
          'census-warnings': { description: 'census items missing for children in the return (the JSON summary names them)', schema: { type: 'string' as const } },
        },
        content: {
          'application/xml': { schema: z.string().describe('<Message> with Header and Children, no namespace') },
          'application/json': {
            schema: z.object({
              censusYear: z.string(),
              referenceDate: z.string(),
              children: z.number().int(),
              leftOut: z.array(z.object({ childRef: z.string(), reason: z.string() })),
              leftOutByReason: z.record(z.string(), z.number().int()),
              warnings: z.array(z.object({ childRef: z.string(), referralId: z.string(), item: z.string(), message: z.string() })),
              workflowsRead: z.number().int(),
            }),
          },
        },
      },
      ...errors,
      ...writeErrors,
      413: json(errorSchema, 'the body is larger than 25 MB'),
      422: json(errorSchema, 'more workflows match than one return reads: narrow it by team or localAuthority'),
      503: json(errorSchema.extend({ unreadableWorkflowIds: z.array(z.string()).optional() }), 'census-incomplete: some workflows could not be read, and no return is made from part of the cases'),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/healthz',
    summary: 'Whether the API is up and Temporal reachable (no auth)',
    responses: { 200: json(z.object({ status: z.string(), temporal: z.string() }), 'ok'), 503: json(z.object({ status: z.string(), temporal: z.string() }), 'Temporal unreachable') },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/openapi.json',
    summary: 'This document (no auth)',
    responses: { 200: json(z.record(z.string(), z.unknown()), 'OpenAPI 3.1') },
  });

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'Assessment engine API', version: '1.0.0', description: "Children's social care assessments as durable Temporal workflows" },
    servers: [{ url: '/' }],
  });
}
