/**
 * After the faults: what every case became, read through the API as operations staff and
 * managers would, and what the Temporal histories say (read with the project's data
 * converter): workflow task failures, and the notifications and case records each workflow
 * scheduled (their idempotency keys are `<workflowId>/<runId>/<activityId>`, see
 * activities/index.ts).
 */
import type { Client, HistoryAndWorkflowId } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { temporal } from '@temporalio/proto';
import type { CaseRun, Tokens } from './driver';
import { ApiClient, sleep } from './http';
import { caseWorkflowIds } from './plan';
import { dataConverter } from '../../common/temporal';
import { bundleWorkflows } from '../../worker/worker';
import { mapLimited } from '../../common/map-limited';

const EventType = temporal.api.enums.v1.EventType;
const OUTBOUND_ACTIVITIES = new Set(['notify', 'recordToCaseSystem']);

export interface HistoryFindings {
  workflows: number;
  byType: Map<string, number>;
  /** WorkflowTaskFailed events (nondeterminism among them), by workflow and cause. */
  taskFailures: Array<{ workflowId: string; cause: string }>;
  /** WorkflowTaskTimedOut events: expected when a worker is killed mid-task. */
  taskTimeouts: number;
  /** Idempotency keys of every notify / recordToCaseSystem activity the histories scheduled. */
  outboundKeys: Set<string>;
  /** Of those, scheduled but not yet completed. */
  pendingOutbound: string[];
  /** Case workflows the campaign expected but the server does not have. */
  missingWorkflows: string[];
  /** Workflows the server has that no case explains. */
  unexplainedWorkflows: string[];
  unreadable: string[];
  /** Every history as read (first round), for the replay check. */
  histories: HistoryAndWorkflowId[];
}

interface Execution {
  workflowId: string;
  runId: string;
  type: string;
}

async function scanOne(client: Client, execution: Execution) {
  const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
  if (!history) throw new Error('no history');
  const taskFailures: string[] = [];
  let taskTimeouts = 0;
  const scheduled = new Map<string, string>();
  const closed = new Set<string>();
  const completed = new Set<string>();
  for (const event of history.events ?? []) {
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED: {
        const cause = event.workflowTaskFailedEventAttributes?.cause ?? 0;
        taskFailures.push(temporal.api.enums.v1.WorkflowTaskFailedCause[cause] ?? String(cause));
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
        taskTimeouts += 1;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const attributes = event.activityTaskScheduledEventAttributes;
        if (attributes?.activityType?.name && OUTBOUND_ACTIVITIES.has(attributes.activityType.name)) {
          // The workflow sets the key in the (encrypted) input, the same for every attempt of one
          // delivery; without one, the activity makes it from its own ids (activities/index.ts).
          const [input] = await decodeArrayFromPayloads(client.options.loadedDataConverter, attributes.input?.payloads);
          const given = (input as { idempotencyKey?: unknown } | undefined)?.idempotencyKey;
          scheduled.set(String(event.eventId), typeof given === 'string' ? given : `${execution.workflowId}/${execution.runId}/${attributes.activityId}`);
        }
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        closed.add(String(event.activityTaskCompletedEventAttributes?.scheduledEventId));
        completed.add(String(event.activityTaskCompletedEventAttributes?.scheduledEventId));
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        closed.add(String(event.activityTaskFailedEventAttributes?.scheduledEventId));
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
        closed.add(String(event.activityTaskTimedOutEventAttributes?.scheduledEventId));
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
        closed.add(String(event.activityTaskCanceledEventAttributes?.scheduledEventId));
        break;
      default:
        break;
    }
  }
  const keys = [...scheduled.values()];
  // A key is pending while none of its attempts has completed (a failing delivery is scheduled again under the same key).
  const completedKeys = new Set([...scheduled].filter(([eventId]) => completed.has(eventId)).map(([, key]) => key));
  const pending = [...new Set([...scheduled].filter(([eventId]) => !closed.has(eventId)).map(([, key]) => key))].filter((key) => !completedKeys.has(key));
  return { history, taskFailures, taskTimeouts, keys, pending };
}

/**
 * Reads every workflow's history. Outbound activities still pending (a retry waiting out
 * its backoff after a receiver outage) are read again until they complete or `until`.
 */
