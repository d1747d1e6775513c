import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { referralWorkflowId } from '../../domain/ids';
import type { Prompt } from '../../domain/prompts';
import type { ReferralRequest } from '../../domain/referral';
import { openPromptsQuery } from '../../workflows/messages';
import { referralWorkflow } from '../../workflows/referral';
import { printReplayReport, replayClusterHistories, type ReplayReport } from '../../worker/replay-cluster';
import { bundleWorkflows } from '../../worker/worker';
import { testCodec, TEST_ONLY_KEY_2, TEST_ONLY_PAYLOAD_KEYS } from '../support/payload-keys';
import { devServerHarness, type DevServerHarness } from '../support/temporal';

/**
 * Issue 16: `npm run replay` (scripts/replay.ts, worker/replay-cluster.ts) replays the
 * histories of running cases fetched from a cluster against the current code before a
 * deploy, and fails naming the workflow and the first diverging command. Here: two real
 * referrals on the dev server, waiting for their duty decisions, replayed on today's bundle
 * (they pass) and on a deliberately incompatible one (they fail, by id and command).
 */
let harness: DevServerHarness;
let handles: Array<WorkflowHandleWithFirstExecutionRunId<typeof referralWorkflow>>;
let runIds: Map<string, string>;
/** Only this file's cases: the other files' workflows on the shared server are not ours to judge. */
let query: string;
let incompatibleBundle: { code: string };
let incompatibleBundlePath: string;
const currentBundle = () => ({ codePath: inject('workflowBundlePath') });
const CHILD_REF = 'C-REPLAY-CLUSTER-7';

async function eventually<T>(probe: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await probe();
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((wake) => setTimeout(wake, 200));
    }
  }
}

beforeAll(async () => {
  harness = await devServerHarness();
  const stamp = Date.now().toString(36);
  handles = await Promise.all(
    [false, true].map((childProtectionConcern, index) => {
      const referralId = `REF-REPLAY-${stamp}-${index}`;
      const request: ReferralRequest = {
        referralId,
        receivedAt: new Date(Date.now() - 3_600_000).toISOString(),
        referrerType: 'education',
        childProtectionConcern,
        team: 'TEAM-REPLAY',
        managerId: 'MGR-1',
        children: [{ childRef: CHILD_REF }],
      };
      return harness.client.workflow.start(referralWorkflow, { workflowId: referralWorkflowId(referralId), taskQueue: harness.taskQueue, args: [request] });
    }),
  );
  runIds = new Map(handles.map((handle) => [handle.workflowId, handle.firstExecutionRunId]));
  // Each history has commands to replay: the calendar loaded, the duty decision's prompt raised and its timer started.
  for (const handle of handles) {
    await eventually(async () => {
      const open = (await handle.query(openPromptsQuery)) as Prompt[];
      if (!open.some((prompt) => prompt.kind === 'duty-decision')) throw new Error(`${handle.workflowId}: no duty decision prompt yet`);
    });
  }
  query = `TaskQueue = '${harness.taskQueue}' AND ExecutionStatus = 'Running'`;
  await eventually(async () => {
    const { count } = await harness.client.workflow.count(query);
    if (count !== handles.length) throw new Error(`visibility lists ${count} of ${handles.length}`);
  });
  incompatibleBundle = await bundleWorkflows({ workflowsPath: resolve(__dirname, '..', 'fixtures', 'incompatible-workflows', 'index.ts') });
  incompatibleBundlePath = join(mkdtempSync(join(tmpdir(), 'incompatible-bundle-')), 'workflows.js');
  writeFileSync(incompatibleBundlePath, incompatibleBundle.code);
});

afterAll(async () => {
  await harness?.stop();
});

function printed(report: ReplayReport): { lines: string[]; exitCode: number } {
  const lines: string[] = [];
  const exitCode = printReplayReport(report, (line) => lines.push(line));
  return { lines, exitCode };
}

