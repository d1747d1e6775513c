/**
 * `npm run build`: the JavaScript the production image runs (`node dist/worker/main.js`,
 * `node dist/api/main.js`), without tsx.
 *
 * - tsc (tsconfig.build.json) compiles api, worker, activities, common, domain and workflows
 *   to CommonJS in the output directory, keeping the source layout;
 * - what the code reads from disk next to itself is copied there: the failure converter
 *   (common/failure-converter.cjs, required by path), the pages' views and assets;
 * - the workflow bundle is built once, here, with `bundleWorkflows()` (the project's failure
 *   converter and the shared modules' preload compiled in) and written to
 *   `<out>/workflow-bundle.js`, which the compiled worker runs (WORKFLOW_BUNDLE_PATH).
 *
 * Output directory: `dist/` by default; `--out-dir DIR` or BUILD_OUT_DIR for another (the
 * build test uses a temporary one). It is emptied first. Node resolves the dependencies
 * from the output's parent's node_modules, as `dist/` finds the repository's.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { TRACED_WORKFLOW_BUNDLE_FILE, WORKFLOW_BUNDLE_FILE } from '../common/layout';
import { assertBundleEncodesFailures, bundleWorkflows, workflowsPath } from '../worker/worker';

const repoRoot = resolve(__dirname, '..');

/** In the output directory: says that the next build may empty it. */
const BUILD_MARKER = '.build-output';

/** Files and directories the compiled code reads at run time, relative to the repository (and to the output). */
export const runtimeAssets = ['common/failure-converter.cjs', 'api/pages/views', 'api/pages/assets'];

export interface BuildOptions {
  outDir?: string;
  /** Progress lines (default: stderr). */
  log?: (message: string) => void;
}

export async function build(options: BuildOptions = {}): Promise<{ outDir: string; workflowBundlePath: string }> {
  const outDir = resolve(options.outDir ?? join(repoRoot, 'dist'));
  const log = options.log ?? ((message: string) => process.stderr.write(`[build] ${message}\n`));
  // Emptied first, so that a module deleted from the source does not linger in the output;
  // only an empty directory or an earlier build's output (its marker file) is emptied.
  if (existsSync(outDir) && readdirSync(outDir).length > 0 && !existsSync(join(outDir, BUILD_MARKER))) {
    throw new Error(`build: ${outDir} holds files but is not an earlier build's output (no ${BUILD_MARKER}): choose an empty or new directory`);
  }
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, BUILD_MARKER), 'npm run build (scripts/build.ts) writes this directory and empties it on the next build\n');

  const started = Date.now();
  // tsc (a process of its own) and the bundler (webpack, here) at once: neither reads the other's output.
  // Two bundles: the default, and one with the tracing interceptors for a worker whose traces are on.
  await Promise.all([compile(outDir, log), writeWorkflowBundle(join(outDir, WORKFLOW_BUNDLE_FILE), false, log), writeWorkflowBundle(join(outDir, TRACED_WORKFLOW_BUNDLE_FILE), true, log)]);
  // The output is CommonJS whatever a package.json above it says.
  writeFileSync(join(outDir, 'package.json'), `${JSON.stringify({ private: true, type: 'commonjs' }, null, 2)}\n`);
  for (const asset of runtimeAssets) {
    const from = join(repoRoot, asset);
    if (!existsSync(from)) throw new Error(`build: ${asset} is missing`);
    mkdirSync(dirname(join(outDir, asset)), { recursive: true });
    cpSync(from, join(outDir, asset), { recursive: true });
  }
  log(`copied ${runtimeAssets.join(', ')}; built ${outDir} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { outDir, workflowBundlePath: join(outDir, WORKFLOW_BUNDLE_FILE) };
}

async function compile(outDir: string, log: (message: string) => void): Promise<void> {
  log(`tsc -p tsconfig.build.json --outDir ${outDir}`);
  try {
    await promisify(execFile)(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(repoRoot, 'tsconfig.build.json'), '--outDir', outDir], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`build: tsc failed\n${stdout}${stderr}`);
  }
}

async function writeWorkflowBundle(path: string, tracing: boolean, log: (message: string) => void): Promise<void> {
  // bundleWorkflows sets webpack's context to the repository: the shared modules' names depend on it.
  const { code } = await bundleWorkflows({ workflowsPath, tracing });
  writeFileSync(path, code);
  await assertBundleEncodesFailures({ codePath: path });
  log(`workflow bundle ${path} (${Math.round(code.length / 1024)} KiB)`);
}

function outDirFromArgs(argv: string[], env: NodeJS.ProcessEnv): string | undefined {
  const index = argv.indexOf('--out-dir');
  if (index !== -1) {
    const value = argv[index + 1];
    if (!value) throw new Error('build: --out-dir needs a directory');
    return value;
  }
  return env.BUILD_OUT_DIR || undefined;
}

if (require.main === module) {
  build({ outDir: outDirFromArgs(process.argv.slice(2), process.env) }).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
