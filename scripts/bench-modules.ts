/**
 * `npm run bench:modules`: what evaluating the workflow code costs each new workflow (and
 * each workflow replayed after leaving the worker's cache), with and without the shared
 * modules of workflows/shared-modules.ts.
 *
 * The SDK's reusable V8 context gives each workflow its own module cache, except for the
 * modules loaded before any workflow (the preload), which all workflows share. This
 * builds the real bundle twice (with the preload and with none), loads each in a V8
 * context whose module cache is split the same way, and times `importWorkflows()` (what
 * the SDK runs for every new workflow) BENCH_MODULE_RUNS times (default 40).
 */
import vm from 'node:vm';
import { bundleWorkflows, workflowsPath } from '../worker/worker';

const runs = Number(process.env.BENCH_MODULE_RUNS ?? 40);

interface Figures {
  sharedModules: number;
  preloadMs: number;
  perWorkflowMs: number[];
}

async function measure(preload: boolean): Promise<Figures> {
  const { code } = await bundleWorkflows({ workflowsPath, ...(preload ? {} : { preloadModules: [] }) });
  // Shared records first, then the current workflow's: the SDK's split (worker/lib/workflow/reusable-vm.js).
  const shared = new Map<string | symbol, unknown>();
  let perWorkflow: Map<string | symbol, unknown> | undefined;
  const moduleCache = new Proxy({}, {
    get: (_, id) => shared.get(id) ?? perWorkflow?.get(id),
    set: (_, id, record) => ((perWorkflow ?? shared).set(id, record), true),
  });
  const context = vm.createContext({});
  Object.defineProperty(context, '__webpack_module_cache__', { value: moduleCache });
  vm.runInContext('globalThis.__TEMPORAL__ = {};', context);
  new vm.Script(code, { filename: 'workflow-bundle.js' }).runInContext(context);
  const preloading = performance.now();
  vm.runInContext('__TEMPORAL__.preloadModules?.()', context);
  const preloadMs = performance.now() - preloading;
  const perWorkflowMs: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    perWorkflow = new Map();
    const started = performance.now();
    vm.runInContext('__TEMPORAL__.importWorkflows()', context);
    perWorkflowMs.push(performance.now() - started);
  }
  return { sharedModules: shared.size, preloadMs, perWorkflowMs: perWorkflowMs.sort((a, b) => a - b) };
}

function line(label: string, figures: Figures): string {
  const at = (q: number) => figures.perWorkflowMs[Math.min(figures.perWorkflowMs.length - 1, Math.floor(q * figures.perWorkflowMs.length))]!.toFixed(1);
  return `${label.padEnd(34)} per workflow p50 ${at(0.5).padStart(6)} ms  p90 ${at(0.9).padStart(6)} ms  (shared modules ${figures.sharedModules}, preload ${figures.preloadMs.toFixed(0)} ms once)`;
}

async function main(): Promise<void> {
  console.log(`Evaluating the workflow modules for a new workflow, ${runs} times each (node ${process.version}, ${process.arch})`);
  const without = await measure(false);
  console.log(line('every module per workflow', without));
  const withShared = await measure(true);
  console.log(line('domain and zod shared', withShared));
  const ratio = Number(without.perWorkflowMs[Math.floor(runs / 2)]) / Number(withShared.perWorkflowMs[Math.floor(runs / 2)]);
  console.log(`the shared modules make a workflow's module evaluation ${ratio.toFixed(0)}x cheaper (p50)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
