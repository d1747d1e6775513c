import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EXPORTED_ATTRIBUTES, startTracing, type Tracing } from '../../common/tracing';
import { connectWorkerConnection, dataConverter } from '../../common/temporal';
import { referralWorkflowId } from '../../domain/ids';
import { bundleTraces, bundleWorkflows, createWorker, workflowsPath } from '../../worker/worker';
import { consentEvent, eventually, newReferralId, referralBody, startApi, type ApiUnderTest } from '../api/support';
import { testCodec } from '../support/payload-keys';
import { devServerHarness, type DevServerHarness } from '../support/temporal';

/**
 * Issue 16, traces: with tracing on, one request's trace runs from the API's server span
 * through the Temporal client's call into the workflow and its activities on the worker,
 * and nothing in it is a payload, a name or free text. The spans go to an in-memory
 * exporter through the same batch and redaction as to OTLP (common/tracing.ts).
 */
const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let tracedBundle: { code: string };
let harness: DevServerHarness;
let api: ApiUnderTest;
/** The referral the first test runs with tracing on, its history replayed without tracing below. */
let tracedWorkflowId: string | undefined;

// Free text and references that are not workflow ids: none may appear in any span.
const stamp = Date.now().toString(36).toUpperCase();
const MARKER = `Zebedee Quill ${stamp} disclosed at school`;
const MARKER_CODES = [`LA${stamp}9`, `MGR${stamp}7`];
const team = `TR${stamp}1`;

beforeAll(async () => {
  // The URL is never used: spans go to the exporter given.
  tracing = await startTracing({ url: 'http://127.0.0.1:9/v1/traces' }, { serviceName: 'assessment-test', exporter });
  // The worker's own bundle, with the tracing interceptors (the shared one has none).
  tracedBundle = await bundleWorkflows({ workflowsPath, tracing: true });
  harness = await devServerHarness({ tracing, workflowBundle: tracedBundle });
  api = await startApi({ harness, tracing: true });
}, 180_000);

afterAll(async () => {
  await api?.stop();
  await harness?.stop();
  await tracing?.shutdown();
});

const spans = () => exporter.getFinishedSpans();
const named = (name: string, traceId?: string) => spans().filter((span) => span.name === name && (!traceId || span.spanContext().traceId === traceId));
const parentOf = (span: ReadableSpan) => spans().find((candidate) => candidate.spanContext().spanId === span.parentSpanId);

/** Polls, flushing the batch each time, until `find` returns a span. */
async function flushedSpan(find: () => ReadableSpan | undefined, timeoutMs = 30_000): Promise<ReadableSpan> {
  return eventually(async () => {
    await tracing.forceFlush();
    return find();
  }, timeoutMs);
}

