/**
 * The workflow side of the traces (README "Traces"): compiled into the bundle only when
 * tracing is on (`bundleWorkflows({ tracing: true })`, worker/worker.ts); the default
 * bundle has none of it.
 *
 * Not the interceptors of `@temporalio/interceptors-opentelemetry` (its
 * `workflow-interceptors` module), though it speaks their language: the same span names
 * (`RunWorkflow:referralWorkflow`, `StartActivity:notify`, `HandleUpdate:decide`, ...),
 * the same `_tracer-data` header, the same `exporter` sink and the same client and activity
 * interceptors on either side. The package's workflow interceptors wrap each call in
 * `async` functions that await the call's promise, so a workflow's code resumes a few
 * microtasks later after an activity, a child's start or its own start than it does
 * without them; where two things finish in one activation, the workflow then issues its
 * commands in another order. Replayed on them, 12 of the 63 histories recorded without
 * tracing (test/fixtures/histories) failed with non-determinism errors
 * (test/tracing/traces.test.ts): turning tracing on, or off, would have broken cases that
 * were open.
 *
 * Here every interceptor returns the very promise the SDK gave it and ends its span in a
 * reaction attached beside the workflow's own (registered first, it runs just before the
 * workflow's continuation and does nothing the workflow can see), and runs the call itself
 * synchronously. The workflow's code runs in the same order with tracing on as off, so
 * tracing can be turned on and off while cases are open (the same test replays every
 * recorded history on this module).
 *
 * Also unlike the package: span ids are derived from the run id and the call (the
 * activity's sequence number, the update's id), never from the workflow's random numbers,
 * which stay the workflow's own; and queries make no span in the workflow (the client's
 * `QueryWorkflow` span stands for them), so that nothing outside history changes what a
 * replay computes. Workflow spans are timed in workflow time (when the activation began),
 * and a workflow's `RunWorkflow` span ends, and is exported, when the workflow closes.
 */
// The browser globals the OpenTelemetry SDK expects (performance, window), in workflow time.
import '@temporalio/interceptors-opentelemetry/lib/workflow/runtime';
import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, SimpleSpanProcessor, type IdGenerator } from '@opentelemetry/sdk-trace-base';
import { TRACE_HEADER } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import { ContextManager } from '@temporalio/interceptors-opentelemetry/lib/workflow/context-manager';
import { SpanExporter } from '@temporalio/interceptors-opentelemetry/lib/workflow/span-exporter';
import { ApplicationFailureCategory } from '@temporalio/common';
import {
  ApplicationFailure,
  ContinueAsNew,
  defaultPayloadConverter,
  workflowInfo,
  type Headers,
  type WorkflowInterceptors,
} from '@temporalio/workflow';

