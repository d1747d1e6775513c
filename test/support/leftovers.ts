import { inject } from 'vitest';

/**
 * Workflows a test file leaves running on the shared server, their worker gone, are still
 * listed by the next files' visibility queries (all teams, a shared team), and the prompt
 * list then queries them: a query with no worker to answer waits out its deadline (about
 * 30 s; the server only says "no poller" a second before it), so that a later file's
 * listing takes 30 s per leftover and its `eventually` gives up. Measured on the PostgreSQL
 * engine (test/e2e failed, test/api/scope took 151 s instead of 6 s, by file order).
 * (A closed workflow is queried through a worker too: the duty decision's earlier involvement,
 * api/earlier-involvement.ts, queries every assessment with the same ChildRef, closed or not,
 * and the tests share ChildRef C-1, so a file after test/api/decisions takes 30 s a query
 * there whatever this does: test/api/scope took 150 s so on both runs where it came after.)
 * So every file, once done, terminates what is still running on the task queues its
 * harnesses used (registered by devServerHarness; the hook is test/setup-file.ts, since
 * global setup imports the harness module too); within a file nothing changes.
 */
const taskQueues = new Set<string>();

export function leftTaskQueue(taskQueue: string): void {
  taskQueues.add(taskQueue);
}

/** Run after every test file (test/setup-file.ts). */
export async function terminateLeftovers(): Promise<void> {
  if (taskQueues.size === 0) return;
  const { Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ address: inject('devServerAddress') });
  let terminated = 0;
  try {
    for (const taskQueue of taskQueues) {
      const query = `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`;
      let nextPageToken: Uint8Array | undefined;
      do {
        const page = await connection.workflowService.listWorkflowExecutions({ namespace: 'default', query, pageSize: 200, nextPageToken });
        for (const execution of page.executions ?? []) {
          await connection.workflowService
            .terminateWorkflowExecution({
              namespace: 'default',
              workflowExecution: { workflowId: execution.execution?.workflowId, runId: execution.execution?.runId },
              reason: 'test file finished (test/support/leftovers.ts)',
            })
            .then(() => terminated++)
            .catch(() => undefined); // closed meanwhile (a child with its parent)
        }
        nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
      } while (nextPageToken);
    }
  } finally {
    await connection.close();
  }
  if (terminated > 0) process.stderr.write(`[tests] terminated ${terminated} workflows this file left running\n`);
}
