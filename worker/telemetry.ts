import { Runtime, type RuntimeOptions } from '@temporalio/worker';
import { DEADLINE_LAG_METRIC } from '../workflows/metrics';

/**
 * The SDK's Runtime (once per process), with Temporal Core's Prometheus exporter on a
 * loopback port of its own when `coreMetrics` is set. Core serves the worker's metrics
 * (workflow task schedule-to-start and execution latency, slots, sticky cache) and the
 * workflows' own (`metricMeter`, workflows/metrics.ts); the metrics endpoint
 * (common/metrics-endpoint.ts) fetches that text and serves it with the engine's.
 *
 * Core cannot say which port it got for `:0`, so a port is picked here; its bind is the
 * check: a port in use makes the install throw, and another is tried.
 */
export interface CoreMetrics {
  /** Core's Prometheus text, e.g. `http://127.0.0.1:41234/metrics`. */
  url: string;
}

/** Workflow task latencies around the 5 s alert (Core's own buckets jump from 1 to 5 to 10 s). */
const TASK_LATENCY_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 20, 30, 60];

/** Durations in seconds (Prometheus's convention); the deadline lag's buckets from half a second to a day. */
const prometheusOptions = {
  useSecondsForDurations: true,
  histogramBucketOverrides: {
    [DEADLINE_LAG_METRIC]: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 21600, 86400],
    workflow_task_schedule_to_start_latency: TASK_LATENCY_BUCKETS,
    workflow_task_execution_latency: TASK_LATENCY_BUCKETS,
  },
};

const ATTEMPTS = 20;

export function installRuntime(options: RuntimeOptions, coreMetrics: true): CoreMetrics;
export function installRuntime(options: RuntimeOptions, coreMetrics: boolean): CoreMetrics | undefined;
export function installRuntime(options: RuntimeOptions, coreMetrics: boolean): CoreMetrics | undefined {
  if (!coreMetrics) {
    Runtime.install(options);
    return undefined;
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    // Linux's ephemeral range: no service is configured on these ports, and the kernel never hands out one in use.
    const port = 32768 + Math.floor(Math.random() * (61000 - 32768));
    const bindAddress = `127.0.0.1:${port}`;
    try {
      Runtime.install({ ...options, telemetryOptions: { ...options.telemetryOptions, metrics: { prometheus: { bindAddress, ...prometheusOptions } } } });
      return { url: `http://${bindAddress}/metrics` };
    } catch (error) {
      // Only a port in use is retried; the Runtime is not installed when its exporter fails to bind.
      if (!/address already in use/i.test(String((error as Error)?.message))) throw error;
      lastError = error;
    }
  }
  throw new Error(`Temporal Core's metrics exporter found no free loopback port in ${ATTEMPTS} attempts: ${String((lastError as Error)?.message)}`);
}
