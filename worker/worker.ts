import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { PayloadCodec } from '@temporalio/common';
import { bundleWorkflowCode, Worker, type BundleOptions, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { runningCompiled } from '../common/layout';
import { dataConverter, failureConverterPath } from '../common/temporal';
import { tracingOff, type Tracing } from '../common/tracing';

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
  /**
   * Traces (common/tracing.ts); off unless given. On, a prebuilt bundle must have been built
   * with `bundleWorkflows({ ..., tracing: true })`; off, it must not have been.
   */
  tracing?: Tracing;
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
 * The workflow side of the traces (workflows/tracing-interceptors.ts: spans for the
 * workflow's run, its updates and signals, and the activities and children it starts; no
 * command, and no change to the order of the workflow's own code). Compiled into the
 * bundle only when tracing is on: the default bundle has none of it.
 */
export const workflowTracingModule = resolve(__dirname, '..', 'workflows', 'tracing-interceptors.ts');

/**
 * Bundles workflow code with the project's failure converter compiled into the workflow
 * sandbox (the worker does the same when it bundles `workflowsPath` itself). `tracing: true`
 * adds the workflow side of the traces (`workflowTracingModule`), for a worker whose
 * tracing is on; without it the bundle is exactly the default one.
 */
export async function bundleWorkflows(
  options: Omit<BundleOptions, 'failureConverterPath' | 'workflowInterceptorModules'> & { tracing?: boolean } = { workflowsPath },
): Promise<{ code: string }> {
  const { tracing, ...bundleOptions } = options;
  const hook = bundleOptions.webpackConfigHook;
  return bundleWorkflowCode({
    preloadModules,
    logger: bundlerLogger,
    ...bundleOptions,
    ...(tracing ? { workflowInterceptorModules: [workflowTracingModule] } : {}),
    failureConverterPath,
    webpackConfigHook: (config) => inRepositoryContext(hook ? hook(config) : config),
  });
}

/** Whether a bundle's workflows make spans: it holds `workflowTracingModule`. */
export function bundleTraces(code: string): boolean {
  return /"\.\/workflows\/tracing-interceptors\.ts"/.test(code);
}

/** A bundle made for the other setting of tracing is refused: its spans would be lost, or missing. */
async function assertBundleMatchesTracing(bundle: WorkflowBundleOption, tracing: boolean): Promise<void> {
  const code = 'code' in bundle ? bundle.code : await readFile(bundle.codePath, 'utf8');
  if (bundleTraces(code) === tracing) return;
  throw new Error(
    tracing
      ? 'tracing is on but the workflow bundle has no tracing interceptors (workflows/tracing-interceptors.ts): build it with bundleWorkflows({ ..., tracing: true }) (worker/worker.ts)'
      : 'the workflow bundle was built for tracing (workflows/tracing-interceptors.ts) but tracing is off: use the default bundle, bundleWorkflows() (worker/worker.ts)',
  );
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
  const tracing = options.tracing ?? tracingOff;
  if (options.workflowBundle) {
    await assertBundleEncodesFailures(options.workflowBundle);
    await assertBundleMatchesTracing(options.workflowBundle, tracing.enabled);
  } else if (runningCompiled) {
    // Bundling the compiled JavaScript would not share the domain modules (their ids are
    // dist/'s, not the ones workflows/shared-modules.ts freezes): compiled, only the build's bundle runs.
    throw new Error('the compiled worker runs a prebuilt workflow bundle: run npm run build (it writes dist/workflow-bundle.js) or set WORKFLOW_BUNDLE_PATH');
  }
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath, bundlerOptions: { preloadModules, webpackConfigHook: inRepositoryContext } }),
    // Tracing on: the activity interceptors, the sink that exports workflow spans and, when
    // the worker bundles the workflows itself, the workflow interceptor module. Off: nothing.
    ...(tracing.enabled
      ? {
          interceptors: { ...tracing.workerOptions.interceptors, ...(options.workflowBundle ? {} : { workflowModules: [workflowTracingModule] }) },
          sinks: tracing.workerOptions.sinks,
        }
      : {}),
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
