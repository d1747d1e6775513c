/**
 * Replays the histories of workflows on a cluster against the current workflow code
 * (`npm run replay`, scripts/replay.ts): before a deploy, every running case's history must
 * replay on the new bundle, or the new worker would fail its next workflow task with a
 * nondeterminism error. Read-only on the cluster: it lists executions and fetches their
 * histories; the replay itself runs in this process and talks to no server.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils';
import { Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { dataConverter } from '../common/temporal';
import { assertBundleEncodesFailures } from './worker';

/** What a deploy must not break: the cases that are open. */
export const DEFAULT_REPLAY_QUERY = "ExecutionStatus = 'Running'";
export const DEFAULT_REPLAY_LIMIT = 1000;
/** Histories fetched at once, ahead of the replay (which takes them one at a time). */
export const DEFAULT_FETCH_CONCURRENCY = 5;
/** A failure's message is cut to this many characters: it names the divergence, not a dump. */
const MESSAGE_CHARS = 400;

export interface ReplayClusterOptions {
  /** A client on the cluster (common/temporal.ts `connectClient`): it lists and fetches only. */
  client: Client;
  /** The payload codec with the keys the histories were sealed with (histories are encrypted). */
  codec: PayloadCodec;
  /** The code to replay on: a bundle from `bundleWorkflows` (worker/worker.ts), as the worker runs it. */
  workflowBundle: WorkflowBundleOption;
  /** A visibility query; default `ExecutionStatus = 'Running'`. */
  query?: string;
  /** At most this many workflows (default 1,000); the report says when the query matched more. */
  limit?: number;
  fetchConcurrency?: number;
}

export interface ReplayFailure {
  workflowId: string;
  runId: string;
  workflowType: string;
  /** `nondeterminism`: the code diverges from the history; `failed`: the replay failed otherwise (its workflow task threw, or the history could not be fetched). */
  kind: 'nondeterminism' | 'failed';
  /** The first line of the error, naming the first diverging command or event. */
  message: string;
}

export interface ReplayReport {
  query: string;
  limit: number;
  /** The query matched more workflows than `limit`: only the first `limit` were replayed. */
  limitReached: boolean;
  replayed: number;
  failures: ReplayFailure[];
}

export async function replayClusterHistories(options: ReplayClusterOptions): Promise<ReplayReport> {
  const query = options.query ?? DEFAULT_REPLAY_QUERY;
  const limit = options.limit ?? DEFAULT_REPLAY_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) throw new Error('the limit must be a whole number of at least 1');
  await assertBundleEncodesFailures(options.workflowBundle);

  // The ids first (cheap), one more than the limit to know whether it cut the set.
  const executions: WorkflowExecutionInfo[] = [];
  for await (const execution of options.client.workflow.list({ query, pageSize: Math.min(limit + 1, 1000) })) {
    executions.push(execution);
    if (executions.length > limit) break;
  }
  const limitReached = executions.length > limit;
  if (limitReached) executions.length = limit;

  const failures: ReplayFailure[] = [];
  let replayed = 0;
  if (executions.length === 0) return { query, limit, limitReached, replayed, failures };

  // The replay worker takes one history at a time and answers for it before asking for the
  // next, so the execution last handed over is the one each result is about.
  let current: WorkflowExecutionInfo | undefined;
  const fetchHistory = (execution: WorkflowExecutionInfo) => options.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
  async function* histories(): AsyncGenerator<{ workflowId: string; history: History }> {
    const concurrency = Math.max(1, options.fetchConcurrency ?? DEFAULT_FETCH_CONCURRENCY);
    const ahead: Array<Promise<History>> = [];
    let next = 0;
    for (const execution of executions) {
      while (ahead.length < concurrency && next < executions.length) {
        const fetching = fetchHistory(executions[next++]!);
        fetching.catch(() => undefined); // awaited in turn below
        ahead.push(fetching);
      }
      let history: History;
      try {
        history = await ahead.shift()!;
      } catch (error) {
        failures.push(failure(execution, 'failed', `history could not be fetched: ${firstLine(error)}`));
        continue;
      }
      current = execution;
      yield { workflowId: execution.workflowId, history };
    }
  }

  // A history the keys cannot open fails its replay with the failure converter's sealed
  // message; the codec's own error (it names the key id, never key material) says why.
  let decodeError: string | undefined;
  const codec: PayloadCodec = {
    encode: (payloads) => options.codec.encode(payloads),
    decode: async (payloads) => {
      try {
        return await options.codec.decode(payloads);
      } catch (error) {
        decodeError ??= firstLine(error);
        throw error;
      }
    },
  };
  const results = Worker.runReplayHistories(
    { workflowBundle: options.workflowBundle, dataConverter: dataConverter(codec), replayName: 'replay-cluster' },
    histories(),
  );
  for await (const result of results) {
    const execution = current!;
    if (result.workflowId !== execution.workflowId) throw new Error(`replay result for ${result.workflowId} while ${execution.workflowId} was replaying`);
    replayed += 1;
    if (result.error instanceof DeterminismViolationError) {
      failures.push(failure(execution, 'nondeterminism', divergence(result.error)));
    } else if (result.error) {
      failures.push(failure(execution, 'failed', decodeError ? `its payloads could not be decrypted: ${decodeError}` : replayFailure(result.error)));
    }
    decodeError = undefined;
  }
  return { query, limit, limitReached, replayed, failures };
}

