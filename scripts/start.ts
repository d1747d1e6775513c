/**
 * `npm start`: the embedded default. Starts the Temporal dev server with its SQLite
 * database under ./.data/ (kept across restarts) and its Web UI, registers the custom
 * search attributes, then runs the worker and the API in this process. With
 * TEMPORAL_ADDRESS set it uses that cluster and starts no server. With
 * TEMPORAL_ENGINE=postgres it starts the production engine instead (Temporal server on
 * PostgreSQL 15, natively, data in ./.data/pg: scripts/temporal-postgres.ts). Ctrl-C or
 * SIGTERM stops everything cleanly.
 */
import { join } from 'node:path';
import type { Server } from 'node:http';
import { appDepsFromConfig, createApp } from '../api/app';
import { createCodecServer, embeddedCodecEndpoint } from '../api/codec-server';
import { loadApiConfig } from '../api/config';
import { outboundFromConfig } from '../activities/outbound';
import { loadConfig } from '../common/config';
import { payloadCodecFromConfig } from '../common/payload-keys';
import { connectClient, connectWorkerConnection } from '../common/temporal';
import { startTracing } from '../common/tracing';
import { DefaultLogger } from '@temporalio/worker';
import { watchOpenPrompts } from '../api/prompt-metrics';
import { startMetricsEndpoint, type MetricsEndpoint } from '../common/metrics-endpoint';
import { installRuntime } from '../worker/telemetry';
import { createWorker, prebuiltWorkflowBundle } from '../worker/worker';
import { log, registerSearchAttributes, startDevServer, type RunningServer } from './temporal';
import { startPostgresEngine } from './temporal-postgres';

