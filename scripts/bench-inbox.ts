/**
 * `npm run bench:inbox`: how fast a manager's inbox answers with thousands of open cases,
 * on a real Temporal dev server (in memory), the worker and the API in this process,
 * payloads encrypted. It prints figures; it asserts nothing.
 *
 *   BENCH_OPEN_CASES (default 5000)  referrals opened through the API, each with its duty
 *                                    decision prompt open (one prompt per case in the inbox)
 *   BENCH_CONCURRENCY (default 16)   referrals posted at once
 *   BENCH_WAIT_MINUTES (default 10)  how long to wait for the worker to catch up
 *
 * The inbox (`/inbox`) and `GET /v1/prompts` share one listing (api/prompt-list.ts): the
 * open cases through visibility, sorted by their prompts' due times, then a query to only
 * the page's workflows. This times `GET /v1/prompts` over HTTP: the first page, and a page
 * further on through its nextPageToken.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import pino from 'pino';
import { createApp } from '../api/app';
import { signLocalToken } from '../api/tokens';
import { listAll } from '../api/visibility';
import { mapLimited } from '../common/map-limited';
import { AesGcmPayloadCodec } from '../common/codec';
import { connectClient, connectWorkerConnection } from '../common/temporal';
import { createWorker } from '../worker/worker';
import { latencySummary } from './latency-summary';
import { startDevServer } from './temporal';

const openCases = Number(process.env.BENCH_OPEN_CASES ?? 5000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
/** How long to wait for the worker to catch up with the cases' first tasks before timing the list as it is. */
const waitMinutes = Number(process.env.BENCH_WAIT_MINUTES ?? 10);
const SECRET = randomBytes(32).toString('base64');

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const server = await startDevServer({});
  const connection = await connectWorkerConnection(server.address);
  const taskQueue = `bench-inbox-${randomUUID()}`;
  const codec = new AesGcmPayloadCodec([{ id: `bench-${randomUUID().slice(0, 8)}`, key: randomBytes(32) }]);
  const worker = await createWorker({ connection, namespace: 'default', taskQueue, codec, deps: { outbound: { outboxDir: mkdtempSync(join(tmpdir(), 'bench-outbox-')) } } });
  const running = worker.run();
  const client = await connectClient(server.address, 'default', codec);
  const app = createApp({
    client,
    taskQueue,
    auth: { mode: 'secret', secret: SECRET },
    audit: join(mkdtempSync(join(tmpdir(), 'bench-audit-')), 'audit.log'),
    logger: pino({ level: 'silent' }),
    rateLimit: { windowMs: 60_000, limit: 1_000_000 },
    readRateLimit: { windowMs: 60_000, limit: 1_000_000 },
    addressRateLimit: { windowMs: 60_000, limit: 1_000_000 },
  });
  const http = app.listen(0, '127.0.0.1');
  await new Promise((ready) => http.once('listening', ready));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const system = await signLocalToken(SECRET, { sub: 'CMS-1', roles: ['system'], allTeams: true });
  const manager = await signLocalToken(SECRET, { sub: 'MGR-1', roles: ['manager'], teams: ['BENCH'] });
  const run = randomUUID().slice(0, 6).toUpperCase();
  const receivedAt = new Date(Date.now() - 60_000).toISOString();

  console.log(`opening ${openCases} referrals through the API, ${concurrency} at once (each with its duty decision prompt open)`);
  const opening = performance.now();
  await mapLimited(
    Array.from({ length: openCases }, (_, index) => index),
    concurrency,
    async (index) => {
      const response = await fetch(`${base}/v1/referrals`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${system}` },
        body: JSON.stringify({ referralId: `REF-${run}-${index + 1}`, receivedAt, referrerType: 'education', childProtectionConcern: false, team: 'BENCH', children: [{ childRef: 'C-1' }] }),
      });
      if (response.status !== 201) throw new Error(`referral ${index + 1}: ${response.status} ${await response.text()}`);
    },
  );
  console.log(`opened in ${((performance.now() - opening) / 1000).toFixed(1)} s`);

  // Visibility is eventually consistent: wait until the list holds every open prompt.
  const inbox = async (query: string) => {
    const started = performance.now();
    const response = await fetch(`${base}/v1/prompts?team=BENCH${query}`, { headers: { authorization: `Bearer ${manager}` } });
    const body = (await response.json()) as { prompts: unknown[]; totalOpen?: number; nextPageToken?: string };
    if (response.status !== 200) throw new Error(`inbox: ${response.status} ${JSON.stringify(body)}`);
    return { ms: performance.now() - started, body };
  };
  // At most BENCH_WAIT_MINUTES: a worker behind on its first tasks is a figure too, printed below.
  const waitUntil = Date.now() + waitMinutes * 60_000;
  for (;;) {
    const { body } = await inbox('');
    if ((body.totalOpen ?? 0) >= openCases) {
      console.log(`every prompt listed ${((performance.now() - opening) / 1000).toFixed(1)} s after the first referral was sent (the worker caught up)`);
      break;
    }
    if (Date.now() > waitUntil) {
      console.log(`after ${waitMinutes} minutes the list holds ${body.totalOpen ?? 0} of ${openCases} prompts (the worker is behind on the cases' first tasks); timing the list as it is`);
      break;
    }
    await new Promise((wait) => setTimeout(wait, 1000));
  }

  const firstPage: number[] = [];
  const laterPage: number[] = [];
  let token: string | undefined;
  for (let round = 0; round < 20; round += 1) {
    const first = await inbox('');
    firstPage.push(first.ms);
    token = first.body.nextPageToken;
    // Ten pages on: a manager paging through a busy front door.
    for (let page = 0; page < 9 && token; page += 1) token = (await inbox(`&nextPageToken=${encodeURIComponent(token)}`)).body.nextPageToken;
    if (token) laterPage.push((await inbox(`&nextPageToken=${encodeURIComponent(token)}`)).ms);
  }
  const { body } = await inbox('');
  // What the list costs without its kept rows (api/prompt-listing-cache.ts): one listing of every open case of the team.
  const listings: number[] = [];
  for (let round = 0; round < 3; round += 1) {
    const started = performance.now();
    await listAll(client, `ExecutionStatus = 'Running' AND Team = 'BENCH' AND OpenPromptKinds = 'duty-decision'`, 20_000);
    listings.push(performance.now() - started);
  }
  console.log('');
  console.log(`Inbox with ${body.totalOpen} open prompts in ${openCases} open cases (dev server, in memory; ${body.prompts.length} a page)`);
  console.log(latencySummary('GET /v1/prompts, first page', firstPage, 34));
  console.log(latencySummary('GET /v1/prompts, eleventh page', laterPage, 34));
  console.log(latencySummary('one visibility listing (uncached)', listings, 34));
  console.log(`rss ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MB (worker, API and client in this process)`);

  http.close();
  worker.shutdown();
  await running;
  await client.connection.close();
  await server.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
