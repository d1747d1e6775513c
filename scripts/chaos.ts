/**
 * `npm run chaos`: the fault campaign (issue 14). Starts its own Temporal dev server (SQLite
 * in a fresh temporary directory, so that kill -9 and a restart keep the state), the worker
 * and the API as separate processes, and an outbound receiver in this process; drives whole
 * cases through the HTTP API only, retrying as a case system would; meanwhile kills the
 * worker, the API and the Temporal server with SIGKILL and takes the receiver down, at
 * moments and for durations its seed decides. Then it verifies every case and every
 * delivery, prints a table, and exits non-zero on any loss, duplicate or stuck case.
 *
 * Settings: CHAOS_CASES, CHAOS_CONCURRENCY, CHAOS_SECONDS, CHAOS_SEED, CHAOS_FAULT_GAP,
 * CHAOS_FAULT_KINDS, CHAOS_SETTLE_SECONDS, CHAOS_KEEP (see README, "Fault campaign").
 * Only processes it started are ever killed, by pid; all traffic stays on 127.0.0.1.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { signLocalToken } from '../api/tokens';
import { AesGcmPayloadCodec, parsePayloadKeys } from '../common/codec';
import { connectClient } from '../common/temporal';
import { driveCase, newDriverFindings, type CaseRun, type DriverContext, type Tokens } from './chaos/driver';
import { ApiClient, newDriverStats, sleep } from './chaos/http';
import { caseScenario, checkDeliveries, expectedMeanings, faultPlan, meaningKey, type CaseScenario } from './chaos/plan';
import { createRng } from './chaos/prng';
import { DevServer, NodeService, type Supervised } from './chaos/processes';
import { startReceiver, type Receiver } from './chaos/receiver';
import { deriveFaultFigures, duration, failures, formatReport, seconds, type CampaignSummary, type FaultRecord } from './chaos/report';
import { loadChaosSettings, type ChaosSettings } from './chaos/settings';
import { mapLimited } from '../common/map-limited';
import { checkCase, replayAll, scanHistories, type CaseCheck } from './chaos/verify';
import { ensureTemporalCli, freePort } from './temporal';

const TASK_QUEUE = 'assessments';
const NAMESPACE = 'default';
/** Bound of every wait for a part to serve again after a fault. */
const RECOVERY_BOUND_MS = 180_000;

const campaignStart = Date.now();
function say(message: string): void {
  const elapsed = Math.round((Date.now() - campaignStart) / 1000);
  process.stdout.write(`[chaos ${String(Math.floor(elapsed / 60)).padStart(2, '0')}:${String(elapsed % 60).padStart(2, '0')}] ${message}\n`);
}

interface Stack {
  runDir: string;
  receiver: Receiver;
  temporal: DevServer;
  worker: NodeService;
  api: NodeService;
  apiBase: string;
  client: Client;
  codec: AesGcmPayloadCodec;
  tokens: Tokens;
}

const started: Supervised[] = [];
let receiverToClose: Receiver | undefined;
let runDirToReport: string | undefined;

/** Kills every process this campaign started, by pid, without waiting: for exits, signals and the watchdog. */
function killEverything(): void {
  for (const service of started) service.killNow();
}
process.on('exit', killEverything);

