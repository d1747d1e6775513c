/**
 * `npm run bench:scale`: the engine at national scale on the production engine, Temporal
 * server on PostgreSQL 15 (scripts/temporal-postgres.ts), with the worker in a process of
 * its own (`worker/main.ts`, as deployed) and the API in this one. It prints figures; it
 * asserts nothing but that every case opened and no request failed.
 *
 *   SCALE_CASES (default 100000)     assessments to open and keep open
 *   SCALE_CONCURRENCY (default 48)   workflow starts in flight at once
 *   SCALE_TEAMS (default 150)        teams the cases are spread over (one inbox is timed)
 *   SCALE_WORKER_CACHE (default 1000) the worker's WORKER_MAX_CACHED_WORKFLOWS
 *   SCALE_API_SAMPLES (default 100)  reads, events and decisions timed, each on its own cases
 *   SCALE_TIMER_PROBES (default 20)  cases whose allocation falls due during the measuring
 *   SCALE_WAIT_MINUTES (default 240) how long to wait for the worker to catch up
 *   SCALE_BACKLOG (default 1000)     cases started and not yet through their first task, at most
 *   SCALE_WORKER (default compiled)  `compiled`: the worker as the image runs it (`npm run build`'s
 *                                    output under .data/bench-scale-build, plain node); `source`:
 *                                    from the TypeScript through tsx
 *   SCALE_DATA_DIR                   PostgreSQL's data (default: a new temporary directory,
 *                                    removed at the end); fsync stays on, as in production
 *   TEMPORAL_ENGINE=dev              the dev server (SQLite) instead, for a quick look
 *
 * The cases are opened as a migration of open work would open them: each assessment
 * workflow is started through the Temporal client with the input its referral would give
 * it (the working calendar included), without the referral's own workflow, so the figures
 * are the assessments'. Half are back-dated 70 working days and more (their allocation,
 * completion and statutory deadlines have passed: they fire as each case starts, under the
 * load of the opening); the other half have their allocation fall due one after another
 * over the expected opening time, so deadlines keep firing while cases open.
 *
 * With every case open it measures: timer lag (the worker's deadline-lag histogram over
 * every deadline that fired, and, for a few probe cases due a few seconds ahead, from the
 * due time to the escalation being visible through the API); read, event and decision
 * latency through the API on cases long out of the worker's cache; one team's inbox; the
 * worker's memory; the databases' size per assessment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import pino from 'pino';
import { buildWorkingCalendar } from '../activities/calendar';
import { createApp } from '../api/app';
import { signLocalToken } from '../api/tokens';
import { AesGcmPayloadCodec } from '../common/codec';
import { mapLimited } from '../common/map-limited';
import { connectClient } from '../common/temporal';
import { addWorkingDays } from '../domain/working-days';
import { assessmentWorkflowId, promptIdFor } from '../domain/ids';
import { authorityPolicySchema } from '../domain/policy';
import type { AssessmentInput } from '../domain/process';
import { ChildRefKey } from '../workflows/search-attributes';
import { percentile } from './latency-summary';
import { freePort, startDevServer, stopProcess, type RunningServer } from './temporal';
import { build } from './build';
import { startPostgresEngine, type PostgresEngine } from './temporal-postgres';

const whole = (name: string, fallback: number, min = 1): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be a whole number of at least ${min} (got ${process.env[name]})`);
  return value;
};
const cases = whole('SCALE_CASES', 100_000, 10);
const concurrency = whole('SCALE_CONCURRENCY', 48);
const teamCount = whole('SCALE_TEAMS', 150);
const workerCache = whole('SCALE_WORKER_CACHE', 1000, 10);
const apiSamples = whole('SCALE_API_SAMPLES', 100);
const timerProbes = whole('SCALE_TIMER_PROBES', 20, 0);
const waitMinutes = whole('SCALE_WAIT_MINUTES', 240);
const backlog = whole('SCALE_BACKLOG', 1000);
const engineKind = process.env.TEMPORAL_ENGINE === 'dev' ? 'dev' : 'postgres';
const SECRET = randomBytes(32).toString('base64');
const repoRoot = resolve(__dirname, '..');
const MiB = 1024 * 1024;
const DAY_MS = 86_400_000;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const teamName = (index: number) => `T-${String((index % teamCount) + 1).padStart(3, '0')}`;

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const began = performance.now();
  const dataDir = process.env.SCALE_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'bench-scale-'));
  console.log(`engine: ${engineKind === 'postgres' ? `Temporal server on PostgreSQL (data ${dataDir})` : 'dev server (SQLite, in memory)'}`);
  const postgres: PostgresEngine | undefined = engineKind === 'postgres' ? await startPostgresEngine({ dir: join(dataDir, 'pg'), port: await freePort() }) : undefined;
  const server: RunningServer = postgres ?? (await startDevServer({}));
  const databaseBytes = () => postgres?.databaseBytes();
  const taskQueue = `bench-scale-${randomUUID().slice(0, 8)}`;
  const key = { id: `scale-${randomUUID().slice(0, 8)}`, key: randomBytes(32) };
  const codec = new AesGcmPayloadCodec([key]);
  const metricsPort = await freePort();
  const workerLog = join(dataDir, 'worker.log');
  const workerMain = await workerEntry();
  const worker = startWorker(workerMain, {
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    PAYLOAD_KEYS: `${key.id}:${key.key.toString('base64')}`,
    DATA_DIR: join(dataDir, 'worker-data'),
    METRICS_PORT: String(metricsPort),
    WORKER_MAX_CACHED_WORKFLOWS: String(workerCache),
    LOG_LEVEL: 'warn',
    TRACING: 'off',
  }, workerLog);
  const scrape = () => scrapeMetrics(`http://127.0.0.1:${metricsPort}/metrics`);
  let stopped = false;
  const stopAll = async () => {
    if (stopped) return;
    stopped = true;
    await stopProcess(worker);
    await server.stop();
    if (!process.env.SCALE_DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
  };

  // Ctrl-C or a kill: the worker, the server and PostgreSQL stop with this process (an
  // exit by signal runs no 'exit' handler).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`${signal}: stopping`);
      void stopAll().finally(() => process.exit(130));
    });
  }
  try {
    const client = await connectClient(server.address, 'default', codec);
    const app = createApp({
      client,
      taskQueue,
      auth: { mode: 'secret', secret: SECRET },
      audit: join(dataDir, 'audit.log'),
      logger: pino({ level: 'silent' }),
      rateLimit: { windowMs: 60_000, limit: 10_000_000 },
      readRateLimit: { windowMs: 60_000, limit: 10_000_000 },
      addressRateLimit: { windowMs: 60_000, limit: 10_000_000 },
    });
    const http = app.listen(0, '127.0.0.1');
    await new Promise((ready) => http.once('listening', ready));
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const allTeams = Array.from({ length: teamCount }, (_, index) => teamName(index));
    const system = await signLocalToken(SECRET, { sub: 'CMS-1', roles: ['system'], allTeams: true });
    // A manager sees their own teams' cases: one token a team.
    const managers = new Map<string, string>();
    for (const team of allTeams) managers.set(team, await signLocalToken(SECRET, { sub: `MGR-${team}`, roles: ['manager'], teams: [team] }));
    const managerOf = (index: number) => managers.get(teamName(index))!;
    const teamManager = managerOf(0);
    const call = async (method: string, path: string, token: string, body?: unknown) => {
      const started = performance.now();
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      return { status: response.status, text, ms: performance.now() - started };
    };

    const memoryBefore = await waitForWorkerMetrics(scrape);
    const bytesBefore = databaseBytes();
    console.log(`worker up (cache ${workerCache} workflows): rss ${(memoryBefore.rss / MiB).toFixed(0)} MiB, heap ${(memoryBefore.heap / MiB).toFixed(0)} MiB`);

    // ---- the cases' inputs ----
    const policy = authorityPolicySchema.parse({});
    const year = new Date().getUTCFullYear();
    const calendar = buildWorkingCalendar({ region: policy.bankHolidayRegion, timeZone: policy.timeZone, fromYear: year - 1, toYear: year + 3 });
    const allocationDays = policy.allocationWorkingDays;
    const run = randomUUID().slice(0, 6).toUpperCase();
    /**
     * The duty decision that puts a case's allocation due at `dueMs`: the latest instant the
     * allocation's working days after which is `dueMs` (the same time of day, an hour either
     * way across a clock change). On a day that is not a working day there is none: the
     * nearest earlier one is taken, and the deadline falls on the next working day.
     */
    const decidedFor = (dueMs: number) => {
      for (let days = 1; days <= 20; days++) {
        for (const shift of [0, -3_600_000, 3_600_000]) {
          const candidate = dueMs - days * DAY_MS + shift;
          if (addWorkingDays(calendar, candidate, allocationDays) === dueMs) return candidate;
        }
      }
      return dueMs - allocationDays * DAY_MS;
    };
    const inputFor = (referralId: string, team: string, receivedAtMs: number, dutyDecidedAtMs: number): AssessmentInput => ({
      referralId,
      receivedAt: new Date(receivedAtMs).toISOString(),
      referrerType: 'education',
      childProtectionConcern: false,
      team,
      policy,
      calendar,
      idScheme: 'collision-free',
      child: { childRef: 'C-1' },
      track: 'S17',
      strategyDiscussionNow: false,
      consent: 'unknown',
      householdChildRefs: ['C-1'],
      dutyDecidedAt: new Date(dutyDecidedAtMs).toISOString(),
    });
    const start = (input: AssessmentInput) =>
      client.workflow.start('assessmentWorkflow', {
        taskQueue,
        workflowId: assessmentWorkflowId(input.referralId, input.child.childRef),
        args: [input],
        typedSearchAttributes: [{ key: ChildRefKey, value: input.child.childRef }],
      });

    // ---- open ----
    const openStart = Date.now();
    // One case in ten was received long ago: its allocation, completion and statutory
    // deadlines have passed and fire as it starts. One in five has its allocation fall due
    // during the opening (spread over the time it is expected to take, at about 30 cases a
    // second), so timers keep firing under the load of the opening. The rest were received
    // today and fall due after the run, as most open assessments on any day.
    const spreadMs = Math.max(120_000, (cases / 30) * 1000);
    let dueDuringRun = 0;
    console.log(`opening ${cases} assessments, ${concurrency} starts at once, over ${teamCount} teams: 10% back-dated 100 days and more, 20% with their allocation due over the next ${seconds(spreadMs)}, 70% received today`);
    const opening = performance.now();
    let started = 0;
    // Opened as fast as the engine takes them, no faster: starts wait while more than
    // SCALE_BACKLOG cases have not had their first task done. Unpaced, the server takes
    // starts several times faster than it runs their tasks, and the deadlines that fall due
    // meanwhile would wait behind the opening's own backlog.
    let firstTasksDone = 0;
    const countFirstTasksDone = async () => {
      firstTasksDone = (await client.workflow.count(`TaskQueue = '${taskQueue}' AND OpenPromptKinds = 'allocation'`)).count;
      return firstTasksDone;
    };
    const pacing = setInterval(() => void countFirstTasksDone().catch(() => undefined), 2_000);
    const progress = setInterval(() => {
      void (async () => {
        const memory = await scrape().catch(() => undefined);
        console.log(`  ${seconds(performance.now() - opening)}: ${started} started, ${firstTasksDone} with their first task done; worker rss ${memory ? (memory.rss / MiB).toFixed(0) : '?'} MiB`);
      })();
    }, 60_000);
    try {
      await mapLimited(
        Array.from({ length: cases }, (_, index) => index),
        concurrency,
        async (index) => {
          let receivedAtMs: number;
          let decidedAtMs: number;
          if (index % 10 === 0) {
            receivedAtMs = openStart - (100 + (index % 50)) * DAY_MS;
            decidedAtMs = receivedAtMs + 3_600_000;
          } else if (index % 10 === 1 || index % 10 === 2) {
            const dueMs = openStart + 60_000 + Math.floor((index / cases) * spreadMs);
            decidedAtMs = decidedFor(dueMs);
            if (addWorkingDays(calendar, decidedAtMs, allocationDays) === dueMs) dueDuringRun += 1;
            receivedAtMs = decidedAtMs - 3_600_000;
          } else {
            receivedAtMs = openStart - 3_600_000;
            decidedAtMs = openStart - 1_800_000;
          }
          while (started - firstTasksDone > backlog) await sleep(250);
          await start(inputFor(`SCALE-${run}-${index + 1}`, teamName(index), receivedAtMs, decidedAtMs));
          started += 1;
        },
      );
      const startedMs = performance.now() - opening;
      console.log(`started ${cases} in ${seconds(startedMs)} (${(cases / (startedMs / 1000)).toFixed(1)} a second)`);
      const deadline = performance.now() + waitMinutes * 60_000;
      for (;;) {
        const count = await countFirstTasksDone();
        if (count >= cases) break;
        if (performance.now() > deadline) throw new Error(`after ${waitMinutes} minutes only ${count} of ${cases} cases had their first task done`);
        await sleep(5_000);
      }
    } finally {
      clearInterval(progress);
      clearInterval(pacing);
    }
    const openedMs = performance.now() - opening;
    const bytesOpen = databaseBytes();
    console.log(`all ${cases} open (first task done, visible with their allocation prompt) after ${seconds(openedMs)}: ${(cases / (openedMs / 1000)).toFixed(1)} a second`);
    console.log(`${dueDuringRun} allocation deadlines were set to fall due during the opening`);

    // ---- measure, with every case open ----
    const running = await client.workflow.count(`TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`);
    console.log(`running now: ${running.count}`);

    // Probes: allocation due a few seconds ahead; the escalation is looked for through the API.
    const probeLags: number[] = [];
    const probeDue = Date.now() + 30_000;
    if (timerProbes > 0 && addWorkingDays(calendar, decidedFor(probeDue), allocationDays) !== probeDue) {
      console.log('timer probes: skipped (today is not a working day, so no allocation can fall due in the next minute)');
    } else if (timerProbes > 0) {
      const probes = Array.from({ length: timerProbes }, (_, index) => {
        const dueMs = probeDue + index * 1000;
        const decidedAtMs = decidedFor(dueMs);
        return { input: inputFor(`SCALE-${run}-PROBE-${index + 1}`, teamName(index), decidedAtMs - 3_600_000, decidedAtMs), dueMs };
      });
      await Promise.all(probes.map((probe) => start(probe.input)));
      await Promise.all(
        probes.map(async ({ input, dueMs }) => {
          const workflowId = assessmentWorkflowId(input.referralId, input.child.childRef);
          await sleep(Math.max(0, dueMs - Date.now() - 1000));
          for (;;) {
            const answer = await call('GET', `/v1/assessments/${workflowId}`, system);
            if (answer.status === 200 && (JSON.parse(answer.text) as { openPrompts: Array<{ kind: string }> }).openPrompts.some((prompt) => prompt.kind === 'escalation')) {
              probeLags.push(Date.now() - dueMs);
              return;
            }
            if (Date.now() - dueMs > 120_000) throw new Error(`probe ${workflowId}: no escalation 120 s after its allocation fell due`);
            await sleep(250);
          }
        }),
      );
    }

    // Through the API on the cases opened first: long out of the worker's cache. Each kind on cases of its own.
    const sampleIndex = (group: number, sample: number) => group * apiSamples + sample;
    const failures: string[] = [];
    const timed = async (group: number, what: (workflowId: string, index: number) => Promise<{ status: number; text: string; ms: number }>, expected: number) => {
      // (index is the case's, from 0: its team is teamName(index))
      const latencies: number[] = [];
      await mapLimited(
        Array.from({ length: Math.min(apiSamples, Math.floor(cases / 3)) }, (_, sample) => sampleIndex(group, sample)),
        4,
        async (index) => {
          const workflowId = assessmentWorkflowId(`SCALE-${run}-${index + 1}`, 'C-1');
          const answer = await what(workflowId, index);
          if (answer.status !== expected) failures.push(`${workflowId}: ${answer.status} ${answer.text.slice(0, 200)}`);
          latencies.push(answer.ms);
        },
      );
      return latencies;
    };
    const reads = await timed(0, (workflowId, index) => call('GET', `/v1/assessments/${workflowId}`, managerOf(index)), 200);
    const events = await timed(
      1,
      (workflowId, index) =>
        call('POST', `/v1/assessments/${workflowId}/events`, system, {
          eventId: `EV-${run}-${index}`,
          occurredAt: new Date().toISOString(),
          actor: 'SW-1',
          type: 'agency-information-received',
          agency: 'education',
        }),
      202,
    );
    const decisions = await timed(
      2,
      (workflowId, index) =>
        call('POST', `/v1/prompts/${promptIdFor(workflowId, 'allocation', 1)}/decision`, managerOf(index), {
          decision: 'allocate',
          rationale: 'allocated to the team',
          socialWorkerId: 'SW-1',
          track: 'S17',
          assessmentType: 'brief',
        }),
      200,
    );

    // One team's inbox: three teams' first pages uncached, then one team's kept listing.
    const inboxUncached: number[] = [];
    for (const team of [1, 2, 3]) {
      const answer = await call('GET', '/v1/prompts', managerOf(team));
      if (answer.status !== 200) failures.push(`GET /v1/prompts (${teamName(team)}): ${answer.status}`);
      inboxUncached.push(answer.ms);
    }
    const inbox: number[] = [];
    let inboxPrompts = 0;
    for (let attempt = 0; attempt < 20; attempt++) {
      const answer = await call('GET', '/v1/prompts', teamManager);
      if (answer.status !== 200) failures.push(`GET /v1/prompts: ${answer.status}`);
      inboxPrompts = (JSON.parse(answer.text) as { prompts: unknown[] }).prompts.length;
      inbox.push(answer.ms);
    }

    const metrics = await scrape();
    const bytesEnd = databaseBytes();
    http.close();
    await client.connection.close();

    // ---- figures ----
    const line = (label: string, values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      const ms = (value: number) => `${value.toFixed(1).padStart(8)} ms`;
      console.log(`${label.padEnd(44)} p50 ${ms(percentile(sorted, 50))}   p99 ${ms(percentile(sorted, 99))}   max ${ms(sorted.at(-1) ?? NaN)}   (n=${sorted.length})`);
    };
    console.log(`\nScale: ${cases} assessments open on ${engineKind === 'postgres' ? 'Temporal 1.29.1 on PostgreSQL 15' : 'the dev server'}, worker cache ${workerCache}, ${teamCount} teams`);
    console.log(`opened: ${cases} started in ${seconds(openedMs)} (${(cases / (openedMs / 1000)).toFixed(1)} a second, first tasks done)`);
    console.log(`timer lag, every deadline fired (worker histogram, n=${metrics.lag.count}): p50 ≤ ${metrics.lag.p50} s, p99 ≤ ${metrics.lag.p99} s, max bucket ${metrics.lag.max} s`);
    if (probeLags.length) line('timer lag, due to escalation visible (API)', probeLags);
    line('GET /v1/assessments/:id (not cached)', reads);
    line('POST .../events (not cached)', events);
    line('POST /v1/prompts/:id/decision (not cached)', decisions);
    line(`inbox, one team, first page, uncached`, inboxUncached);
    line(`inbox, one team, first page (${inboxPrompts} prompts)`, inbox);
    const perCached = (metrics.rss - memoryBefore.rss) / Math.min(workerCache, cases);
    console.log(
      `worker: rss ${(metrics.rss / MiB).toFixed(0)} MiB (${(memoryBefore.rss / MiB).toFixed(0)} before), heap used ${(metrics.heap / MiB).toFixed(0)} MiB; ` +
        `${(perCached / MiB).toFixed(2)} MiB a cached workflow (cache ${workerCache}${metrics.cached !== undefined ? `, holding ${metrics.cached}` : ''})`,
    );
    if (bytesBefore && bytesOpen && bytesEnd) {
      const per = (after: number, before: number) => ((after - before) / cases / 1024).toFixed(1);
      console.log(
        `database: temporal ${(bytesEnd.temporal / MiB).toFixed(0)} MiB, visibility ${(bytesEnd.visibility / MiB).toFixed(0)} MiB; ` +
          `per assessment opened ${per(bytesOpen.temporal, bytesBefore.temporal)} KiB + ${per(bytesOpen.visibility, bytesBefore.visibility)} KiB visibility`,
      );
    }
    console.log(`whole run: ${seconds(performance.now() - began)}`);
    if (failures.length) {
      console.error(`${failures.length} requests failed:\n${failures.slice(0, 20).join('\n')}`);
      process.exitCode = 1;
    }
  } finally {
    await stopAll();
  }
}