describe('npm run replay: running cases replayed from the cluster', () => {
  it("passes when today's code replays every running case's history", async () => {
    const report = await replayClusterHistories({ client: harness.client, codec: testCodec(), workflowBundle: currentBundle(), query });
    expect(report).toMatchObject({ replayed: 2, failures: [], limitReached: false });
    const { lines, exitCode } = printed(report);
    expect(exitCode).toBe(0);
    expect(lines).toEqual([`replayed 2, failed 0 (query: ${query})`]);
  });

  it('fails on an incompatible change, naming each workflow, its run and type, and the first diverging command', async () => {
    const report = await replayClusterHistories({ client: harness.client, codec: testCodec(), workflowBundle: incompatibleBundle, query });
    expect(report.replayed).toBe(2);
    expect(report.failures.map((failure) => failure.workflowId).sort()).toEqual(handles.map((handle) => handle.workflowId).sort());
    for (const failure of report.failures) {
      expect(failure).toMatchObject({ runId: runIds.get(failure.workflowId), workflowType: 'referralWorkflow', kind: 'nondeterminism' });
      // The history's first command is a patch marker (then the calendar activity); the
      // incompatible code's is a timer: Core names the first command that does not match.
      expect(failure.message).toMatch(/^\[TMPRL1100\] Nondeterminism error: .*(marker|command)/);
    }
    const { lines, exitCode } = printed(report);
    expect(exitCode).toBe(1);
    for (const handle of handles) {
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^FAIL ${handle.workflowId} run ${runIds.get(handle.workflowId)} \\(referralWorkflow\\) nondeterminism: `)));
    }
    expect(lines.at(-1)).toBe(`replayed 2, failed 2 (query: ${query})`);
    // Opaque ids only: nothing from the cases' payloads.
    expect(lines.join('\n')).not.toContain(CHILD_REF);
    expect(lines.join('\n')).not.toContain('TEAM-REPLAY');
  });

  it('says when the limit cut the set', async () => {
    const report = await replayClusterHistories({ client: harness.client, codec: testCodec(), workflowBundle: currentBundle(), query, limit: 1 });
    expect(report).toMatchObject({ replayed: 1, failures: [], limitReached: true });
    const { lines, exitCode } = printed(report);
    expect(exitCode).toBe(0);
    expect(lines).toContain('the query matched more than 1 workflows: only the first 1 were replayed (raise --limit, or narrow --query)');
  });

  it('fails every case whose history the keys given cannot decrypt', async () => {
    const report = await replayClusterHistories({ client: harness.client, codec: testCodec(TEST_ONLY_KEY_2), workflowBundle: currentBundle(), query });
    expect(report.failures).toHaveLength(2);
    for (const failure of report.failures) {
      expect(failure.kind).toBe('failed');
      // The codec names the key id that sealed the payload, never key material.
      expect(failure.message).toMatch(/^its payloads could not be decrypted: .*test-only-k1/);
    }
    expect(printed(report).exitCode).toBe(1);
  });
});

/** `npm run replay` as an operator runs it, configured by the environment as the worker is. */
function runCli(env: Record<string, string>): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const root = resolve(__dirname, '..', '..');
  return new Promise((done) => {
    execFile(
      join(root, 'node_modules', '.bin', 'tsx'),
      [join(root, 'scripts', 'replay.ts')],
      {
        cwd: root,
        env: { ...process.env, TEMPORAL_ADDRESS: inject('devServerAddress'), TEMPORAL_NAMESPACE: 'default', PAYLOAD_KEYS: TEST_ONLY_PAYLOAD_KEYS, NODE_ENV: 'test', ...env },
        timeout: 60_000,
      },
      (error, stdout, stderr) => done({ exitCode: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe('the npm run replay command', () => {
  it('exits 0 when every selected case replays, and 1 naming each case that does not', async () => {
    const passing = await runCli({ REPLAY_QUERY: query, REPLAY_BUNDLE: inject('workflowBundlePath') });
    expect(passing, passing.stderr).toMatchObject({ exitCode: 0, stdout: `replayed 2, failed 0 (query: ${query})\n` });

    const failing = await runCli({ REPLAY_QUERY: query, REPLAY_BUNDLE: incompatibleBundlePath });
    expect(failing.exitCode, failing.stderr).toBe(1);
    const lines = failing.stdout.trim().split('\n');
    expect(lines, failing.stdout).toHaveLength(3);
    for (const handle of handles) expect(lines).toContainEqual(expect.stringContaining(`FAIL ${handle.workflowId} run ${runIds.get(handle.workflowId)} (referralWorkflow) nondeterminism: [TMPRL1100]`));
    expect(lines.at(-1)).toBe(`replayed 2, failed 2 (query: ${query})`);
  });
});