function failure(execution: WorkflowExecutionInfo, kind: ReplayFailure['kind'], message: string): ReplayFailure {
  return { workflowId: execution.workflowId, runId: execution.runId, workflowType: execution.type, kind, message };
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = (text.split('\n', 1)[0] ?? '').trim();
  return line.length > MESSAGE_CHARS ? `${line.slice(0, MESSAGE_CHARS)}…` : line;
}

/**
 * The SDK's replay errors open with a paragraph of explanation and end with Core's
 * `Details:`, which names the diverging command and event. Core's details wrap its own
 * message in the debug form of the workflow task's failure (`Failure { failure:
 * Some(Failure { message: "[TMPRL1100] Nondeterminism error: …", … }) }`): that message is
 * what is kept.
 */
function divergence(error: Error): string {
  const details = /Details: ([\s\S]*)$/.exec(error.message)?.[1] ?? error.message;
  const quoted = /message: "((?:[^"\\]|\\.)*)"/.exec(details)?.[1];
  return firstLine(quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : details);
}

/**
 * A workflow task that failed on replay other than by nondeterminism: the workflow code threw
 * (a workflow type this code no longer exports, input it no longer accepts, a bug). The
 * failure converter seals its message (it may carry case data), so it is not printed.
 */
function replayFailure(error: Error): string {
  const message = divergence(error);
  if (message !== 'Encoded failure') return message;
  return 'the workflow code threw while replaying this history (its message is sealed by the failure converter: case data stays out of this output)';
}

/** One line per failure (opaque ids and the divergence, never a payload), then the summary; the exit code. */
export function printReplayReport(report: ReplayReport, write: (line: string) => void): 0 | 1 {
  for (const failed of report.failures) {
    write(`FAIL ${failed.workflowId} run ${failed.runId} (${failed.workflowType}) ${failed.kind}: ${failed.message}`);
  }
  if (report.limitReached) {
    write(`the query matched more than ${report.limit} workflows: only the first ${report.limit} were replayed (raise --limit, or narrow --query)`);
  }
  write(`replayed ${report.replayed}, failed ${report.failures.length} (query: ${report.query})`);
  return replayExitCode(report);
}

/** 1 when any workflow failed to replay (or its history could not be fetched), else 0. */
export function replayExitCode(report: ReplayReport): 0 | 1 {
  return report.failures.length > 0 ? 1 : 0;
}
