import { extname, resolve } from 'node:path';

/**
 * Where this code runs from: the TypeScript source (tsx, vitest: `npm start`, `npm test`)
 * or the JavaScript `npm run build` emits (`dist/`, which the Docker image runs with node).
 */
export const runningCompiled = extname(__filename) === '.js';

/** The top of the code tree: the repository when running from source, the build's output directory (dist/) when compiled. */
export const codeRoot = resolve(__dirname, '..');

/**
 * The directory that holds `.data` by default: the repository, whichever way the code
 * runs (the build's output sits one level below it, as `dist/` does), so that a compiled
 * process on this machine finds the same local keys and secrets as `npm start`.
 */
export const projectRoot = runningCompiled ? resolve(codeRoot, '..') : codeRoot;

/** The prebuilt workflow bundle's file name in the build's output (scripts/build.ts writes it). */
export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';
/** The same with the tracing interceptors, for a worker whose traces are on (scripts/build.ts writes both). */
export const TRACED_WORKFLOW_BUNDLE_FILE = 'workflow-bundle-traced.js';

/** The default WORKFLOW_BUNDLE_PATH: the build's own bundle when compiled (the traced one when traces are on); from source, none (the worker bundles at start-up). */
export function defaultWorkflowBundlePath(tracing: boolean): string | undefined {
  return runningCompiled ? resolve(codeRoot, tracing ? TRACED_WORKFLOW_BUNDLE_FILE : WORKFLOW_BUNDLE_FILE) : undefined;
}