async function startStack(settings: ChaosSettings): Promise<Stack> {
  await ensureTemporalCli();
  const runDir = mkdtempSync(join(tmpdir(), 'assessment-chaos-'));
  runDirToReport = runDir;
  say(`run directory ${runDir} (Temporal SQLite and this run's payload key, worker.log, api.log, audit.log)`);
  const webhookSecret = randomBytes(24).toString('hex');
  const receiver = await startReceiver(webhookSecret);
  receiverToClose = receiver;

  const temporalServer = new DevServer(await freePort(), join(runDir, 'temporal.sqlite'), say);
  started.push(temporalServer);
  await temporalServer.start();

  const payloadKeys = `chaos-${settings.seed}:${randomBytes(32).toString('base64')}`;
  // A throwaway key for this run only, kept beside the SQLite file so that a kept run's histories stay readable.
  writeFileSync(join(runDir, 'payload-keys'), `${payloadKeys}\n`, { mode: 0o600 });
  const jwtSecret = randomBytes(32).toString('base64url');
  const apiPort = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('API_') || key.startsWith('OUTBOUND_') || key.startsWith('TEMPORAL_')) delete env[key];
  delete env.NODE_ENV;
  delete env.AUDIT_LOG_FILE;
  Object.assign(env, {
    TEMPORAL_ADDRESS: temporalServer.address,
    TEMPORAL_NAMESPACE: NAMESPACE,
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    DATA_DIR: runDir,
    PAYLOAD_KEYS: payloadKeys,
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    API_JWT_SECRET: jwtSecret,
    // The driver is one caller per role: the campaign measures faults, not the rate limit.
    API_RATE_LIMIT_MAX: '1000000',
    AUDIT_LOG_FILE: join(runDir, 'audit.log'),
    OUTBOUND_WEBHOOK_URL: receiver.url,
    OUTBOUND_WEBHOOK_SECRET: webhookSecret,
    LOG_LEVEL: 'info',
    // The worker and the API would both take the metrics endpoint's default port on this one
    // host (and an `npm start` may hold it); the campaign reads no metrics.
    METRICS_PORT: '0',
  });

  // The campaign's own client, with the project's data converter: worker readiness (its
  // poller on the task queue) and, at the end, the histories.
  const codec = new AesGcmPayloadCodec(parsePayloadKeys(payloadKeys));
  const client = await connectClient(temporalServer.address, NAMESPACE, codec);
  const apiBase = `http://127.0.0.1:${apiPort}`;

  let worker: NodeService | undefined = undefined;
  const workerPolls = async (): Promise<void> => {
    const until = Date.now() + RECOVERY_BOUND_MS;
    for (;;) {
      const pid = worker?.pid();
      try {
        const answer = await client.workflowService.describeTaskQueue({
          namespace: NAMESPACE,
          taskQueue: { name: TASK_QUEUE },
          taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        });
        if (pid !== undefined && (answer.pollers ?? []).some((poller) => poller.identity?.startsWith(`${pid}@`))) return;
      } catch {
        // the server may be restarting too
      }
      if (Date.now() > until) throw new Error(`the worker (pid ${pid ?? 'none'}) did not poll within ${RECOVERY_BOUND_MS / 1000} s`);
      await sleep(250);
    }
  };
  worker = new NodeService('worker', 'worker/main.ts', env, join(runDir, 'worker.log'), workerPolls, say);
  started.push(worker);
  const api = new NodeService('api', 'api/main.ts', env, join(runDir, 'api.log'), () => httpUp(apiBase), say);
  started.push(api);
  await Promise.all([worker.start(), api.start()]);

  const sign = (sub: string, role: 'system' | 'social_worker' | 'manager' | 'operations') => signLocalToken(jwtSecret, { sub, roles: [role], allTeams: true }, { expiresIn: '7d' });
  const tokens: Tokens = {
    system: await sign('CMS-1', 'system'),
    socialWorker: await sign('SW-1', 'social_worker'),
    manager: await sign('MGR-1', 'manager'),
    operations: await sign('OPS-1', 'operations'),
  };
  say(`stack up: Temporal ${temporalServer.address} (pid ${temporalServer.pid()}), worker pid ${worker.pid()}, API ${apiBase} (pid ${api.pid()}), receiver ${receiver.url}`);
  return { runDir, receiver, temporal: temporalServer, worker, api, apiBase, client, codec, tokens };
}

/** The API answers HTTP at all (its /healthz may say Temporal is unreachable). */
async function httpUp(base: string): Promise<void> {
  const until = Date.now() + RECOVERY_BOUND_MS;
  for (;;) {
    try {
      await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2_000) });
      return;
    } catch {
      if (Date.now() > until) throw new Error(`the API did not answer at ${base} within ${RECOVERY_BOUND_MS / 1000} s`);
      await sleep(200);
    }
  }
}

/** One probe through the API: /healthz says Temporal is reachable and, given a referral, the worker answers a query on it. */
async function probeOnce(stack: Stack, referralId: string | undefined): Promise<boolean> {
  try {
    const health = await fetch(`${stack.apiBase}/healthz`, { signal: AbortSignal.timeout(3_000) });
    if (health.status !== 200) return false;
    if (!referralId) return true;
    const state = await fetch(`${stack.apiBase}/v1/referrals/${referralId}`, {
      headers: { authorization: `Bearer ${stack.tokens.manager}` },
      signal: AbortSignal.timeout(5_000),
    });
    return state.status === 200;
  } catch {
    return false;
  }
}

