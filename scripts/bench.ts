/**
 * `npm run bench`: speed and memory figures on a real Temporal dev server (in memory),
 * with the worker in this process and payloads encrypted as in production (a key made
 * for the run). It prints figures; it asserts nothing.
 *
 *   BENCH_CASES (default 100)       cases to run
 *   BENCH_CONCURRENCY (default 10)  cases in flight at once
 *
 * Each case is a whole section 17 assessment, driven as a case system and a manager
 * would: start the referral, answer the duty decision (single assessment), allocate,
 * send ten field events (the last submits), sign off. Latencies are per step; throughput
 * is of whole cases.
 *
 * First, on the same server and at the same concurrency, the denominator: bare workflows
 * (scripts/bench/bare-workflow.ts: no domain logic, no codec) taking the same messages (a
 * start, a query until a prompt is open before each decision, one update per decision and
 * event). The ratio of the two throughputs is printed (issue 13's goal: at least 0.8x).
 *   BENCH_BARE=0                    skips the denominator
 *   TEMPORAL_ENGINE=postgres        on Temporal server on PostgreSQL 15 instead of the dev server
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { referralWorkingCalendar } from '../activities/calendar';
import { AesGcmPayloadCodec } from '../common/codec';
import { connectClient, connectWorkerConnection } from '../common/temporal';
import type { DomainEvent } from '../domain/events';
import { assessmentWorkflowId, referralWorkflowId } from '../domain/ids';
import { checklistItems, type Prompt } from '../domain/prompts';
import { decideUpdate, openPromptsQuery, recordEventUpdate } from '../workflows/messages';
import { referralWorkflow } from '../workflows/referral';
import { Worker } from '@temporalio/worker';
import { createWorker } from '../worker/worker';
import { bareCaseWorkflow, barePromptQuery, bareStepUpdate } from './bench/bare-workflow';
import { latencySummary } from './latency-summary';
import { freePort, startDevServer } from './temporal';
import { startPostgresEngine } from './temporal-postgres';
import { childInNeedPlan } from '../test/support/child-in-need-plan-example';

const cases = Number(process.env.BENCH_CASES ?? 100);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 10);
const withBare = process.env.BENCH_BARE !== '0';
/** What one whole case sends: a start, the duty decision, the allocation, ten field events and the sign-off. */
const FIELD_EVENTS = 10;
const UPDATES_PER_CASE = 1 + 1 + FIELD_EVENTS + 1;
/** Queries until a prompt is open come before the duty decision, the allocation and the sign-off. */
const PROMPT_WAITS_PER_CASE = 3;

/** Runs `oneCase` for every case, `concurrency` at once; the wall time in seconds. */
async function driveCases(oneCase: (index: number) => Promise<void>): Promise<number> {
  const wall = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < cases) await oneCase(next++);
    }),
  );
  return (performance.now() - wall) / 1000;
}

/** The denominator: bare workflows with the same messages, their own worker and bundle, no codec. */
async function bareThroughput(address: string): Promise<{ seconds: number; wholeCase: number[] }> {
  const taskQueue = `bench-bare-${randomUUID()}`;
  const connection = await connectWorkerConnection(address);
  const worker = await Worker.create({ connection, namespace: 'default', taskQueue, workflowsPath: require.resolve('./bench/bare-workflow') });
  const running = worker.run();
  // The default data converter: no codec.
  const client = new Client({ connection: await Connection.connect({ address }), namespace: 'default' });
  const wholeCase: number[] = [];
  const run = randomUUID().slice(0, 8);
  const promptOpen = async (handle: WorkflowHandle) => {
    for (;;) {
      if (await handle.query(barePromptQuery)) return;
      await new Promise((wait) => setTimeout(wait, 50));
    }
  };
  const seconds = await driveCases(async (index) => {
    const begin = performance.now();
    const handle = await client.workflow.start(bareCaseWorkflow, { workflowId: `bare-${run}-${index}`, taskQueue, args: [UPDATES_PER_CASE] });
    for (let update = 0; update < UPDATES_PER_CASE; update += 1) {
      // Where the case waits for a prompt (duty decision, allocation, sign-off), so does the bare one.
      if (update === 0 || update === 1 || update === UPDATES_PER_CASE - 1) await promptOpen(handle);
      await handle.executeUpdate(bareStepUpdate, { args: [{ step: update, at: new Date().toISOString() }] });
    }
    wholeCase.push(performance.now() - begin);
  });
  worker.shutdown();
  await running;
  await client.connection.close();
  await connection.close();
  return { seconds, wholeCase };
}

