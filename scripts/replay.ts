/**
 * `npm run replay [-- --query "<visibility query>"] [--limit N] [--bundle <file>] [--concurrency N]`
 *
 * Before a deploy: replays the histories of the workflows a visibility query selects (by
 * default every running one) on the cluster the worker uses (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_TLS_*), decrypted with PAYLOAD_KEYS, against the workflow code
 * in this checkout, bundled as the worker bundles it (or a prebuilt bundle with --bundle).
 * Prints a line per workflow that fails (its id, run id, type and the first diverging command
 * or event), then `replayed N, failed M`; exits 1 if any failed, 2 on wrong usage.
 * Read-only: it lists workflows and fetches their histories, nothing else.
 * Each option may be given as an environment variable instead: REPLAY_QUERY, REPLAY_LIMIT,
 * REPLAY_BUNDLE, REPLAY_CONCURRENCY.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { loadConfig } from '../common/config';
import { payloadCodecFromConfig, PAYLOAD_KEYS_FILE } from '../common/payload-keys';
import { connectClient } from '../common/temporal';
import { DEFAULT_FETCH_CONCURRENCY, DEFAULT_REPLAY_LIMIT, DEFAULT_REPLAY_QUERY, printReplayReport, replayClusterHistories } from '../worker/replay-cluster';
import { bundleWorkflows, workflowsPath } from '../worker/worker';

const USAGE = `usage: npm run replay -- [--query "<visibility query>"] [--limit N] [--bundle <workflow bundle .js>] [--concurrency N]
  --query        which workflows (REPLAY_QUERY; default ${DEFAULT_REPLAY_QUERY})
  --limit        at most this many (REPLAY_LIMIT; default ${DEFAULT_REPLAY_LIMIT})
  --bundle       a prebuilt workflow bundle (REPLAY_BUNDLE; default: bundle workflows/ now, as the worker does)
  --concurrency  histories fetched at once (REPLAY_CONCURRENCY; default ${DEFAULT_FETCH_CONCURRENCY})
the cluster and keys as for the worker: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TLS_*, PAYLOAD_KEYS`;

class UsageError extends Error {}

function wholeNumber(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${name} must be a whole number of at least 1, not '${text}'`);
  return value;
}

async function main(): Promise<number> {
  let values: { query?: string; limit?: string; bundle?: string; concurrency?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: { query: { type: 'string' }, limit: { type: 'string' }, bundle: { type: 'string' }, concurrency: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const env = process.env;
  const query = values.query ?? (env.REPLAY_QUERY || DEFAULT_REPLAY_QUERY);
  const limit = wholeNumber('--limit (REPLAY_LIMIT)', values.limit ?? env.REPLAY_LIMIT, DEFAULT_REPLAY_LIMIT);
  const fetchConcurrency = wholeNumber('--concurrency (REPLAY_CONCURRENCY)', values.concurrency ?? env.REPLAY_CONCURRENCY, DEFAULT_FETCH_CONCURRENCY);
  const bundlePath = values.bundle ?? (env.REPLAY_BUNDLE || undefined);
  if (bundlePath !== undefined && !existsSync(bundlePath)) throw new UsageError(`--bundle (REPLAY_BUNDLE): no file ${bundlePath}`);

  const config = loadConfig();
  // Histories are sealed with the cluster's keys: without them nothing decodes. Never a key
  // generated here (the worker's local fallback): that key could read nothing on the cluster.
  if (!config.PAYLOAD_KEYS && !existsSync(join(config.DATA_DIR, PAYLOAD_KEYS_FILE))) {
    throw new UsageError(`PAYLOAD_KEYS is not set (nor is there a local key in ${join(config.DATA_DIR, PAYLOAD_KEYS_FILE)}): set it to the key list the workers use, every key that sealed a history still open`);
  }
  const codec = payloadCodecFromConfig(config);
  // A replay worker logs every workflow's steps, and Core each failed task (on stdout unless
  // forwarded): what matters is printed below, on stdout; errors go to stderr.
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } } });

  const address = config.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  console.error(`[replay] ${address} namespace ${config.TEMPORAL_NAMESPACE}: workflows matching ${query}`);
  const workflowBundle = bundlePath
    ? { codePath: resolve(bundlePath) }
    : await (async () => {
        console.error(`[replay] bundling ${workflowsPath} as the worker does`);
        return bundleWorkflows({ workflowsPath });
      })();
  const client = await connectClient(address, config.TEMPORAL_NAMESPACE, codec, config.temporalTls);
  try {
    const report = await replayClusterHistories({ client, codec, workflowBundle, query, limit, fetchConcurrency });
    return printReplayReport(report, (line) => console.log(line));
  } finally {
    await client.connection.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(error.message);
      console.error(USAGE);
      process.exit(2);
    }
    console.error(`replay failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