/** The worker's command line after node: compiled (built now) or from source. */
async function workerEntry(): Promise<string[]> {
  if (process.env.SCALE_WORKER === 'source') return ['--import', 'tsx', join(repoRoot, 'worker', 'main.ts')];
  if (process.env.SCALE_WORKER !== undefined && process.env.SCALE_WORKER !== 'compiled') throw new Error('SCALE_WORKER must be compiled or source');
  // Inside the repository, so that node finds the dependencies in its node_modules.
  const { outDir } = await build({ outDir: join(repoRoot, '.data', 'bench-scale-build'), log: () => undefined });
  console.log(`worker: compiled (npm run build) in ${outDir}`);
  return [join(outDir, 'worker', 'main.js')];
}

function startWorker(entry: string[], env: Record<string, string>, logFile: string): ChildProcess {
  // SCALE_WORKER_NODE_ARGS: extra node options for the worker, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const nodeArgs = (process.env.SCALE_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const worker = spawn(process.execPath, [...nodeArgs, ...entry], {
    cwd: repoRoot,
    env: workerEnvironment(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile);
  worker.stdout?.pipe(log);
  worker.stderr?.pipe(log);
  worker.once('exit', (code, signal) => {
    if (code !== 0 && code !== null) console.error(`the worker exited (${code ?? signal}): see ${logFile}`);
  });
  process.once('exit', () => worker.kill('SIGKILL'));
  return worker;
}

