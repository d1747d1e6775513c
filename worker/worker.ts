import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { PayloadCodec } from '@temporalio/common';
import { bundleWorkflowCode, Worker, type BundleOptions, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { runningCompiled } from '../common/layout';
import { dataConverter, failureConverterPath } from '../common/temporal';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** The payload codec (common/codec.ts) every payload and failure goes through. */
  codec: PayloadCodec;
  /**
   * A prebuilt bundle (tests build one and share it); otherwise the workflows are bundled
   * now. A prebuilt bundle must come from `bundleWorkflows`, which compiles the project's
   * failure converter into the sandbox (without it, workflow failure messages would be
   * written to history in plaintext). Compiled (`npm run build`), the worker needs one: the
   * build's (WORKFLOW_BUNDLE_PATH, see `prebuiltWorkflowBundle`).
   */
  workflowBundle?: WorkflowBundleOption;
  /** Workflows kept in the sticky cache (default WORKER_MAX_CACHED_WORKFLOWS, else 1,000). */
  maxCachedWorkflows?: number;
}

/** The workflow bundle's entry (webpack compiles the TypeScript). */
export const workflowsPath = resolve(__dirname, '..', 'workflows', 'index.ts');

/**
 * Modules evaluated once per worker and shared by every workflow (workflows/shared-modules.ts
 * says why and what qualifies): the domain's zod schemas, instead of built anew per workflow.
 */
export const preloadModules = [resolve(__dirname, '..', 'workflows', 'shared-modules.ts')];

/** The bundler's own progress stays quiet; its warnings and errors go to stderr. */
const bundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

/**
 * Webpack names modules relative to its context (the cwd by default), and
 * workflows/shared-modules.ts recognises the modules it shares by those names
 * (`./domain/...`, `./node_modules/zod/...`): the context is the repository, whatever the cwd.
 */
function inRepositoryContext<C extends { context?: string }>(config: C): C {
  return { ...config, context: resolve(__dirname, '..') };
}

/**
 * Bundles workflow code with the project's failure converter compiled into the workflow
 * sandbox (the worker does the same when it bundles `workflowsPath` itself).
 */
export async function bundleWorkflows(options: Omit<BundleOptions, 'failureConverterPath'> = { workflowsPath }): Promise<{ code: string }> {
  const hook = options.webpackConfigHook;
  return bundleWorkflowCode({ preloadModules, logger: bundlerLogger, ...options, failureConverterPath, webpackConfigHook: (config) => inRepositoryContext(hook ? hook(config) : config) });
}

/**
 * Refuses a prebuilt bundle made without the project's failure converter: its workflows
 * would write failure messages and stack traces to history in plaintext.
 */
export async function assertBundleEncodesFailures(bundle: WorkflowBundleOption): Promise<void> {
  const code = 'code' in bundle ? bundle.code : await readFile(bundle.codePath, 'utf8');
  // The bundler aliases this module name to failureConverterPath, or marks it "(ignored)".
  if (!/__temporal_custom_failure_converter \*\/ "[^"]*failure-converter\.cjs"/.test(code)) {
    throw new Error('the workflow bundle was built without the failure converter (common/failure-converter.cjs): build it with bundleWorkflows() from worker/worker.ts');
  }
}

/**
 * The prebuilt bundle at WORKFLOW_BUNDLE_PATH (`npm run build` writes `dist/workflow-bundle.js`,
 * made with `bundleWorkflows`, so the preloaded shared modules are in it already); undefined
 * without a path: the worker bundles the workflows from source at start-up.
 */
export function prebuiltWorkflowBundle(path: string | undefined): WorkflowBundleOption | undefined {
  if (path === undefined) return undefined;
  if (!existsSync(path)) throw new Error(`WORKFLOW_BUNDLE_PATH: no workflow bundle at ${path} (npm run build writes dist/workflow-bundle.js)`);
  return { codePath: path };
}

export async function createWorker(options: WorkerOptions): Promise<Worker> {
  if (options.workflowBundle) await assertBundleEncodesFailures(options.workflowBundle);
  else if (runningCompiled) {
    // Bundling the compiled JavaScript would not share the domain modules (their ids are
    // dist/'s, not the ones workflows/shared-modules.ts freezes): compiled, only the build's bundle runs.
    throw new Error('the compiled worker runs a prebuilt workflow bundle: run npm run build (it writes dist/workflow-bundle.js) or set WORKFLOW_BUNDLE_PATH');
  }
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath, bundlerOptions: { preloadModules, webpackConfigHook: inRepositoryContext } }),
    activities: createActivities(options.deps),
    dataConverter: dataConverter(options.codec),
    // The sticky cache the SDK sizes from the heap fills it with this engine's workflows: with
    // about 2,300 cases open the worker's workflow thread ran out of heap (npm run bench:inbox).
    // A workflow evicted from the cache replays on its next task; none is lost.
    maxCachedWorkflows: options.maxCachedWorkflows ?? maxCachedWorkflowsFromEnv(),
  });
}

/** WORKER_MAX_CACHED_WORKFLOWS, default 1,000: workflows kept in memory between their tasks. */
export function maxCachedWorkflowsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.WORKER_MAX_CACHED_WORKFLOWS ?? 1000);
  if (!Number.isInteger(value) || value < 10 || value > 100_000) throw new Error('WORKER_MAX_CACHED_WORKFLOWS must be a whole number from 10 to 100000');
  return value;
}