describe('traces across API, client, workflow and activity', () => {
  it('follows a referral from POST /v1/referrals into its workflow and activities, and a decision into its update, in one trace each', async () => {
    const system = await api.token('system', 'SYS-1');
    const manager = await api.token('manager', 'MGR-1', team);
    const referralId = newReferralId();
    const workflowId = referralWorkflowId(referralId);
    tracedWorkflowId = workflowId;
    const [localAuthority, managerId] = MARKER_CODES as [string, string];

    const started = await api.call('POST', '/v1/referrals', {
      token: system,
      body: referralBody(referralId, { team, managerId, localAuthority, children: [{ childRef: 'C-1', dateOfBirth: '2015-03-04' }] }),
    });
    expect(started.status).toBe(201);

    // The server span, named by its route pattern.
    const server = await flushedSpan(() => named('POST /v1/referrals').find((span) => span.attributes['http.response.status_code'] === 201));
    const traceId = server.spanContext().traceId;
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.attributes).toEqual({ 'http.request.method': 'POST', 'http.route': '/v1/referrals', 'http.response.status_code': 201 });
    expect(server.resource.attributes['service.name']).toBe('assessment-test');

    // The client's start, its child, naming the workflow by id.
    const start = named('StartWorkflow:referralWorkflow', traceId)[0];
    expect(start?.parentSpanId).toBe(server.spanContext().spanId);
    expect(start?.attributes.temporalWorkflowId).toBe(workflowId);

    // A decision closes the referral: its request's trace reaches the workflow's update handler.
    expect((await api.call('POST', `/v1/referrals/${referralId}/events`, { token: system, body: consentEvent('EV-T1') })).status).toBe(202);
    // The same event again: the workflow's validator refuses the repeat. Its span says so by
    // status and the failure's type code, never by the failure's message.
    const repeat = await api.call('POST', `/v1/referrals/${referralId}/events`, { token: system, body: consentEvent('EV-T1') });
    expect(repeat.status).toBeLessThan(300);
    const refused = await flushedSpan(() => named('ValidateUpdate:recordEvent').find((span) => span.status.code === SpanStatusCode.ERROR && span.attributes.temporalUpdateId !== undefined));
    expect(refused.events).toEqual([expect.objectContaining({ name: 'exception', attributes: { 'exception.type': 'duplicate-event' } })]);
    expect(refused.status).toEqual({ code: SpanStatusCode.ERROR });
    expect(parentOf(refused)?.name).toBe('StartWorkflowUpdate:recordEvent');
    const promptId = `${workflowId}~duty-decision-1`;
    const decided = await eventually(async () => {
      const answer = await api.call('POST', `/v1/prompts/${promptId}/decision`, { token: manager, body: { decision: 'no-further-action', rationale: MARKER } });
      return answer.status === 200 ? answer : undefined;
    });
    expect(decided.status).toBe(200);
    const decisionServer = await flushedSpan(() => named('POST /v1/prompts/:promptId/decision').find((span) => span.attributes['http.response.status_code'] === 200));
    const decisionTrace = decisionServer.spanContext().traceId;
    const startUpdate = named('StartWorkflowUpdate:decide', decisionTrace)[0];
    expect(startUpdate?.parentSpanId).toBe(decisionServer.spanContext().spanId);
    const handleUpdate = await flushedSpan(() => named('HandleUpdate:decide', decisionTrace)[0]);
    expect(handleUpdate.parentSpanId).toBe(startUpdate?.spanContext().spanId);

    // In the worker: the activity the workflow schedules once the referral is closed (the
    // referrer is told), in the referral's trace. (The API passes the working calendar in with
    // the start, so the referral has no activity before its duty decision.)
    const runActivity = await flushedSpan(() => named('RunActivity:notify', traceId)[0]);
    expect(runActivity.attributes).toMatchObject({ temporalWorkflowId: workflowId });
    // The workflow's span of it ends when the workflow has the result, a task later.
    const startActivity = await flushedSpan(() => parentOf(runActivity));
    expect(startActivity.name).toBe('StartActivity:notify');
    expect(startActivity.spanContext().traceId).toBe(traceId);

    // The workflow's own span ends when the referral closes: the client's start is its parent,
    // and it is the parent of the activities it scheduled.
    const runWorkflow = await flushedSpan(() => named('RunWorkflow:referralWorkflow', traceId)[0], 45_000);
    expect(runWorkflow.parentSpanId).toBe(start?.spanContext().spanId);
    expect(startActivity.parentSpanId).toBe(runWorkflow.spanContext().spanId);
    expect(runWorkflow.attributes).toMatchObject({ workflowId, workflowType: 'referralWorkflow', taskQueue: harness.taskQueue });
    expect(runWorkflow.resource.attributes['service.name']).toBe('assessment-test');

    // A refused request has a span too, with its status and no message: the prompt is closed now.
    const again = await api.call('POST', `/v1/prompts/${promptId}/decision`, { token: manager, body: { decision: 'early-help', rationale: MARKER } });
    expect(again.status).toBe(409);
    await flushedSpan(() => named('POST /v1/prompts/:promptId/decision').find((span) => span.attributes['http.response.status_code'] === 409));

    // Nothing but opaque references anywhere: no free text, no code from the body, no search
    // attribute or memo, no URL with ids in a span's name.
    const everything = spans();
    expect(everything.length).toBeGreaterThan(10);
    const text = JSON.stringify(everything.map((span) => ({ name: span.name, attributes: span.attributes, events: span.events, status: span.status, links: span.links, resource: span.resource.attributes })));
    expect(text).not.toContain(MARKER);
    expect(text).not.toContain(stamp);
    expect(text).not.toContain('2015-03-04');
    for (const span of everything) {
      expect(span.name, span.name).not.toContain('REF-');
      expect(span.status.message, span.name).toBeUndefined();
      for (const key of Object.keys(span.attributes)) expect(EXPORTED_ATTRIBUTES.has(key), `${span.name}: ${key}`).toBe(true);
      for (const event of span.events) expect(Object.keys(event.attributes ?? {}).filter((key) => key !== 'exception.type'), span.name).toEqual([]);
    }
    // The workflow ids are there: they are the references an operator follows.
    expect(text).toContain(workflowId);
  }, 120_000);

  it('a worker with tracing on refuses a bundle built without the tracing interceptors, and the traced bundle has them', async () => {
    expect(bundleTraces(tracedBundle.code)).toBe(true);
    const connection = await connectWorkerConnection(inject('devServerAddress'));
    try {
      await expect(
        createWorker({
          connection,
          namespace: 'default',
          taskQueue: 'never-polled',
          codec: testCodec(),
          deps: { outbound: { outboxDir: '/tmp/unused' } },
          workflowBundle: { codePath: inject('workflowBundlePath') },
          tracing,
        }),
      ).rejects.toThrow(/no tracing interceptors/);
      await expect(
        createWorker({
          connection,
          namespace: 'default',
          taskQueue: 'never-polled',
          codec: testCodec(),
          deps: { outbound: { outboxDir: '/tmp/unused' } },
          workflowBundle: tracedBundle,
        }),
      ).rejects.toThrow(/built for tracing/);
    } finally {
      await connection.close();
    }
  });
});

describe('turning tracing on or off while cases are open', () => {
  it('replays every recorded history (made without tracing) on the traced bundle, and a traced case on the default bundle, without non-determinism', async () => {
    const fixturesDir = resolve(__dirname, '..', 'fixtures', 'histories');
    const fixtures = readdirSync(fixturesDir).filter((file) => file.endsWith('.json'));
    expect(fixtures.length).toBeGreaterThan(10);
    const histories = fixtures.map((file) => {
      const { workflowId, history } = JSON.parse(readFileSync(join(fixturesDir, file), 'utf8')) as { workflowId: string; history: Record<string, unknown> };
      return { workflowId, history: temporal.api.history.v1.History.fromObject(history) };
    });
    if (!tracing.enabled) throw new Error('tracing is on in this file');
    // And the other way: a case run with tracing on (the first test's) replays on the default bundle.
    expect(tracedWorkflowId).toBeDefined();
    const traced = await harness.client.workflow.getHandle(tracedWorkflowId as string).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: dataConverter(testCodec()) }, traced, tracedWorkflowId);
    await Worker.runReplayHistory({ workflowBundle: tracedBundle, dataConverter: dataConverter(testCodec()), sinks: tracing.workerOptions.sinks }, traced, tracedWorkflowId);
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: tracedBundle, dataConverter: dataConverter(testCodec()), sinks: tracing.workerOptions.sinks, interceptors: tracing.workerOptions.interceptors },
      histories,
    )) {
      if (result.error) failures.push(`${result.workflowId}: ${String(result.error)}`);
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