export async function scanHistories(client: Client, runs: readonly CaseRun[], until: number, say: (message: string) => void): Promise<HistoryFindings> {
  const executions: Execution[] = [];
  for await (const info of client.workflow.list({ query: '' })) {
    executions.push({ workflowId: info.workflowId, runId: info.runId, type: info.type });
    if (executions.length > runs.length * 10 + 1_000) break; // bounded: far more than any case makes
  }
  const expected = new Set<string>();
  for (const run of runs) {
    if (run.startedAt === undefined) continue;
    const ids = caseWorkflowIds(run.scenario);
    for (const id of Object.values(ids)) if (id) expected.add(id);
  }
  // A case that got stuck early may not have reached its later workflows.
  const stuck = new Set(runs.filter((run) => run.stuck).flatMap((run) => Object.values(caseWorkflowIds(run.scenario))));
  const present = new Set(executions.map((execution) => execution.workflowId));
  const findings: HistoryFindings = {
    workflows: executions.length,
    byType: new Map(),
    taskFailures: [],
    taskTimeouts: 0,
    outboundKeys: new Set(),
    pendingOutbound: [],
    missingWorkflows: [...expected].filter((id) => !present.has(id) && !stuck.has(id)).sort(),
    unexplainedWorkflows: [...present].filter((id) => !expected.has(id)).sort(),
    unreadable: [],
    histories: [],
  };
  for (const execution of executions) findings.byType.set(execution.type, (findings.byType.get(execution.type) ?? 0) + 1);

  let toRead = executions;
  for (let round = 1; ; round += 1) {
    const pendingIn: Execution[] = [];
    findings.pendingOutbound = [];
    await mapLimited(toRead, 4, async (execution) => {
      try {
        const result = await scanOne(client, execution);
        for (const key of result.keys) findings.outboundKeys.add(key);
        if (round === 1) {
          findings.histories.push({ workflowId: execution.workflowId, history: result.history });
          for (const cause of result.taskFailures) findings.taskFailures.push({ workflowId: execution.workflowId, cause });
          findings.taskTimeouts += result.taskTimeouts;
        }
        if (result.pending.length > 0) {
          pendingIn.push(execution);
          findings.pendingOutbound.push(...result.pending);
        }
      } catch (error) {
        findings.unreadable.push(`${execution.workflowId}: ${(error as Error).message}`);
      }
    });
    if (pendingIn.length === 0 || Date.now() + 3_000 > until) break;
    if (round === 1 || round % 10 === 0) say(`verification: ${findings.pendingOutbound.length} notifications or case records still being retried; waiting`);
    await sleep(3_000);
    toRead = pendingIn;
  }
  return findings;
}

/**
 * Replays every history with today's workflow code, as a worker picking the case up from
 * scratch would: a history that does not replay is a nondeterminism waiting for the next
 * worker restart, even where no workflow task has failed yet.
 */
export async function replayAll(histories: readonly HistoryAndWorkflowId[], codec: PayloadCodec): Promise<{ replayed: number; failures: Array<{ workflowId: string; error: string }> }> {
  // The replay worker's own logs (one line per history) are noise here; failures are returned.
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // a runtime exists already in this process: its logger stays
  }
  const workflowBundle = await bundleWorkflows();
  const failures: Array<{ workflowId: string; error: string }> = [];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories({ workflowBundle, dataConverter: dataConverter(codec) }, histories)) {
    replayed += 1;
    if (result.error) failures.push({ workflowId: result.workflowId, error: `${result.error.name}: ${result.error.message.split('\n')[0]?.slice(0, 300)}` });
  }
  return { replayed, failures };
}

// ---------------------------------------------------------------------------------------
// Each case, through the API
// ---------------------------------------------------------------------------------------

export interface CaseCheck {
  referralId: string;
  /** What is wrong with its final state; empty when it reached it. */
  problems: string[];
  historyReadable: boolean;
  historyEntries: number;
  /** Events the workflows kept as rejected (does not fit the stage): a driver or engine bug. */
  rejectedEvents: string[];
  deadline?: { dueAt: number; firedAt?: number };
}

interface RecordEntry {
  at: string;
  source: string;
  type: string;
  status: string;
  rule?: string;
  reason?: string;
  ref?: string;
}

interface State {
  stage?: string;
  outcome?: string;
  record?: RecordEntry[];
  dutyDecision?: { decision?: string };
  dutyDecisionOverdue?: boolean;
  dutyDecisionDueAt?: string;
  childSeenAt?: string;
}

