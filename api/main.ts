import { loadConfig } from '../common/config';
import { payloadCodecFromConfig } from '../common/payload-keys';
import { connectClient } from '../common/temporal';
import { createApp } from './app';

/** Runs the API alone (the compose stack runs it as its own service). */
async function main(): Promise<void> {
  const config = loadConfig();
  const codec = payloadCodecFromConfig(config);
  const client = await connectClient(config.TEMPORAL_ADDRESS ?? '127.0.0.1:7233', config.TEMPORAL_NAMESPACE, codec);
  const app = createApp({ client, taskQueue: config.TEMPORAL_TASK_QUEUE });
  const server = app.listen(config.API_PORT, config.API_HOST, () => {
    console.log(`API listening on http://${config.API_HOST}:${config.API_PORT}`);
  });
  const stop = () => server.close(() => void client.connection.close().then(() => process.exit(0)));
  process.once('SIGINT', stop).once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
