import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, makeTelemetryFilterString, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { connectClient, connectWorkerConnection, dataConverter } from '../../common/temporal';
import type { Tracing } from '../../common/tracing';
import { installRuntime } from '../../worker/telemetry';
import { createWorker } from '../../worker/worker';
import { leftTaskQueue } from './leftovers';
import { testCodec } from './payload-keys';

/**
 * Failures a test provokes on purpose (e.g. a receiver down, test/properties/receivers.ts)
 * carry this phrase in their message, so that the worker's log leaves them out.
 */
export const PROVOKED_FAILURE = 'provoked by the test';

/**
 * The Java test server strands a workflow task whose completion cancels a timer that fired
 * while the task was with the worker (temporalio/sdk-java#3088): it refuses the completion
 * with this message, never hands the task out again, and never skips time again. Listeners
 * (the property driver) hear of it at once rather than waiting for a stall.
 */
export const STRANDED_TASK = 'invalid history builder state for action';
const strandedListeners = new Set<() => void>();
export function onStrandedTask(listener: () => void): () => void {
  strandedListeners.add(listener);
  return () => strandedListeners.delete(listener);
}

// Workers log at WARN so test output stays readable; failures provoked on purpose are left out.
const printer = new DefaultLogger('WARN');
/**
 * Temporal Core's Prometheus text of this test process's workers (a loopback port of its
 * own, worker/telemetry.ts): the Runtime is installed once per process, so every test
 * file's Runtime exports it, and test/metrics scrapes it.
 */
export const coreMetrics = installRuntime({
  // Core's own log lines (the stranded-task refusal among them) come through this logger too.
  telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} } },
  logger: new DefaultLogger('WARN', (entry) => {
    const meta = entry.meta !== undefined ? inspect(entry.meta, { depth: 6 }) : '';
    if (entry.message.includes(STRANDED_TASK) || meta.includes(STRANDED_TASK)) for (const listener of strandedListeners) listener();
    if (entry.message.includes(PROVOKED_FAILURE) || meta.includes(PROVOKED_FAILURE)) return;
    printer.log(entry.level, entry.message, entry.meta);
  }),
}, true);

type CreateOptions = {
  server: { type: 'existing' };
  address: string;
  namespace: string;
  supportsTimeSkipping: boolean;
  connectionOptions?: { channelArgs?: Record<string, number> };
  client?: { dataConverter?: ReturnType<typeof dataConverter> };
};

/**
 * A time-skipping environment on the test server started in global setup. The SDK's
 * public factories either start their own server (with a ~5 s start-up limit a cold JVM
 * can miss) or connect without time skipping; `create` is the path they both use.
 */
export async function timeSkippingEnvironment(address = inject('testServerAddress')): Promise<TestWorkflowEnvironment> {
  const create = (TestWorkflowEnvironment as unknown as { create(options: CreateOptions): Promise<TestWorkflowEnvironment> }).create.bind(
    TestWorkflowEnvironment,
  );
  return create({
    server: { type: 'existing' },
    address,
    namespace: 'default',
    supportsTimeSkipping: true,
    // The Java test server (grpc-java) allows a keepalive ping every 5 minutes; the client's
    // default of 30 s earns a GOAWAY "too many pings" and a reconnect that can drop the call
    // unlocking time skipping mid-flight, so that a long run of cases stalls.
    connectionOptions: { channelArgs: { 'grpc.keepalive_time_ms': 6 * 60_000, 'grpc.keepalive_permit_without_calls': 0 } },
    client: { dataConverter: dataConverter(testCodec()) },
  });
}

/**
 * The Java test server starts with time skipping unlocked: a workflow waiting on nothing
 * would leap to its 10-year run timeout. The SDK's client expects it locked (it unlocks
 * only while awaiting a result or sleeping), so global setup locks it once.
 */
export async function lockTimeSkipping(address: string): Promise<void> {
  const env = await timeSkippingEnvironment(address);
  try {
    await env.connection.testService?.lockTimeSkipping({});
  } finally {
    await env.teardown();
  }
}

export interface DevServerHarness {
  client: Client;
  worker: Worker;
  taskQueue: string;
  outboxDir: string;
  stop(): Promise<void>;
}

export interface DevServerHarnessOptions {
  /** The payload codec of the worker and client; the test keys unless given. */
  codec?: PayloadCodec;
  /** Reuse a task queue (e.g. a worker restarted with rotated keys); a fresh one unless given. */
  taskQueue?: string;
  /** Tracing on for the worker and the client (common/tracing.ts); needs a bundle built with `tracing: true`. */
  tracing?: Tracing;
  /** The workflow bundle; the one global setup built unless given. */
  workflowBundle?: { code: string } | { codePath: string };
}

/** A worker and a client on the dev server, on a task queue of their own, with the test codec. */
export async function devServerHarness(options: DevServerHarnessOptions = {}): Promise<DevServerHarness> {
  const address = inject('devServerAddress');
  const codec = options.codec ?? testCodec();
  const taskQueue = options.taskQueue ?? `test-${randomUUID()}`;
  leftTaskQueue(taskQueue);
  const outboxDir = mkdtempSync(join(tmpdir(), 'outbox-'));
  const connection = await connectWorkerConnection(address);
  const worker = await createWorker({
    connection,
    namespace: 'default',
    taskQueue,
    codec,
    deps: { outbound: { outboxDir } },
    workflowBundle: options.workflowBundle ?? { codePath: inject('workflowBundlePath') },
    ...(options.tracing ? { tracing: options.tracing } : {}),
  });
  const running = worker.run();
  const client = await connectClient(address, 'default', codec, undefined, options.tracing);
  return {
    client,
    worker,
    taskQueue,
    outboxDir,
    async stop() {
      worker.shutdown();
      await running;
      await client.connection.close();
      await connection.close();
    },
  };
}

/** A worker on the time-skipping environment, on a task queue of its own. */
export async function timeSkippingWorker(
  env: TestWorkflowEnvironment,
  outbound: { webhookUrl?: string; webhookSecret?: string } = {},
): Promise<{ worker: Worker; taskQueue: string; outboxDir: string }> {
  const taskQueue = `test-${randomUUID()}`;
  const outboxDir = mkdtempSync(join(tmpdir(), 'outbox-'));
  const worker = await createWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    codec: testCodec(),
    deps: { outbound: { outboxDir, ...outbound } },
    workflowBundle: { codePath: inject('workflowBundlePath') },
  });
  return { worker, taskQueue, outboxDir };
}
