import type { Attributes, Link, SpanStatus } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, SpanExporter, SpanProcessor, TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import type { TracingConfig } from './tracing-config';

/**
 * OpenTelemetry traces across API → client → workflow → activity (README "Traces"), off
 * by default. Off, `startTracing` returns `tracingOff`: nothing is registered, no SDK
 * module is loaded, no interceptor is installed and the workflow bundle is the default one.
 *
 * On, one tracer provider per process (registered globally: the API's request spans, the
 * Temporal client interceptor and the activity interceptor use it) sends spans in batches
 * to an OTLP/HTTP endpoint, and the worker's workflow spans (made inside the workflow
 * sandbox by the interceptor module compiled into the bundle) reach the same batch through
 * the `exporter` sink.
 *
 * Spans carry opaque references only: every span passes `redactSpan` before it is
 * exported, which keeps the attributes in `EXPORTED_ATTRIBUTES` and nothing else (the
 * workflow sink copies the whole workflow info, search attributes and memo included, into
 * a workflow span's attributes), an error's type but never its message or stack (failure
 * messages are encrypted in history for a reason), and no status message.
 */
export type Tracing = TracingOff | TracingOn;

export interface TracingOff {
  readonly enabled: false;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface TracingOn {
  readonly enabled: true;
  readonly resource: Resource;
  /** The batch every span goes through (the workflow sink feeds it too). */
  readonly spanProcessor: SpanProcessor;
  /** For the Temporal client (connectClient): workflow start, signal, update and query become spans, their context sent in headers. */
  readonly clientInterceptors: WorkflowClientInterceptor[];
  /** For Worker.create (createWorker): the activity interceptors and the sink that exports workflow spans. */
  readonly workerOptions: Required<Pick<WorkerOptions, 'sinks'>> & { interceptors: Required<Pick<NonNullable<WorkerOptions['interceptors']>, 'activity'>> };
  /** Sends what the batch holds now. */
  forceFlush(): Promise<void>;
  /** Flushes and stops; the process's last call. */
  shutdown(): Promise<void>;
}

export const tracingOff: TracingOff = Object.freeze({
  enabled: false as const,
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
});

/**
 * The attributes a span may carry out of the process: workflow, run, activity and update
 * ids (opaque references: `referral-REF-4001`, UUIDs), workflow types, task queue and
 * namespace, and the HTTP method, route pattern and status of an API request.
 */
export const EXPORTED_ATTRIBUTES: ReadonlySet<string> = new Set([
  // The Temporal interceptors' own (instrumentation.ts of @temporalio/interceptors-opentelemetry).
  'temporalWorkflowId',
  'run_id',
  'temporalActivityId',
  'temporalUpdateId',
  // Of the workflow info the workflow sink adds to a workflow span.
  'workflowId',
  'runId',
  'workflowType',
  'taskQueue',
  'namespace',
  // The API's request span (api/request-tracing.ts).
  'http.request.method',
  'http.route',
  'http.response.status_code',
]);

const EXCEPTION_EVENT = 'exception';
const EXCEPTION_TYPE = 'exception.type';

function keepAttributes(attributes: Attributes): Attributes {
  const kept: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (EXPORTED_ATTRIBUTES.has(key) && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) kept[key] = value;
  }
  return kept;
}

/**
 * The span as it may leave the process: the allowed attributes only; an exception event
 * keeps its type (`ApplicationFailure`, an error code), never its message or stack; other
 * events and the status message are dropped; links keep their span context only.
 */
export function redactSpan(span: ReadableSpan): ReadableSpan {
  const attributes = keepAttributes(span.attributes);
  const events: TimedEvent[] = span.events
    .filter((event) => event.name === EXCEPTION_EVENT)
    .map((event) => ({
      name: EXCEPTION_EVENT,
      time: event.time,
      attributes: typeof event.attributes?.[EXCEPTION_TYPE] === 'string' ? { [EXCEPTION_TYPE]: event.attributes[EXCEPTION_TYPE] } : {},
    }));
  const status: SpanStatus = { code: span.status.code };
  const links: Link[] = span.links.map((link) => ({ context: link.context }));
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    parentSpanId: span.parentSpanId,
    startTime: span.startTime,
    endTime: span.endTime,
    status,
    attributes,
    links,
    events,
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationLibrary: span.instrumentationLibrary,
    droppedAttributesCount: span.droppedAttributesCount + Object.keys(span.attributes).length - Object.keys(attributes).length,
    droppedEventsCount: span.droppedEventsCount + span.events.length - events.length,
    droppedLinksCount: span.droppedLinksCount,
  };
}

/** Every span goes through `redactSpan` on its way to the exporter. */
export class RedactingSpanExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans.map(redactSpan), resultCallback);
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

export interface StartTracingOptions {
  /** `service.name` unless OTEL_SERVICE_NAME (or OTEL_RESOURCE_ATTRIBUTES) says otherwise: `assessment-api`, `assessment-worker`, `assessment-engine`. */
  serviceName: string;
  /** Where spans go instead of `config.url` (tests: an InMemorySpanExporter); they are redacted all the same. */
  exporter?: SpanExporter;
}

/**
 * Starts tracing when `config` says so (common/tracing-config.ts: TRACING, the OTLP
 * endpoints), else returns `tracingOff` having loaded and registered nothing. Once per
 * process, before the Temporal client and worker are made (they take its interceptors).
 */
export async function startTracing(config: TracingConfig | undefined, options: StartTracingOptions): Promise<Tracing> {
  if (!config) return tracingOff;
  const [api, core, resources, traceBase, traceNode, otlp, temporalOtel] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@temporalio/interceptors-opentelemetry'),
  ]);

  // Export failures (a collector down) and dropped spans are reported, once per batch, on stderr.
  api.diag.setLogger(
    {
      error: (message: string) => console.error(`[tracing] ${message}`),
      warn: (message: string) => console.error(`[tracing] ${message}`),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    api.DiagLogLevel.WARN,
  );

  const serviceName = config.serviceName ?? options.serviceName;
  const resource = new resources.Resource({
    ...resources.Resource.default().attributes,
    'service.name': options.serviceName,
    // OTEL_RESOURCE_ATTRIBUTES (e.g. deployment.environment=production) and OTEL_SERVICE_NAME.
    ...resources.envDetectorSync.detect().attributes,
    ...(config.serviceName ? { 'service.name': serviceName } : {}),
  });
  // OTLP/HTTP (JSON over http/protobuf's path); OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT and _COMPRESSION apply as the exporter reads them.
  const exporter = options.exporter ?? new otlp.OTLPTraceExporter({ url: config.url });
  const spanProcessor = new traceBase.BatchSpanProcessor(new RedactingSpanExporter(exporter));
  // The sampler is OTEL_TRACES_SAMPLER's (default: every trace, or as the caller's traceparent says).
  const provider = new traceNode.NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // W3C trace context only: no baggage, so that nothing but trace and span ids travels in Temporal headers.
  provider.register({ propagator: new core.W3CTraceContextPropagator() });

  const { OpenTelemetryWorkflowClientInterceptor, OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor, makeWorkflowExporter } = temporalOtel;
  return {
    enabled: true,
    resource,
    spanProcessor,
    clientInterceptors: [new OpenTelemetryWorkflowClientInterceptor()],
    workerOptions: {
      interceptors: {
        activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
      },
      sinks: { exporter: makeWorkflowExporter(spanProcessor, resource) },
    },
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
