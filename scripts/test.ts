/**
 * `npm test`: obtains the real Temporal servers first (built or resolved once, then
 * cached, with progress printed), the CIN census validator's venv and Chromium for the
 * page tests (Debian's package, installed when missing), then type-checks,
 * lints and runs vitest, which starts
 * both servers in its global setup. A missing server fails the run; nothing is skipped.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ensureCinValidator } from '../test/support/cin-validator';
import { ensureChromium } from './chromium';
import { ensureTemporalCli, ensureTestServerClasspath, log } from './temporal';

const root = resolve(__dirname, '..');
const bin = (name: string) => resolve(root, 'node_modules', '.bin', name);

function run(step: string, command: string, args: string[]): void {
  log(`${step}: ${[command.split('/').pop(), ...args].join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    log(`${step} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}

async function main(): Promise<void> {
  await ensureTemporalCli();
  await ensureTestServerClasspath();
  // The CIN census validator (PyPI, pinned in tools/) in its venv, before any test needs it.
  log('CIN census validator: tools/.venv-cin from tools/requirements-cin-validator.txt');
  ensureCinValidator();
  // Real Chromium for test/pages/ (playwright-core drives it).
  ensureChromium();
  run('typecheck', bin('tsc'), ['--noEmit', '-p', '.']);
  run('lint', bin('eslint'), ['.']);
  run('tests', bin('vitest'), ['run', ...process.argv.slice(2)]);
}

main().catch((error: unknown) => {
  log(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
