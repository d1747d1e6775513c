import { resolve } from 'node:path';
import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { dataConverter } from '../common/temporal';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** A prebuilt bundle (tests build one and share it); otherwise the workflows are bundled now. */
  workflowBundle?: WorkflowBundleOption;
}

/** The workflow bundle's entry (webpack compiles the TypeScript). */
export const workflowsPath = resolve(__dirname, '..', 'workflows', 'index.ts');

export async function createWorker(options: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
    activities: createActivities(options.deps),
    dataConverter: dataConverter(),
  });
}