export async function checkCase(api: ApiClient, tokens: Tokens, run: CaseRun): Promise<CaseCheck> {
  const { scenario } = run;
  const ids = caseWorkflowIds(scenario);
  const check: CaseCheck = { referralId: scenario.referralId, problems: [], historyReadable: false, historyEntries: 0, rejectedEvents: [] };
  const read = async (workflowId: string): Promise<State | undefined> => {
    const path = workflowId === ids.referral ? `/v1/referrals/${scenario.referralId}` : `/v1/assessments/${workflowId}`;
    const answer = await api.call<State>('GET', path, { token: tokens.manager, maxMs: 60_000 });
    if (answer.status !== 200) {
      check.problems.push(`GET ${workflowId} answered ${answer.status}`);
      return undefined;
    }
    for (const entry of answer.body.record ?? []) {
      if (entry.source === 'event' && entry.status === 'rejected') check.rejectedEvents.push(`${workflowId} ${entry.type} (${entry.ref}): ${entry.reason}`);
    }
    return answer.body;
  };
  const expect = (what: string, actual: unknown, wanted: unknown) => {
    if (actual !== wanted) check.problems.push(`${what} is ${String(actual)}, expected ${String(wanted)}`);
  };

  // Each part on its own, so that one unreadable workflow does not hide what the others show.
  const part = async (what: string, work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      check.problems.push(`${what}: could not be read (${(error as Error).message})`);
    }
  };
  await part('referral', async () => {
    const referral = await read(ids.referral);
    if (!referral) return;
    expect('referral duty decision', referral.dutyDecision?.decision, 'single-assessment');
    if (scenario.kind === 'deadline') {
      // Logged with the rule (cases before the deadline-integrity change) or with the deadline's name and due time.
      const fired = referral.record?.find((entry) => entry.type === 'deadline-passed' && (entry.rule === 'R-1' || entry.reason === 'duty-decision'));
      check.deadline = { dueAt: Date.parse(referral.dutyDecisionDueAt ?? ''), ...(fired ? { firedAt: Date.parse(fired.at) } : {}) };
      if (!referral.dutyDecisionOverdue || !fired) check.problems.push('the duty decision deadline did not fire');
    }
  });
  await part('assessment', async () => {
    const assessment = await read(ids.assessment);
    if (!assessment) return;
    expect('assessment stage', assessment.stage, 'completed');
    expect('assessment outcome', assessment.outcome, scenario.outcome);
  });
  if (ids.strategy && ids.section47) {
    const { strategy: strategyId, section47: section47Id } = ids;
    await part('strategy discussion', async () => {
      const strategy = await read(strategyId);
      if (!strategy) return;
      expect('strategy discussion stage', strategy.stage, 'concluded');
      expect('strategy discussion outcome', strategy.outcome, 'section-47-enquiry');
    });
    await part('section 47 enquiry', async () => {
      const enquiry = await read(section47Id);
      if (!enquiry) return;
      expect('section 47 enquiry stage', enquiry.stage, 'concluded');
      expect('section 47 outcome', enquiry.outcome, scenario.section47Outcome);
      if (!enquiry.childSeenAt) check.problems.push('the section 47 enquiry never learnt the child was seen');
    });
  }
  // R-43, R-44: each child in need plan runs on, open, until its reviews close or step it up.
  for (const plan of [ids.planFromAssessment, ids.planFromSection47]) {
    if (!plan || !run.completedAt) continue;
    await part('child in need plan', async () => {
      const state = await read(plan);
      if (state) expect(`child in need plan ${plan} stage`, state.stage, 'open');
    });
  }
  // The whole case's history (the referral's and its child workflows'), as operations read it.
  await part('history', async () => {
    const history = await api.call<{ timeline?: Array<{ workflowId: string }> }>('GET', `/v1/assessments/${ids.referral}/history`, {
      token: tokens.operations,
      maxMs: 60_000,
    });
    const timeline = history.body?.timeline ?? [];
    check.historyEntries = timeline.length;
    const covered = new Set(timeline.map((entry) => entry.workflowId));
    // A case that got stuck early may not have reached its later workflows.
    const required = run.completedAt ? Object.values(ids) : [ids.referral];
    const uncovered = required.filter((id): id is string => !!id && !covered.has(id));
    check.historyReadable = history.status === 200 && timeline.length > 0 && uncovered.length === 0;
    if (!check.historyReadable) check.problems.push(`history: ${history.status}, ${timeline.length} entries${uncovered.length ? `, nothing from ${uncovered.join(', ')}` : ''}`);
  });
  return check;
}

