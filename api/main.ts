import { loadConfig } from '../common/config';
import { startMetricsEndpoint } from '../common/metrics-endpoint';
import { payloadCodecFromConfig } from '../common/payload-keys';
import { connectClient } from '../common/temporal';
import { startTracing } from '../common/tracing';
import { appDepsFromConfig, createApp } from './app';
import { createCodecServer } from './codec-server';
import { loadApiConfig } from './config';
import { watchOpenPrompts } from './prompt-metrics';

/** Runs the API alone (the compose stack runs it as its own service). */
async function main(): Promise<void> {
  const config = loadConfig();
  const codec = payloadCodecFromConfig(config);
  const apiConfig = loadApiConfig();
  // Off unless TRACING or an OTLP endpoint says so; before the client, which takes its interceptors.
  const tracing = await startTracing(config.tracing, { serviceName: 'assessment-api' });
  if (config.tracing) console.log(`traces to ${config.tracing.url}`);
  const client = await connectClient(config.TEMPORAL_ADDRESS ?? '127.0.0.1:7233', config.TEMPORAL_NAMESPACE, codec, config.temporalTls, tracing);
  // Alone, the API grants no loopback access to a Web UI: it did not start the dev server.
  const codecServer = createCodecServer({ codec, allowedOrigin: config.CODEC_CORS_ORIGIN, production: config.production });
  const app = createApp({ ...appDepsFromConfig(client, config.TEMPORAL_TASK_QUEUE, apiConfig, codecServer), tracing: tracing.enabled });
  // The API's own metrics and the open prompts; no worker runs here, so no Core metrics.
  const metrics = config.METRICS_PORT > 0 ? await startMetricsEndpoint({ host: config.METRICS_HOST, port: config.METRICS_PORT }) : undefined;
  if (metrics) {
    watchOpenPrompts(client);
    console.log(`metrics on ${metrics.url}`);
  }
  const server = app.listen(config.API_PORT, config.API_HOST, () => {
    console.log(`API listening on http://${config.API_HOST}:${config.API_PORT}`);
    console.log(apiConfig.pages ? `pages on http://${config.API_HOST}:${config.API_PORT}/ (${apiConfig.pages.signIn.mode} sign-in)` : `pages off: ${apiConfig.pagesOff ?? ''}`);
    if (apiConfig.localSecretFile) console.log(`tokens: npm run token -- --role manager --sub MGR-1 (local secret ${apiConfig.localSecretFile})`);
  });
  // Above a load balancer's idle timeout, so the API never closes a connection the balancer is reusing.
  server.keepAliveTimeout = 65_000;
  const stop = () => server.close(() => void Promise.all([metrics?.close(), client.connection.close(), tracing.shutdown()]).then(() => process.exit(0)));
  process.once('SIGINT', stop).once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
