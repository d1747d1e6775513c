import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The engine's own metrics (names `assessments_*`), in a registry of their own rather than
 * prom-client's global one: only what this project defines (and the process's standard
 * `process_*` and `nodejs_*` series) reaches the metrics endpoint, whatever a dependency
 * registers globally. Each metric is defined where it is counted: activities/outbound.ts,
 * api/request-metrics.ts, api/prompt-metrics.ts.
 */
export const engineRegistry = new Registry();

let processMetrics = false;

/**
 * CPU, memory, GC and event-loop lag of this process (standard names, no prefix). Once per
 * process, when an endpoint serves them: a worker's event loop held for seconds shows here
 * before it shows as late workflow tasks.
 */
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: engineRegistry });
}
