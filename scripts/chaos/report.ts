/**
 * The campaign's figures and the table it prints (pure, so it is unit-tested).
 */
import type { AcceptedDelivery, DeliveryCheck } from './plan';
import type { FaultKind } from './settings';

export interface FaultRecord {
  index: number;
  kind: FaultKind;
  /** The injected pause (process faults) or outage (receiver), ms. */
  downMs: number;
  startedAt: number;
  /** When the restart was issued, or the receiver answered again. */
  restoredAt?: number;
  /** When a probe through the API first succeeded again (API up, Temporal reachable, the worker answering). */
  backAt?: number;
  error?: string;
  /** Derived after the run: ms from the fault to the driver's next successful write after the restart. */
  nextWriteAfterMs?: number;
  /** Receiver outages: deliveries refused with 500 during it, and ms from its end until every one of them had arrived. */
  refused?: number;
  backlogDeliveredAfterMs?: number;
}

/** The first successful write answered after `from`, from a sorted list of times. */
export function firstAtOrAfter(sortedTimes: readonly number[], from: number): number | undefined {
  let low = 0;
  let high = sortedTimes.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((sortedTimes[middle] as number) < from) low = middle + 1;
    else high = middle;
  }
  return sortedTimes[low];
}

/** Fills in what is derived after the run: the next successful write, and each outage's backlog. */
export function deriveFaultFigures(
  faults: FaultRecord[],
  writeOkAt: readonly number[],
  refused: ReadonlyArray<{ idempotencyKey: string; at: number; why: string }>,
  accepted: readonly AcceptedDelivery[],
): void {
  const firstAccepted = new Map<string, number>();
  for (const delivery of accepted) if (!firstAccepted.has(delivery.idempotencyKey)) firstAccepted.set(delivery.idempotencyKey, delivery.at);
  for (const fault of faults) {
    const restored = fault.restoredAt ?? fault.startedAt;
    if (fault.kind === 'receiver-outage') {
      const keys = new Set(refused.filter((attempt) => attempt.why === 'outage' && attempt.at >= fault.startedAt && attempt.at <= restored).map((attempt) => attempt.idempotencyKey));
      fault.refused = keys.size;
      const arrivals = [...keys].map((key) => firstAccepted.get(key));
      if (keys.size > 0 && arrivals.every((at) => at !== undefined)) {
        fault.backlogDeliveredAfterMs = Math.max(0, ...arrivals.map((at) => (at as number) - restored));
      }
      continue;
    }
    const next = firstAtOrAfter(writeOkAt, restored);
    if (next !== undefined) fault.nextWriteAfterMs = next - fault.startedAt;
  }
}

export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export const seconds = (ms: number | undefined): string => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);