async function waitServing(stack: Stack, referralId: string | undefined, boundMs = RECOVERY_BOUND_MS): Promise<number | undefined> {
  const until = Date.now() + boundMs;
  while (Date.now() < until) {
    if (await probeOnce(stack, referralId)) return Date.now();
    await sleep(200);
  }
  return undefined;
}

interface FaultLoop {
  faults: FaultRecord[];
  stop(): void;
  done: Promise<void>;
}

function runFaults(settings: ChaosSettings, stack: Stack, lastReferral: () => string | undefined): FaultLoop {
  const faults: FaultRecord[] = [];
  let stopping = false;
  let wake: () => void = () => undefined;
  const pause = (ms: number) =>
    new Promise<void>((done) => {
      const timer = setTimeout(done, ms);
      wake = () => {
        clearTimeout(timer);
        done();
      };
    });
  const plan = faultPlan(createRng(settings.seedNumber).fork('faults'), settings.faultKinds, settings.faultGapSeconds);
  const done = (async () => {
    for (const planned of plan) {
      await pause(planned.gapMs);
      if (stopping) return;
      const fault: FaultRecord = { index: planned.index, kind: planned.kind, downMs: planned.downMs, startedAt: Date.now() };
      faults.push(fault);
      const referral = lastReferral();
      try {
        switch (planned.kind) {
          case 'worker-kill':
          case 'api-kill':
          case 'temporal-kill': {
            const target = planned.kind === 'worker-kill' ? stack.worker : planned.kind === 'api-kill' ? stack.api : stack.temporal;
            const pid = target.pid();
            say(`fault #${planned.index}: kill -9 ${target.name} (pid ${pid}), restart in ${seconds(planned.downMs)}`);
            await target.kill9();
            await sleep(planned.downMs);
            fault.restoredAt = Date.now();
            await target.start();
            break;
          }
          case 'receiver-outage':
            say(`fault #${planned.index}: receiver answers 500 for ${seconds(planned.downMs)}`);
            stack.receiver.setDown(true);
            await sleep(planned.downMs);
            stack.receiver.setDown(false);
            fault.restoredAt = Date.now();
            break;
        }
      } catch (error) {
        fault.error = (error as Error).message;
        say(`fault #${planned.index}: ${fault.error}`);
      }
      fault.backAt = planned.kind === 'receiver-outage' ? fault.restoredAt : await waitServing(stack, referral);
      say(
        fault.backAt !== undefined
          ? `fault #${planned.index}: serving again ${seconds(fault.backAt - fault.startedAt)} after the fault`
          : `fault #${planned.index}: NOT serving again within ${RECOVERY_BOUND_MS / 1000} s`,
      );
      if (stopping) return;
    }
  })();
  return {
    faults,
    stop: () => {
      stopping = true;
      wake();
    },
    done,
  };
}