/** Polls (every 50 ms, as a front end would) until the prompt is open; the workflow may not have started yet. */
async function promptOf(handle: WorkflowHandle, kind: string): Promise<Prompt> {
  for (;;) {
    try {
      const prompt = (await handle.query(openPromptsQuery)).find((candidate) => candidate.kind === kind);
      if (prompt) return prompt;
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
    await new Promise((wait) => setTimeout(wait, 50));
  }
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  // TEMPORAL_ENGINE=postgres: the production engine (a throwaway database), else the dev server.
  const onPostgres = process.env.TEMPORAL_ENGINE === 'postgres';
  const server = onPostgres ? await startPostgresEngine({ ephemeral: true, port: await freePort() }) : await startDevServer({});
  console.log(`engine: ${onPostgres ? 'Temporal server on PostgreSQL 15 (throwaway database, fsync off)' : 'dev server (SQLite, in memory)'}`);
  const bare = withBare ? await bareThroughput(server.address) : undefined;
  const connection = await connectWorkerConnection(server.address);
  const taskQueue = `bench-${randomUUID()}`;
  const codec = new AesGcmPayloadCodec([{ id: `bench-${randomUUID().slice(0, 8)}`, key: randomBytes(32) }]);
  const rssBefore = process.memoryUsage().rss;
  const worker = await createWorker({ connection, namespace: 'default', taskQueue, codec, deps: { outbound: { outboxDir: mkdtempSync(join(tmpdir(), 'bench-outbox-')) } } });
  const running = worker.run();
  const client = await connectClient(server.address, 'default', codec);
  const steps = {
    start: [] as number[],
    'duty prompt visible': [] as number[],
    'duty decision (update)': [] as number[],
    'allocation prompt visible': [] as number[],
    'allocation (update)': [] as number[],
    'field event (update)': [] as number[],
    'sign-off (update)': [] as number[],
    'whole case': [] as number[],
  };
  const run = randomUUID().slice(0, 8);
  const decision = (promptId: string, decisionValue: string, extra: Record<string, unknown> = {}) => ({
    promptId,
    decision: decisionValue,
    rationale: 'benchmark',
    decidedBy: 'MGR-1',
    decidedAt: new Date().toISOString(),
    ...extra,
  });

  const oneCase = async (index: number) => {
    const referralId = `BENCH-${run}-${index}`;
    const begin = performance.now();
    let mark = begin;
    const lap = (step: keyof typeof steps) => {
      const now = performance.now();
      steps[step].push(now - mark);
      mark = now;
    };
    const receivedAt = new Date().toISOString();
    const referral = await client.workflow.start(referralWorkflow, {
      workflowId: referralWorkflowId(referralId),
      taskQueue,
      // Started as the API starts it: the working calendar passed in (built once per process).
      args: [{ referralId, receivedAt, referrerType: 'education', childProtectionConcern: false, children: [{ childRef: `C-${index}1` }], workingCalendar: referralWorkingCalendar({ receivedAt }, Date.now()) }],
    });
    lap('start');
    const duty = await promptOf(referral, 'duty-decision');
    lap('duty prompt visible');
    await referral.executeUpdate(decideUpdate, { args: [decision(duty.promptId, 'single-assessment')] });
    lap('duty decision (update)');
    const assessment = client.workflow.getHandle(assessmentWorkflowId(referralId, `C-${index}1`));
    const allocation = await promptOf(assessment, 'allocation');
    lap('allocation prompt visible');
    await assessment.executeUpdate(decideUpdate, { args: [decision(allocation.promptId, 'allocate', { socialWorkerId: 'SW-1', track: 'S17', assessmentType: 'brief' })] });
    lap('allocation (update)');
    const fieldwork: Array<Record<string, unknown>> = [
      { type: 'child-seen', seenAlone: true, viewsRecorded: true },
      { type: 'home-visited', bedroomSeen: true, informationGiven: { introductoryLetterAndPack: true, consentForm: true, complaintsProcedure: true } },
      { type: 'parent-seen', parentRef: 'PAR-1', relationship: 'mother', viewsRecorded: true },
      { type: 'agency-information-received', agency: 'health' },
      { type: 'analysis-completed', sources: ['SRC-1', 'SRC-2'] },
      // The second reading's checklist items (procedure-checks): the parents told, the child's wishes, chronology, development.
      { type: 'parents-told-of-concerns', status: 'told' },
      { type: 'child-wishes-recorded', method: 'direct-work', howUsed: 'the plan follows what the child asked for', explanationGiven: true, sharedWithParents: true },
      { type: 'chronology-updated' },
      { type: 'development-stage-recorded' },
      { type: 'assessment-submitted' },
    ];
    if (fieldwork.length !== FIELD_EVENTS) throw new Error(`the bare denominator sends ${FIELD_EVENTS} field events, the case ${fieldwork.length}`);
    for (const [number, event] of fieldwork.entries()) {
      const full = { eventId: `EV-${index}-${number}`, occurredAt: new Date().toISOString(), actor: 'SW-1', ...event } as DomainEvent;
      await assessment.executeUpdate(recordEventUpdate, { args: [full] });
      lap('field event (update)');
    }
    const signOff = await promptOf(assessment, 'sign-off');
    await assessment.executeUpdate(decideUpdate, {
      args: [
        decision(signOff.promptId, 'sign-off', {
          outcome: 'child-in-need-plan',
          determinations: { childInNeed: true, significantHarmSuspected: false, accommodationNeeded: false },
          checklist: Object.fromEntries(checklistItems.map((item) => [item, { met: true }])),
          primaryNeedCode: 'N1',
          assessmentFactors: ['3B'],
          childInNeedPlan: childInNeedPlan(Date.now()),
        }),
      ],
    });
    lap('sign-off (update)');
    steps['whole case'].push(performance.now() - begin);
  };

  const seconds = await driveCases(oneCase);
  const memory = process.memoryUsage();
  const messages = cases * (1 + UPDATES_PER_CASE);

  console.log(`\nBenchmark: ${cases} whole assessments, ${concurrency} in flight, ${onPostgres ? 'Temporal server on PostgreSQL 15' : 'dev server in memory'}, worker in this process, payloads encrypted`);
  for (const [name, samples] of Object.entries(steps)) console.log(latencySummary(name, samples));
  console.log(`throughput                 ${(cases / seconds).toFixed(2)} cases/s, ${(messages / seconds).toFixed(1)} messages/s (${seconds.toFixed(1)} s wall; ${1 + UPDATES_PER_CASE} messages and ${PROMPT_WAITS_PER_CASE} prompt waits a case)`);
  if (bare) {
    console.log(latencySummary('bare workflow, whole case', bare.wholeCase));
    console.log(`bare throughput            ${(cases / bare.seconds).toFixed(2)} cases/s (${bare.seconds.toFixed(1)} s wall; same server, messages and concurrency, no domain logic, no codec)`);
    console.log(`engine / bare              ${(bare.seconds / seconds).toFixed(2)}x (goal: at least 0.80x)`);
  }
  console.log(
    `memory                     rss ${(memory.rss / 2 ** 20).toFixed(0)} MiB (${(rssBefore / 2 ** 20).toFixed(0)} MiB before the worker), heap used ${(memory.heapUsed / 2 ** 20).toFixed(0)} MiB, ${cases * 2} workflows open`,
  );

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