export function duration(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h} h ${m} min ${s} s` : m > 0 ? `${m} min ${s} s` : `${s} s`;
}

export interface CampaignSummary {
  seed: string;
  cases: number;
  concurrency: number;
  faults: FaultRecord[];
  unplannedExits: { worker: number; api: number; temporal: number };
  casesByKind: Record<string, number>;
  started: number;
  completed: number;
  stuck: Array<{ referralId: string; why: string }>;
  /** Cases the driver completed whose final state, on reading back, was not right. */
  wrongFinalState: Array<{ referralId: string; problems: string[] }>;
  deliveries: DeliveryCheck;
  invalidDeliveries: number;
  historiesReadable: number;
  historiesChecked: number;
  workflows: number;
  workflowsByType: Record<string, number>;
  taskFailures: Array<{ workflowId: string; cause: string }>;
  /** Every history replayed with today's workflow code; those that do not replay. */
  replay: { replayed: number; failures: Array<{ workflowId: string; error: string }> };
  taskTimeouts: number;
  unreadableHistories: number;
  missingWorkflows: string[];
  unexplainedWorkflows: string[];
  pendingOutbound: number;
  /** Deadline cases started; of them, whose duty decision deadline was seen to fire (read back), and how late the latest was. */
  deadlines: { total: number; duringOutage: number; fired: number; latestAfterDueMs?: number };
  rejectedEvents: string[];
  driver: {
    requests: number;
    writes: number;
    retries: { writes: number; reads: number };
    retryCauses: Record<string, number>;
    gaveUp: number;
    duplicateEventsOnRetry: number;
    duplicateEventsFirstAttempt: number;
    decisionsAppliedBeforeLostAnswer: number;
    decisionsRepeatedByKey: number;
    refusedEvents: string[];
    unexpectedAnswers: string[];
  };
  wallMs: number;
  phases: { drivingMs: number; settlingMs: number; verifyingMs: number };
}

const faultLabels: Record<FaultKind, string> = {
  'worker-kill': 'worker kill -9',
  'api-kill': 'API kill -9',
  'temporal-kill': 'Temporal server kill -9',
  'receiver-outage': 'receiver down (500s)',
};

/** Everything that makes the campaign fail, one line each. */
export function failures(summary: CampaignSummary): string[] {
  const found: string[] = [];
  const d = summary.deliveries;
  if (summary.stuck.length > 0) found.push(`${summary.stuck.length} stuck case(s)`);
  if (summary.completed + summary.stuck.length < summary.cases) found.push(`${summary.cases - summary.completed - summary.stuck.length} case(s) never driven (time bound)`);
  if (summary.wrongFinalState.length > 0) found.push(`${summary.wrongFinalState.length} case(s) not in their final stage and outcome`);
  if (d.lostMeanings.length > 0) found.push(`${d.lostMeanings.length} notification(s)/case record(s) lost (by meaning)`);
  if (d.lostKeys.length > 0) found.push(`${d.lostKeys.length} scheduled delivery(ies) never arrived (by idempotency key)`);
  if (d.duplicateMeanings.length > 0) found.push(`${d.duplicateMeanings.length} duplicate(s) by meaning`);
  if (d.keyConflicts.length > 0) found.push(`${d.keyConflicts.length} idempotency key(s) carrying different bodies`);
  if (d.unexpected.length > 0) found.push(`${d.unexpected.length} unexpected delivery(ies)`);
  if (summary.invalidDeliveries > 0) found.push(`${summary.invalidDeliveries} delivery(ies) with a bad signature or key`);
  if (summary.historiesReadable < summary.historiesChecked) found.push(`${summary.historiesChecked - summary.historiesReadable} history(ies) not readable`);
  if (summary.unreadableHistories > 0) found.push(`${summary.unreadableHistories} Temporal history(ies) not readable with the data converter`);
  if (summary.taskFailures.length > 0) found.push(`${summary.taskFailures.length} workflow task failure(s)`);
  if (summary.replay.failures.length > 0) found.push(`${summary.replay.failures.length} history(ies) that do not replay (nondeterminism)`);
  if (summary.missingWorkflows.length > 0) found.push(`${summary.missingWorkflows.length} case workflow(s) missing`);
  if (summary.unexplainedWorkflows.length > 0) found.push(`${summary.unexplainedWorkflows.length} workflow(s) no case explains`);
  if (summary.deadlines.fired < summary.deadlines.total) found.push(`${summary.deadlines.total - summary.deadlines.fired} deadline(s) not seen to fire`);
  if (summary.rejectedEvents.length > 0) found.push(`${summary.rejectedEvents.length} event(s) the workflows rejected`);
  if (summary.driver.refusedEvents.length > 0) found.push(`${summary.driver.refusedEvents.length} event(s) refused with 422 (driver bug)`);
  if (summary.driver.unexpectedAnswers.length > 0) found.push(`${summary.driver.unexpectedAnswers.length} unexpected API answer(s)`);
  return found;
}

export function formatReport(summary: CampaignSummary): string {
  const lines: string[] = [];
  const pad = (text: string, width: number) => text.padEnd(width);
  const d = summary.deliveries;
  lines.push(
    `Fault campaign: seed ${summary.seed}, ${summary.cases} cases, ${summary.concurrency} in flight; Temporal dev server (SQLite), worker and API as separate processes`,
  );
  lines.push('');
  lines.push(`${pad('fault', 26)}${pad('count', 7)}${pad('down (injected)', 17)}${pad('serving again p50 / max', 25)}next case write p50 / max`);
  for (const kind of ['worker-kill', 'api-kill', 'temporal-kill'] as const) {
    const of = summary.faults.filter((fault) => fault.kind === kind);
    const back = of.flatMap((fault) => (fault.backAt !== undefined ? [fault.backAt - fault.startedAt] : []));
    const next = of.flatMap((fault) => (fault.nextWriteAfterMs !== undefined ? [fault.nextWriteAfterMs] : []));
    const notBack = of.length - back.length;
    lines.push(
      `${pad(faultLabels[kind], 26)}${pad(String(of.length), 7)}${pad(of.length ? `${seconds(avg(of.map((fault) => fault.downMs)))} avg` : '-', 17)}` +
        `${pad(of.length ? `${seconds(percentile(back, 50))} / ${seconds(percentile(back, 100))}${notBack ? ` (${notBack} not back)` : ''}` : '-', 25)}` +
        `${of.length ? `${seconds(percentile(next, 50))} / ${seconds(percentile(next, 100))}` : '-'}`,
    );
  }
  const outages = summary.faults.filter((fault) => fault.kind === 'receiver-outage');
  const backlog = outages.flatMap((fault) => (fault.backlogDeliveredAfterMs !== undefined ? [fault.backlogDeliveredAfterMs] : []));
  lines.push(
    `${pad(faultLabels['receiver-outage'], 26)}${pad(String(outages.length), 7)}${pad(outages.length ? `${seconds(avg(outages.map((fault) => fault.downMs)))} avg` : '-', 17)}` +
      (outages.length
        ? `${outages.reduce((sum, fault) => sum + (fault.refused ?? 0), 0)} deliveries refused; all delivered after the outage: p50 ${seconds(percentile(backlog, 50))}, max ${seconds(percentile(backlog, 100))}`
        : '-'),
  );
  lines.push(`${pad('PostgreSQL hard stop', 26)}${pad('n/a', 7)}not in this campaign: it runs on the dev server (SQLite); the PostgreSQL engine has no fault campaign yet`);
  lines.push(
    `${pad('exits nobody asked for', 26)}worker ${summary.unplannedExits.worker}, API ${summary.unplannedExits.api}, Temporal ${summary.unplannedExits.temporal} (each restarted)`,
  );
  lines.push('');
  const kinds = Object.entries(summary.casesByKind).map(([kind, count]) => `${kind} ${count}`).join(', ');
  lines.push(`${pad('cases', 14)}started ${summary.started}, completed ${summary.completed}, stuck ${summary.stuck.length}, wrong final state ${summary.wrongFinalState.length} (${kinds})`);
  lines.push(
    `${pad('deliveries', 14)}expected ${d.expected}, arrived ${d.distinctKeys} distinct keys (${d.acceptedPosts} accepted POSTs: ${d.redeliveries} redelivered under the same key), ` +
      `lost ${d.lostMeanings.length} by meaning / ${d.lostKeys.length} by key, duplicates ${d.duplicateMeanings.length}, unexpected ${d.unexpected.length}, ` +
      `key conflicts ${d.keyConflicts.length}, bad signatures ${summary.invalidDeliveries}`,
  );
  lines.push(
    `${pad('histories', 14)}${summary.historiesReadable}/${summary.historiesChecked} cases readable through the API; ${summary.workflows} workflows ` +
      `(${Object.entries(summary.workflowsByType).map(([type, count]) => `${type} ${count}`).join(', ')}); ` +
      `workflow task failures ${summary.taskFailures.length} (timeouts ${summary.taskTimeouts}); ` +
      `replayed with today's code ${summary.replay.replayed}, nondeterministic ${summary.replay.failures.length}`,
  );
  lines.push(
    `${pad('deadlines', 14)}${summary.deadlines.total} came due during the run, ${summary.deadlines.fired} seen to fire ` +
      `(${summary.deadlines.duringOutage} of them due while the worker or Temporal was down), the latest ${seconds(summary.deadlines.latestAfterDueMs)} after it was due`,
  );
  const causes = Object.entries(summary.driver.retryCauses).map(([cause, count]) => `${cause} ${count}`).join(', ');
  lines.push(
    `${pad('driver', 14)}${summary.driver.requests} requests (${summary.driver.writes} writes), retries ${summary.driver.retries.writes + summary.driver.retries.reads} ` +
      `(writes ${summary.driver.retries.writes}, reads ${summary.driver.retries.reads}${causes ? `; ${causes}` : ''}), gave up ${summary.driver.gaveUp}; ` +
      `events acknowledged as duplicates on retry ${summary.driver.duplicateEventsOnRetry}, decisions found applied after a lost answer ${summary.driver.decisionsAppliedBeforeLostAnswer}, decisions repeated by Idempotency-Key after a lost answer ${summary.driver.decisionsRepeatedByKey}, ` +
      `events refused (422) ${summary.driver.refusedEvents.length}`,
  );
  lines.push(
    `${pad('wall time', 14)}${duration(summary.wallMs)} (driving ${duration(summary.phases.drivingMs)}, settling ${duration(summary.phases.settlingMs)}, verifying ${duration(summary.phases.verifyingMs)})`,
  );
  return lines.join('\n');
}

function avg(values: readonly number[]): number | undefined {
  return values.length === 0 ? undefined : values.reduce((sum, value) => sum + value, 0) / values.length;
}