/** 16 hex digits from a text (two 32-bit FNV-1a hashes with different offsets). */
function hex64(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x01000193);
  }
  return ((a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0')).replace(/^0{16}$/, '0000000000000001');
}

/** Span and trace ids from the key set just before each span starts (startSpan is synchronous). */
class KeyedIds implements IdGenerator {
  key = '';
  generateTraceId(): string {
    return hex64(`${this.key}|trace-1`) + hex64(`${this.key}|trace-2`);
  }
  generateSpanId(): string {
    return hex64(`${this.key}|span`);
  }
}

const propagator = new W3CTraceContextPropagator();

/** The caller's trace context from a call's Temporal headers (as the package's client interceptor wrote it). */
function contextFrom(headers: Headers): Context {
  const payload = headers[TRACE_HEADER];
  if (payload === undefined) return ROOT_CONTEXT;
  const carrier = defaultPayloadConverter.fromPayload<Record<string, string>>(payload);
  return propagator.extract(ROOT_CONTEXT, carrier ?? {}, defaultTextMapGetter);
}

/** Headers carrying `context` (W3C trace context only) to an activity or another workflow. */
function headersWith(context: Context, headers: Headers): Headers {
  const carrier: Record<string, string> = {};
  propagator.inject(context, carrier, defaultTextMapSetter);
  return { ...headers, [TRACE_HEADER]: defaultPayloadConverter.toPayload(carrier) };
}

/** An error's type for the span: an ApplicationFailure's own type (a code), else the error's name. Never its message. */
function errorType(error: unknown): string {
  if (error instanceof ApplicationFailure && error.type) return error.type;
  return error instanceof Error ? error.name : typeof error;
}

export const interceptors = (): WorkflowInterceptors => {
  const ids = new KeyedIds();
  const provider = new BasicTracerProvider({ idGenerator: ids, spanProcessors: [new SimpleSpanProcessor(new SpanExporter())] });
  const tracer = provider.getTracer('assessment-workflow');
  // The active span of the code running now (the SDK's AsyncLocalStorage: it adds no microtask).
  const contexts = new ContextManager();
  let signals = 0;

  const start = (name: string, key: string, parent: Context, attributes: Attributes = {}, kind: SpanKind = SpanKind.INTERNAL): Span => {
    ids.key = `${workflowInfo().runId}|${key}`;
    return tracer.startSpan(name, { kind, attributes }, parent);
  };
  const fail = (span: Span, error: unknown) => {
    const benign = error instanceof ApplicationFailure && error.category === ApplicationFailureCategory.BENIGN;
    span.setStatus({ code: benign ? SpanStatusCode.UNSET : SpanStatusCode.ERROR });
    span.addEvent('exception', { 'exception.type': errorType(error) });
  };
  /** Ends `span` when `promise` settles, and returns `promise` itself: the workflow awaits what it would have awaited. */
  const endWhenSettled = <T>(span: Span, promise: Promise<T>, acceptable?: (error: unknown) => boolean): Promise<T> => {
    promise.then(
      () => {
        span.setStatus({ code: SpanStatusCode.OK });
        span.end();
      },
      (error: unknown) => {
        if (acceptable?.(error)) span.setStatus({ code: SpanStatusCode.OK });
        else fail(span, error);
        span.end();
      },
    );
    return promise;
  };
  /** Runs `call` synchronously with `span` active; its promise is the one returned. */
  const within = <T>(span: Span, parent: Context, call: () => Promise<T>, acceptable?: (error: unknown) => boolean): Promise<T> => {
    let promise: Promise<T>;
    try {
      promise = contexts.with(trace.setSpan(parent, span), call);
    } catch (error) {
      fail(span, error);
      span.end();
      throw error;
    }
    return endWhenSettled(span, promise, acceptable);
  };
  const isContinueAsNew = (error: unknown) => error instanceof ContinueAsNew;

  return {
    inbound: [
      {
        execute: (input, next) => {
          const parent = contextFrom(input.headers);
          const span = start(`RunWorkflow:${workflowInfo().workflowType}`, 'run', parent);
          return within(span, parent, () => next(input), isContinueAsNew);
        },
        handleSignal: (input, next) => {
          const parent = contextFrom(input.headers);
          signals += 1;
          const span = start(`HandleSignal:${input.signalName}`, `signal|${signals}`, parent);
          return within(span, parent, () => next(input));
        },
        handleUpdate: (input, next) => {
          const parent = contextFrom(input.headers);
          const span = start(`HandleUpdate:${input.name}`, `update|${input.updateId}`, parent, { temporalUpdateId: input.updateId });
          return within(span, parent, () => next(input));
        },
        validateUpdate: (input, next) => {
          const parent = contextFrom(input.headers);
          const span = start(`ValidateUpdate:${input.name}`, `validate|${input.updateId}`, parent, { temporalUpdateId: input.updateId });
          try {
            contexts.with(trace.setSpan(parent, span), () => next(input));
            span.setStatus({ code: SpanStatusCode.OK });
          } catch (error) {
            fail(span, error);
            throw error;
          } finally {
            span.end();
          }
        },
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => {
          const parent = contexts.active();
          const span = start(`StartActivity:${input.activityType}`, `activity|${input.seq}`, parent, {}, SpanKind.CLIENT);
          return within(span, parent, () => next({ ...input, headers: headersWith(trace.setSpan(parent, span), input.headers) }));
        },
        scheduleLocalActivity: (input, next) => {
          const parent = contexts.active();
          const span = start(`StartActivity:${input.activityType}`, `local-activity|${input.seq}`, parent, {}, SpanKind.CLIENT);
          return within(span, parent, () => next({ ...input, headers: headersWith(trace.setSpan(parent, span), input.headers) }));
        },
        startChildWorkflowExecution: (input, next) => {
          const parent = contexts.active();
          const span = start(`StartChildWorkflow:${input.workflowType}`, `child|${input.seq}`, parent, { temporalWorkflowId: input.options.workflowId }, SpanKind.CLIENT);
          return within(span, parent, () => next({ ...input, headers: headersWith(trace.setSpan(parent, span), input.headers) }));
        },
        signalWorkflow: (input, next) => {
          const parent = contexts.active();
          const target = input.target.type === 'external' ? input.target.workflowExecution.workflowId : input.target.childWorkflowId;
          const span = start(`SignalWorkflow:${input.signalName}`, `signal-out|${input.seq}`, parent, target ? { temporalWorkflowId: target } : {}, SpanKind.CLIENT);
          return within(span, parent, () => next({ ...input, headers: headersWith(trace.setSpan(parent, span), input.headers) }));
        },
        continueAsNew: (input, next) => {
          const parent = contexts.active();
          const span = start(`ContinueAsNew:${input.options.workflowType}`, 'continue-as-new', parent);
          return within(span, parent, () => next({ ...input, headers: headersWith(trace.setSpan(parent, span), input.headers) }), isContinueAsNew);
        },
        getLogAttributes: (input, next) => {
          const spanContext = trace.getSpan(contexts.active())?.spanContext();
          return next(spanContext ? { trace_id: spanContext.traceId, span_id: spanContext.spanId, ...input } : input);
        },
      },
    ],
    internals: [
      {
        dispose: (input, next) => {
          contexts.disable();
          next(input);
        },
      },
    ],
  };
};
