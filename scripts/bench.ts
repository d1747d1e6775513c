/**
 * `npm run bench`: speed and memory figures on a real Temporal dev server (in memory),
 * with the worker in this process. It prints figures; it asserts nothing.
 *
 *   BENCH_REFERRALS (default 200)   referrals to run
 *   BENCH_CONCURRENCY (default 20)  referrals in flight at once
 *
 * Each referral: start through the client, query until its duty-decision prompt shows
 * (the first workflow task has run), answer it
 * through the `decide` update, await its result.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { AesGcmPayloadCodec } from '../common/codec';
import { connectClient, connectWorkerConnection } from '../common/temporal';
import { referralWorkflowId } from '../domain/ids';
import type { Prompt } from '../domain/prompts';
import { decideUpdate, openPromptsQuery } from '../workflows/messages';
import { referralWorkflow } from '../workflows/referral';
import { createWorker } from '../worker/worker';
import { startDevServer } from './temporal';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const referrals = Number(process.env.BENCH_REFERRALS ?? 200);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 20);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summary(name: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `${name.padEnd(22)} p50 ${percentile(sorted, 50).toFixed(1).padStart(7)} ms   p95 ${percentile(sorted, 95).toFixed(1).padStart(7)} ms   max ${sorted.at(-1)?.toFixed(1).padStart(7)} ms`;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const server = await startDevServer({});
  const connection = await connectWorkerConnection(server.address);
  const taskQueue = `bench-${randomUUID()}`;
  // Payloads are encrypted as in production; the server is in memory, so a key for this run only.
  const codec = new AesGcmPayloadCodec([{ id: `bench-${randomUUID().slice(0, 8)}`, key: randomBytes(32) }]);
  const rssBefore = process.memoryUsage().rss;
  const worker = await createWorker({
    connection,
    namespace: 'default',
    taskQueue,
    codec,
    deps: { outbound: { outboxDir: mkdtempSync(join(tmpdir(), 'bench-outbox-')) } },
  });
  const running = worker.run();
  const client = await connectClient(server.address, 'default', codec);
  const timings = { start: [] as number[], query: [] as number[], decide: [] as number[], total: [] as number[] };
  const run = randomUUID().slice(0, 8);

  const one = async (index: number) => {
    const referralId = `BENCH-${run}-${index}`;
    const begin = performance.now();
    const handle = await client.workflow.start(referralWorkflow, {
      workflowId: referralWorkflowId(referralId),
      taskQueue,
      args: [{ referralId, receivedAt: new Date().toISOString(), referrerType: 'education', childProtectionConcern: false, children: [{ childRef: `C-${index}` }] }],
    });
    const started = performance.now();
    let prompt: Prompt | undefined;
    while (!prompt) {
      [prompt] = await handle.query(openPromptsQuery);
    }
    const queried = performance.now();
    await handle.executeUpdate(decideUpdate, {
      args: [{ promptId: prompt.promptId, decision: 'no-further-action', rationale: 'benchmark', decidedBy: 'MGR-1', decidedAt: new Date().toISOString() }],
    });
    const decided = performance.now();
    await handle.result();
    const done = performance.now();
    timings.start.push(started - begin);
    timings.query.push(queried - started);
    timings.decide.push(decided - queried);
    timings.total.push(done - begin);
  };

  const wall = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < referrals) await one(next++);
    }),
  );
  const seconds = (performance.now() - wall) / 1000;
  const memory = process.memoryUsage();

  console.log(`\nBenchmark: ${referrals} referrals, ${concurrency} in flight, dev server in memory, worker in process`);
  console.log(summary('start', timings.start));
  console.log(summary('prompt visible', timings.query));
  console.log(summary('decide (update)', timings.decide));
  console.log(summary('start to result', timings.total));
  console.log(`throughput             ${(referrals / seconds).toFixed(1)} referrals/s (${seconds.toFixed(1)} s wall)`);
  console.log(`memory                 rss ${(memory.rss / 2 ** 20).toFixed(0)} MiB (was ${(rssBefore / 2 ** 20).toFixed(0)} MiB before the worker), heap used ${(memory.heapUsed / 2 ** 20).toFixed(0)} MiB`);

  worker.shutdown();
  await running;
  await client.connection.close();
  await connection.close();
  await server.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