/** Which server `npm start` runs: the dev server (SQLite, the default) or Temporal on PostgreSQL. */
function temporalEngine(): 'dev' | 'postgres' {
  const engine = process.env.TEMPORAL_ENGINE ?? 'dev';
  if (engine !== 'dev' && engine !== 'postgres') throw new Error(`TEMPORAL_ENGINE=${engine}: expected dev (the default) or postgres`);
  if (engine === 'postgres' && process.env.TEMPORAL_ADDRESS) {
    throw new Error('TEMPORAL_ENGINE=postgres starts a server, TEMPORAL_ADDRESS uses a running one: set one of them');
  }
  return engine;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const codec = payloadCodecFromConfig(config);
  const outbound = outboundFromConfig(config);
  const apiConfig = loadApiConfig();
  const engine = temporalEngine();
  // Before any connection: the Runtime (with Core's metrics exporter) is installed once per process.
  const coreMetrics = installRuntime({ logger: new DefaultLogger('WARN') }, config.METRICS_PORT > 0);
  // Early, so that a port in use stops the start before any server is started.
  const metrics: MetricsEndpoint | undefined =
    config.METRICS_PORT > 0 ? await startMetricsEndpoint({ host: config.METRICS_HOST, port: config.METRICS_PORT, coreMetricsUrl: coreMetrics?.url }) : undefined;
  // Off unless TRACING or an OTLP endpoint says so: one provider for the worker and the API of this process.
  const tracing = await startTracing(config.tracing, { serviceName: 'assessment-engine' });
  let server: RunningServer | undefined;
  let address = config.TEMPORAL_ADDRESS;
  // The dev server's Web UI decodes through the API's codec route (embedded default only).
  const embeddedCodec = config.TEMPORAL_ADDRESS ? undefined : embeddedCodecEndpoint(config);
  if (address) {
    log(`using the Temporal cluster at ${address} (TEMPORAL_ADDRESS); starting no server`);
    await registerSearchAttributes(address, config.TEMPORAL_NAMESPACE, config.temporalTls);
  } else if (engine === 'postgres') {
    server = await startPostgresEngine({
      ...(process.env.TEMPORAL_PORT ? { port: Number(process.env.TEMPORAL_PORT) } : {}),
      dir: join(config.DATA_DIR, 'pg'),
      namespace: config.TEMPORAL_NAMESPACE,
    });
    address = server.address;
  } else {
    if (typeof embeddedCodec === 'object') log(`Web UI: shows payloads encrypted (${embeddedCodec.why})`);
    server = await startDevServer({
      port: Number(process.env.TEMPORAL_PORT ?? 7233),
      dbFile: join(config.DATA_DIR, 'temporal.sqlite'),
      ui: true,
      namespace: config.TEMPORAL_NAMESPACE,
      ...(typeof embeddedCodec === 'string' ? { uiCodecEndpoint: embeddedCodec } : {}),
    });
    address = server.address;
  }

  const workerConnection = await connectWorkerConnection(address, config.temporalTls);
  // From source the workflows are bundled now, unless WORKFLOW_BUNDLE_PATH names a prebuilt bundle.
  const workflowBundle = prebuiltWorkflowBundle(config.WORKFLOW_BUNDLE_PATH);
  const worker = await createWorker({
    connection: workerConnection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    codec,
    deps: { outbound },
    ...(workflowBundle ? { workflowBundle } : {}),
    tracing,
  });
  const workerRun = worker.run();

  const client = await connectClient(address, config.TEMPORAL_NAMESPACE, codec, config.temporalTls, tracing);
  if (metrics) watchOpenPrompts(client, log);
  // The UI this process started is the codec's browser origin, unless CODEC_CORS_ORIGIN says otherwise.
  const uiOrigin = server?.uiUrl ? new URL(server.uiUrl).origin : undefined;
  const allowedOrigin = process.env.CODEC_CORS_ORIGIN || !uiOrigin ? config.CODEC_CORS_ORIGIN : uiOrigin;
  const codecServer = createCodecServer({ codec, allowedOrigin, production: config.production, embeddedWebUi: server !== undefined && typeof embeddedCodec === 'string' });
  const app = createApp({ ...appDepsFromConfig(client, config.TEMPORAL_TASK_QUEUE, apiConfig, codecServer), tracing: tracing.enabled });
  const api: Server = await new Promise((ready) => {
    const listening = app.listen(config.API_PORT, config.API_HOST, () => ready(listening));
  });

  const apiUrl = `http://${config.API_HOST}:${config.API_PORT}`;
  console.log(`
  Assessment engine is running.
    API            ${apiUrl}   (health: ${apiUrl}/healthz)
    Temporal       ${address}   namespace ${config.TEMPORAL_NAMESPACE}, task queue ${config.TEMPORAL_TASK_QUEUE}
    Pages          ${apiConfig.pages ? `${apiUrl}/  (${apiConfig.pages.signIn.mode === 'local' ? 'local sign-in: pick a role, staff id and team' : 'sign in through your identity provider'}; inbox /inbox, dashboard /reports/timeliness)` : `off: ${apiConfig.pagesOff ?? ''}`}
    Web UI         ${server?.uiUrl ? `${server.uiUrl}   ${codecServer.embeddedWebUi ? `(payloads decoded by ${embeddedCodec as string}: this machine only)` : '(payloads shown encrypted)'}` : engine === 'postgres' && server ? `none (Temporal on PostgreSQL runs without the Web UI; data in ${join(config.DATA_DIR, 'pg')})` : "(the cluster's own)"}
    Metrics        ${metrics ? `${metrics.url}   (Prometheus: the worker's, the API's and the engine's; README "Metrics and alerts")` : 'off (METRICS_PORT=0)'}
    Traces         ${config.tracing ? `${config.tracing.url}   (OTLP/HTTP; README "Traces")` : 'off (TRACING=on or OTEL_EXPORTER_OTLP_ENDPOINT turns them on)'}
    Outbox         ${config.OUTBOUND_WEBHOOK_URL ?? config.outboxDir}
    Audit log      ${apiConfig.auditLogFile}
    API token      ${apiConfig.auth.mode === 'jwks' ? `from your identity provider (JWKS ${apiConfig.auth.jwksUrl})` : 'npm run token -- --role manager --sub MGR-1 (--team T1 | --all-teams)   (roles: system, social_worker, manager, operations)'}
  Ctrl-C stops it.
`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping API, worker and server`);
    await new Promise((done) => api.close(done));
    await metrics?.close();
    // Worker.run() reacts to SIGINT/SIGTERM itself; shut it down only if it has not begun.
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await workerRun;
    await client.connection.close();
    await workerConnection.close();
    await tracing.shutdown();
    await server?.stop();
    log('stopped');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
