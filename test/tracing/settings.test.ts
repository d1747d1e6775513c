import { readFileSync } from 'node:fs';
import { propagation, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../common/config';
import { EXPORTED_ATTRIBUTES, redactSpan, startTracing, tracingOff } from '../../common/tracing';
import { DEFAULT_OTLP_TRACES_URL } from '../../common/tracing-config';
import { bundleTraces } from '../../worker/worker';

/**
 * Issue 16, traces: off by default, on when asked for with the standard OpenTelemetry
 * variables, and what leaves the process when on (common/tracing.ts `redactSpan`). This
 * file never starts tracing: it checks that off means nothing registered.
 */
const tracingOf = (env: Record<string, string>) => loadConfig({ DATA_DIR: '/tmp/unused', ...env }).tracing;

describe('tracing settings', () => {
  it('is off by default, and on with TRACING=on or an OTLP endpoint', () => {
    expect(tracingOf({})).toBeUndefined();
    expect(tracingOf({ TRACING: '', OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '' })).toBeUndefined();
    expect(tracingOf({ TRACING: 'on' })).toEqual({ url: DEFAULT_OTLP_TRACES_URL });
    expect(tracingOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toEqual({ url: 'http://collector:4318/v1/traces' });
    expect(tracingOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/otlp' })).toEqual({
      url: 'https://traces.example/otlp',
    });
    expect(tracingOf({ TRACING: 'on', OTEL_SERVICE_NAME: 'assessment-api-blue' })).toEqual({ url: DEFAULT_OTLP_TRACES_URL, serviceName: 'assessment-api-blue' });
  });

  it('stays off when told to, whatever endpoint is set, and refuses a nonsense setting', () => {
    expect(tracingOf({ TRACING: 'off', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBeUndefined();
    expect(tracingOf({ OTEL_SDK_DISABLED: 'TRUE', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBeUndefined();
    expect(() => tracingOf({ TRACING: 'yes' })).toThrow(/TRACING/);
    expect(() => tracingOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });
});

describe('tracing off', () => {
  it('registers nothing: no tracer provider, no propagator, spans are not recorded', async () => {
    expect(await startTracing(undefined, { serviceName: 'assessment-test' })).toBe(tracingOff);
    const span = trace.getTracer('test').startSpan('anything');
    expect(span.isRecording()).toBe(false);
    expect(span.spanContext().traceFlags).toBe(TraceFlags.NONE);
    span.end();
    expect(propagation.fields()).toEqual([]);
  });

  it('the default workflow bundle (global setup) has no tracing interceptor', () => {
    const code = readFileSync(inject('workflowBundlePath'), 'utf8');
    expect(bundleTraces(code)).toBe(false);
    // No module of the package at all (the SDK's own comments name it, so the text is not enough).
    expect(code).not.toMatch(/interceptors-opentelemetry\/lib\/\S+\.js/);
  });
});

describe('what a span may carry out of the process', () => {
  const MARKER = 'Jane Doe said the child was hurt';
  const span: ReadableSpan = {
    name: 'HandleUpdate:decide',
    kind: SpanKind.INTERNAL,
    spanContext: () => ({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED }),
    parentSpanId: '00f067aa0ba902b7',
    startTime: [1, 0],
    endTime: [2, 0],
    status: { code: SpanStatusCode.ERROR, message: MARKER },
    // What the workflow sink copies in: the whole workflow info, search attributes and memo among it.
    attributes: {
      temporalUpdateId: 'c0a8012e-0000-4000-8000-000000000001',
      workflowId: 'referral-REF-4001',
      runId: 'run-1',
      workflowType: 'referralWorkflow',
      taskQueue: 'assessments',
      namespace: 'default',
      temporalTerminateReason: MARKER,
      searchAttributes: { LocalAuthority: [MARKER] } as never,
      memo: { inputSha256: MARKER } as never,
      'exception.message': MARKER,
      historyLength: 12,
    },
    links: [{ context: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: '00f067aa0ba902b7', traceFlags: 1 }, attributes: { note: MARKER } }],
    events: [
      { name: 'exception', time: [1, 5], attributes: { 'exception.type': 'ApplicationFailure', 'exception.message': MARKER, 'exception.stacktrace': `Error: ${MARKER}\n    at x` } },
      { name: MARKER, time: [1, 6] },
    ],
    duration: [1, 0],
    ended: true,
    resource: new Resource({ 'service.name': 'assessment-worker' }),
    instrumentationLibrary: { name: '@temporalio/interceptor-workflow' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };

  it('keeps opaque ids, types and codes; drops free text, messages, stacks, search attributes and memo', () => {
    const redacted = redactSpan(span);
    expect(redacted.attributes).toEqual({
      temporalUpdateId: 'c0a8012e-0000-4000-8000-000000000001',
      workflowId: 'referral-REF-4001',
      runId: 'run-1',
      workflowType: 'referralWorkflow',
      taskQueue: 'assessments',
      namespace: 'default',
    });
    expect(redacted.status).toEqual({ code: SpanStatusCode.ERROR });
    expect(redacted.events).toEqual([{ name: 'exception', time: [1, 5], attributes: { 'exception.type': 'ApplicationFailure' } }]);
    expect(redacted.links).toEqual([{ context: span.links[0]?.context }]);
    expect(redacted.spanContext()).toEqual(span.spanContext());
    expect(redacted.parentSpanId).toBe(span.parentSpanId);
    expect(redacted.droppedAttributesCount).toBe(5);
    expect(redacted.droppedEventsCount).toBe(1);
    expect(JSON.stringify({ ...redacted, spanContext: redacted.spanContext() })).not.toContain('Jane Doe');
    for (const key of Object.keys(redacted.attributes)) expect(EXPORTED_ATTRIBUTES.has(key)).toBe(true);
  });
});
