import { outboundFromConfig } from '../activities/outbound';
import { loadConfig } from '../common/config';
import { payloadCodecFromConfig } from '../common/payload-keys';
import { startMetricsEndpoint } from '../common/metrics-endpoint';
import { connectWorkerConnection, registerSearchAttributes } from '../common/temporal';
import { startTracing } from '../common/tracing';
import { installRuntime } from './telemetry';
import { createWorker, prebuiltWorkflowBundle } from './worker';

/** Runs the worker alone (the compose stack runs it as its own service). */
async function main(): Promise<void> {
  const config = loadConfig();
  const codec = payloadCodecFromConfig(config);
  const outbound = outboundFromConfig(config);
  // Compiled (npm run build), the build's bundle; from source, none: bundled at start-up.
  const workflowBundle = prebuiltWorkflowBundle(config.WORKFLOW_BUNDLE_PATH);
  // Before any connection: Core's metrics exporter is part of the Runtime, installed once per process.
  const coreMetrics = installRuntime({}, config.METRICS_PORT > 0);
  const metrics = config.METRICS_PORT > 0 ? await startMetricsEndpoint({ host: config.METRICS_HOST, port: config.METRICS_PORT, coreMetricsUrl: coreMetrics?.url }) : undefined;
  if (metrics) console.log(`metrics on ${metrics.url}`);
  // Off unless TRACING or an OTLP endpoint says so; on, the worker bundles the workflows with the tracing interceptors.
  const tracing = await startTracing(config.tracing, { serviceName: 'assessment-worker' });
  if (config.tracing) console.log(`traces to ${config.tracing.url}`);
  const address = config.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  // Idempotent: a fresh cluster gets the project's search attributes before any workflow runs.
  await registerSearchAttributes(address, config.TEMPORAL_NAMESPACE, config.temporalTls);
  const connection = await connectWorkerConnection(address, config.temporalTls);
  const worker = await createWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    codec,
    deps: { outbound },
    ...(workflowBundle ? { workflowBundle } : {}),
    tracing,
  });
  // Worker.run() shuts down on SIGINT/SIGTERM by itself.
  await worker.run();
  await tracing.shutdown();
  await metrics?.close();
  await connection.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