/**
 * This process's environment with the run's settings, less what would send the worker's
 * notifications elsewhere than its local outbox (CI exports a throwaway webhook for the
 * compose check) or trace them.
 */
function workerEnvironment(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...settings };
  for (const name of ['OUTBOUND_WEBHOOK_URL', 'OUTBOUND_WEBHOOK_SECRET', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'WORKFLOW_BUNDLE_PATH']) delete env[name];
  return env;
}

interface WorkerMetrics {
  rss: number;
  heap: number;
  cached?: number;
  lag: { count: number; p50: string; p99: string; max: string };
}

/** The worker's Prometheus text: its memory, Core's sticky cache size, and the deadline-lag histogram summed over its labels. */
async function scrapeMetrics(url: string): Promise<WorkerMetrics> {
  const text = await (await fetch(url)).text();
  const samples = text
    .split('\n')
    .filter((row) => row && !row.startsWith('#'))
    .map((row) => {
      const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(row);
      return match ? { name: match[1]!, labels: match[2] ?? '', value: Number(match[3]) } : undefined;
    })
    .filter((sample) => sample !== undefined);
  const first = (name: string) => samples.find((sample) => sample.name === name)?.value;
  const buckets = new Map<number, number>();
  for (const sample of samples.filter((candidate) => candidate.name === 'assessments_deadline_lag_seconds_bucket')) {
    const le = /le="([^"]+)"/.exec(sample.labels)?.[1];
    if (!le) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + sample.value);
  }
  const ordered = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const count = ordered.at(-1)?.[1] ?? 0;
  const quantile = (q: number) => {
    if (count === 0) return '-';
    const bound = ordered.find(([, cumulative]) => cumulative >= q * count)?.[0];
    return bound === undefined || bound === Infinity ? 'inf' : String(bound);
  };
  const maxBound = ordered.find(([, cumulative]) => cumulative >= count)?.[0];
  const cached = first('temporal_sticky_cache_size') ?? first('sticky_cache_size');
  return {
    rss: first('process_resident_memory_bytes') ?? NaN,
    heap: first('nodejs_heap_size_used_bytes') ?? NaN,
    ...(cached !== undefined ? { cached } : {}),
    lag: { count, p50: quantile(0.5), p99: quantile(0.99), max: maxBound === undefined ? '-' : maxBound === Infinity ? 'inf' : String(maxBound) },
  };
}

async function waitForWorkerMetrics(scrape: () => Promise<WorkerMetrics>): Promise<WorkerMetrics> {
  const until = Date.now() + 180_000;
  for (;;) {
    try {
      return await scrape();
    } catch (error) {
      if (Date.now() > until) throw new Error(`the worker's metrics did not answer within 3 minutes: ${(error as Error).message}`);
      await sleep(1000);
    }
  }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
