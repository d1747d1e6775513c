import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, type Registry } from 'prom-client';
import { collectProcessMetrics, engineRegistry } from './metrics';

/**
 * The one Prometheus endpoint of a process (`GET /metrics`), on a small server of its own:
 * not the API's port, so the API's authentication does not apply to it and a load
 * balancer in front of the API never exposes it. It binds loopback unless METRICS_HOST
 * says otherwise. It serves Temporal Core's text (the worker's metrics and the workflows'
 * own, worker/telemetry.ts), fetched from Core's loopback exporter on each scrape, followed
 * by the engine's registry.
 */
export interface MetricsEndpoint {
  url: string;
  close(): Promise<void>;
}

export interface MetricsEndpointOptions {
  host: string;
  port: number;
  /** Core's exporter in this process (absent in a process with no worker, e.g. the API alone). */
  coreMetricsUrl?: string | undefined;
}

/** A scrape never waits on Core longer than this; Prometheus's own default scrape timeout is 10 s. */
const CORE_TIMEOUT_MS = 3000;

const CORE_UP = 'assessments_worker_metrics_up';

/** Only in a process that runs a worker: elsewhere a 0 would read as a worker in trouble. */
function coreUpGauge(registry: Registry): Gauge {
  const existing = registry.getSingleMetric(CORE_UP);
  if (existing) return existing as Gauge;
  return new Gauge({
    name: CORE_UP,
    help: "1 when this scrape included Temporal Core's worker metrics, 0 when Core's exporter did not answer (the temporal_* series are then missing, not zero)",
    registers: [registry],
  });
}

async function coreText(url: string, coreUp: Gauge): Promise<string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(CORE_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`answered ${response.status}`);
    const text = await response.text();
    coreUp.set(1);
    return text.endsWith('\n') || text === '' ? text : `${text}\n`;
  } catch {
    coreUp.set(0);
    return '';
  }
}

export async function startMetricsEndpoint(options: MetricsEndpointOptions): Promise<MetricsEndpoint> {
  const registry = engineRegistry;
  collectProcessMetrics();
  const coreUp = options.coreMetricsUrl ? coreUpGauge(registry) : undefined;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(path === '/metrics' ? 405 : 404, { 'content-type': 'text/plain' }).end('GET /metrics\n');
      return;
    }
    void (async () => {
      try {
        // Core first, so that assessments_worker_metrics_up in the registry's text is this scrape's.
        const core = options.coreMetricsUrl && coreUp ? await coreText(options.coreMetricsUrl, coreUp) : '';
        const body = core + (await registry.metrics());
        res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : body);
      } catch (error) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(error as Error).message}\n`);
      }
    })();
  });
  await new Promise<void>((ready, fail) => {
    server.once('error', (error) => fail(new Error(`the metrics endpoint cannot listen on ${options.host}:${options.port} (METRICS_HOST, METRICS_PORT; 0 or off = none): ${error.message}`)));
    server.listen(options.port, options.host, () => ready());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise((done) => {
        server.close(() => done());
        // A scraper's keep-alive connection would hold the close open.
        server.closeAllConnections();
      }),
  };
}