async function main(): Promise<number> {
  const settings = loadChaosSettings();
  say(
    `seed ${settings.seed} (CHAOS_SEED=${settings.seed} repeats this campaign's faults and cases); ${settings.cases} cases, ${settings.concurrency} in flight, ` +
      `driving bounded to ${settings.seconds} s, faults ${settings.faultKinds.join(', ') || 'none'} every ${settings.faultGapSeconds.min}-${settings.faultGapSeconds.max} s`,
  );
  const watchdogMs = (settings.seconds + settings.settleSeconds + 900) * 1000;
  const watchdog = setTimeout(() => {
    say(`watchdog: the campaign overran ${Math.round(watchdogMs / 1000)} s; stopping everything`);
    killEverything();
    process.exit(3);
  }, watchdogMs);

  const stack = await startStack(settings);
  const rng = createRng(settings.seedNumber);
  const caseRng = rng.fork('cases');
  const scenarios: CaseScenario[] = Array.from({ length: settings.cases }, (_, index) => caseScenario(caseRng, settings.seed, index + 1));
  const runs: CaseRun[] = scenarios.map((scenario) => ({ scenario }));

  // ---- driving, with faults alongside ----
  const drivingStart = Date.now();
  const drivingDeadline = drivingStart + settings.seconds * 1000;
  const stats = newDriverStats();
  const findings = newDriverFindings();
  const ctx: DriverContext = {
    api: new ApiClient(stack.apiBase, stats, rng.fork('jitter'), drivingDeadline),
    tokens: stack.tokens,
    findings,
    waitMs: 240_000,
  };
  let lastReferral: string | undefined;
  const faultLoop = runFaults(settings, stack, () => lastReferral);
  const progress = setInterval(() => {
    const completed = runs.filter((run) => run.completedAt).length;
    const inFlight = runs.filter((run) => run.startedAt && !run.completedAt && !run.stuck).length;
    say(
      `progress: ${completed}/${settings.cases} cases completed, ${inFlight} in flight, ${runs.filter((run) => run.stuck).length} stuck; ` +
        `${faultLoop.faults.length} faults; ${stats.retries.writes + stats.retries.reads} retries`,
    );
  }, 30_000);
  let next = 0;
  await Promise.all(
    Array.from({ length: settings.concurrency }, async () => {
      while (next < runs.length && Date.now() < drivingDeadline) {
        const run = runs[next++] as CaseRun;
        await driveCase(ctx, run);
        // Recovery probes query a case known to be healthy (a stuck one may be the very thing that is broken).
        if (run.completedAt) lastReferral = run.scenario.referralId;
        if (run.stuck) say(`case ${run.scenario.referralId} (${run.scenario.kind}) STUCK at ${run.stuck.step}: ${run.stuck.reason}`);
      }
    }),
  );
  clearInterval(progress);
  faultLoop.stop();
  await faultLoop.done;
  const drivingMs = Date.now() - drivingStart;
  say(`driving done in ${duration(drivingMs)}: ${runs.filter((run) => run.completedAt).length}/${settings.cases} cases completed; ${faultLoop.faults.length} faults`);

  // ---- settling: everything up, deliveries that were being retried arrive ----
  const settleStart = Date.now();
  const settleUntil = settleStart + settings.settleSeconds * 1000;
  stack.receiver.setDown(false);
  if ((await waitServing(stack, lastReferral, Math.min(RECOVERY_BOUND_MS, settleUntil - Date.now()))) === undefined) {
    say('settling: the stack is not serving; verifying what can be read');
  }
  const completedRuns = runs.filter((run) => run.completedAt);
  const expectedOfCompleted = completedRuns.flatMap((run) => expectedMeanings(run.scenario).map(meaningKey));
  for (let round = 0; Date.now() < settleUntil; round += 1) {
    const missing = checkDeliveries(expectedOfCompleted, [], stack.receiver.accepted).lostMeanings.length;
    if (missing === 0) break;
    if (round % 10 === 0) say(`settling: ${missing} expected deliveries not in yet (retrying with backoff); waiting up to ${duration(settleUntil - Date.now())}`);
    await sleep(2_000);
  }
  const histories = await scanHistories(stack.client, runs, settleUntil, say);
  const settlingMs = Date.now() - settleStart;
  say(`verification: replaying ${histories.histories.length} histories with today's workflow code`);
  const verifyStart = Date.now();
  const replay = await replayAll(histories.histories, stack.codec);

  // ---- verification of every case, through the API ----
  const verifyStats = newDriverStats();
  const verifyApi = new ApiClient(stack.apiBase, verifyStats, rng.fork('verify'), Date.now() + 3_600_000);
  const startedRuns = runs.filter((run) => run.startedAt);
  let checked = 0;
  const checks: CaseCheck[] = await mapLimited(startedRuns, 4, async (run) => {
    const check = await checkCase(verifyApi, stack.tokens, run);
    checked += 1;
    if (checked % 100 === 0) say(`verification: ${checked}/${startedRuns.length} cases read back`);
    return check;
  });
  const verifyingMs = Date.now() - verifyStart;

  // ---- figures ----
  const allExpected = new Set(startedRuns.flatMap((run) => expectedMeanings(run.scenario).map(meaningKey)));
  const deliveries = checkDeliveries(expectedOfCompleted, histories.outboundKeys, stack.receiver.accepted);
  deliveries.unexpected = deliveries.unexpected.filter((meaning) => !allExpected.has(meaning));
  deriveFaultFigures(faultLoop.faults, stats.writeOkAt, stack.receiver.refused, stack.receiver.accepted);
  const outageWindows = faultLoop.faults
    .filter((fault) => fault.kind === 'worker-kill' || fault.kind === 'temporal-kill')
    .map((fault) => [fault.startedAt, fault.backAt ?? fault.restoredAt ?? fault.startedAt] as const);
  const deadlineChecks = checks.filter((check) => check.deadline);
  const faultAt = (at: number) =>
    faultLoop.faults.find((fault) => fault.kind !== 'receiver-outage' && at >= fault.startedAt && at <= (fault.backAt ?? fault.restoredAt ?? fault.startedAt));
  const deadlineLines = deadlineChecks
    .map((check) => {
      const { dueAt, firedAt } = check.deadline as { dueAt: number; firedAt?: number };
      const during = faultAt(dueAt);
      return {
        late: firedAt === undefined ? Number.POSITIVE_INFINITY : firedAt - dueAt,
        line:
          `${check.referralId}: due ${duration(dueAt - campaignStart)} into the run${during ? ` (during fault #${during.index}, ${during.kind})` : ''}, ` +
          (firedAt === undefined ? 'NEVER FIRED' : `fired ${seconds(firedAt - dueAt)} later`),
      };
    })
    .sort((a, b) => b.late - a.late)
    .map((entry) => entry.line);
  const fired = deadlineChecks.filter((check) => check.deadline?.firedAt !== undefined);
  const checkByRef = new Map(checks.map((check) => [check.referralId, check]));
  const summary: CampaignSummary = {
    seed: settings.seed,
    cases: settings.cases,
    concurrency: settings.concurrency,
    faults: faultLoop.faults,
    unplannedExits: { worker: stack.worker.unplannedExits, api: stack.api.unplannedExits, temporal: stack.temporal.unplannedExits },
    casesByKind: scenarios.reduce<Record<string, number>>((counts, scenario) => ({ ...counts, [scenario.kind]: (counts[scenario.kind] ?? 0) + 1 }), {}),
    started: startedRuns.length,
    completed: completedRuns.length,
    stuck: runs.filter((run) => run.stuck).map((run) => ({ referralId: run.scenario.referralId, why: `${run.stuck?.step}: ${run.stuck?.reason}` })),
    wrongFinalState: completedRuns
      .map((run) => checkByRef.get(run.scenario.referralId))
      .filter((check): check is CaseCheck => !!check && check.problems.length > 0)
      .map((check) => ({ referralId: check.referralId, problems: check.problems })),
    deliveries,
    invalidDeliveries: stack.receiver.invalid.length,
    historiesReadable: checks.filter((check) => check.historyReadable).length,
    historiesChecked: checks.length,
    workflows: histories.workflows,
    workflowsByType: Object.fromEntries(histories.byType),
    taskFailures: histories.taskFailures,
    replay,
    taskTimeouts: histories.taskTimeouts,
    unreadableHistories: histories.unreadable.length,
    missingWorkflows: histories.missingWorkflows,
    unexplainedWorkflows: histories.unexplainedWorkflows,
    pendingOutbound: histories.pendingOutbound.length,
    deadlines: {
      total: startedRuns.filter((run) => run.scenario.kind === 'deadline').length,
      duringOutage: fired.filter((check) => outageWindows.some(([from, to]) => (check.deadline?.dueAt ?? 0) >= from && (check.deadline?.dueAt ?? 0) <= to)).length,
      fired: fired.length,
      ...(fired.length ? { latestAfterDueMs: Math.max(...fired.map((check) => (check.deadline?.firedAt ?? 0) - (check.deadline?.dueAt ?? 0))) } : {}),
    },
    rejectedEvents: checks.flatMap((check) => check.rejectedEvents),
    driver: {
      requests: stats.requests,
      writes: stats.writes,
      retries: stats.retries,
      retryCauses: Object.fromEntries(stats.retryCauses),
      gaveUp: stats.gaveUp,
      duplicateEventsOnRetry: findings.duplicateEventsOnRetry,
      duplicateEventsFirstAttempt: findings.duplicateEventsFirstAttempt,
      decisionsAppliedBeforeLostAnswer: findings.decisionsAppliedBeforeLostAnswer,
      decisionsRepeatedByKey: findings.decisionsRepeatedByKey,
      refusedEvents: findings.refusedEvents,
      unexpectedAnswers: findings.unexpectedAnswers,
    },
    wallMs: Date.now() - campaignStart,
    phases: { drivingMs, settlingMs, verifyingMs },
  };

  console.log('');
  for (const fault of faultLoop.faults) {
    const extra =
      fault.kind === 'receiver-outage'
        ? `${fault.refused ?? 0} deliveries refused, all in ${seconds(fault.backlogDeliveredAfterMs)} after`
        : `serving again after ${seconds(fault.backAt !== undefined ? fault.backAt - fault.startedAt : undefined)}, next case write after ${seconds(fault.nextWriteAfterMs)}`;
    console.log(`  fault #${String(fault.index).padEnd(3)} ${fault.kind.padEnd(16)} down ${seconds(fault.downMs).padStart(7)}  ${extra}${fault.error ? `  (${fault.error})` : ''}`);
  }
  console.log('');
  console.log(formatReport(summary));
  const problems = failures(summary);
  // Every worker start bundles workflows/ from the working tree: a change there during the
  // campaign would make restarted workers replay other code (nondeterminism not of the engine's making).
  const bundles = [...new Set([...readFileSync(join(stack.runDir, 'worker.log'), 'utf8').matchAll(/workflow-bundle-([0-9a-f]+)\.js/g)].map((match) => match[1]))];
  if (bundles.length > 1) problems.push(`the workflow code changed during the campaign (bundles ${bundles.join(', ')}): run it on a tree nobody is editing`);
  const details: Array<[string, readonly unknown[]]> = [
    ['stuck', summary.stuck.map((stuck) => `${stuck.referralId}: ${stuck.why}`)],
    ['wrong final state', summary.wrongFinalState.map((wrong) => `${wrong.referralId}: ${wrong.problems.join('; ')}`)],
    ['lost (by meaning)', deliveries.lostMeanings],
    ['lost (by key)', deliveries.lostKeys],
    ['duplicates', deliveries.duplicateMeanings.map((duplicate) => `${duplicate.meaning} under ${duplicate.keys.join(', ')}`)],
    ['key conflicts', deliveries.keyConflicts],
    ['unexpected', deliveries.unexpected],
    ['bad deliveries', stack.receiver.invalid.map((invalid) => invalid.reason)],
    ['workflow task failures', summary.taskFailures.map((failure) => `${failure.workflowId}: ${failure.cause}`)],
    ['histories that do not replay', replay.failures.map((failure) => `${failure.workflowId}: ${failure.error}`)],
    ['unreadable Temporal histories', histories.unreadable],
    ['missing workflows', summary.missingWorkflows],
    ['workflows no case explains', summary.unexplainedWorkflows],
    ['events the workflows rejected', summary.rejectedEvents],
    ['events refused with 422', summary.driver.refusedEvents],
    ['unexpected API answers', summary.driver.unexpectedAnswers],
  ];
  if (deadlineLines.length > 0) {
    console.log(`\ndeadlines, latest first (${deadlineLines.length}):`);
    for (const line of deadlineLines.slice(0, 5)) console.log(`  ${line}`);
  }
  for (const [title, items] of details) {
    if (items.length === 0) continue;
    console.log(`\n${title} (${items.length}):`);
    for (const item of items.slice(0, 20)) console.log(`  ${String(item)}`);
    if (items.length > 20) console.log(`  ... ${items.length - 20} more in ${join(stack.runDir, 'summary.json')}`);
  }
  writeFileSync(join(stack.runDir, 'summary.json'), JSON.stringify({ settings, summary, details: Object.fromEntries(details), deadlines: deadlineLines }, null, 2));
  console.log(problems.length === 0 ? '\nRESULT: PASS' : `\nRESULT: FAIL: ${problems.join('; ')}`);

  // ---- clean up ----
  clearTimeout(watchdog);
  await Promise.all([stack.api.stop(), stack.worker.stop()]);
  await stack.client.connection.close().catch(() => undefined);
  await stack.temporal.stop();
  await stack.receiver.close();
  if (problems.length === 0 && !settings.keep) rmSync(stack.runDir, { recursive: true, force: true });
  else say(`kept ${stack.runDir} (logs, audit, Temporal SQLite, summary.json)`);
  return problems.length === 0 ? 0 : 1;
}

const interrupt = (signal: string) => {
  say(`${signal}: stopping every process this campaign started${runDirToReport ? `; kept ${runDirToReport}` : ''}`);
  killEverything();
  void receiverToClose?.close();
  process.exit(130);
};
process.once('SIGINT', () => interrupt('SIGINT'));
process.once('SIGTERM', () => interrupt('SIGTERM'));

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`campaign failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    killEverything();
    process.exit(2);
  },
);
