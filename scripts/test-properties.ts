/**
 * `npm run test:properties -- --runs N [--seed S] [--survey] [--only I2,I4] [--no-shrink] [--trace]`:
 * the property-based deadline invariants (test/properties) with N generated cases, on the
 * real Temporal servers, which vitest's global setup starts (obtained first, as for
 * `npm test`). `npm test` runs the same files with a bounded number of cases.
 *
 *   --runs N       generated cases per property (PROPERTY_RUNS)
 *   --seed S       reproduce a run (PROPERTY_SEED; printed by every run)
 *   --survey       run every case, do not stop at the first failure, and print per
 *                  invariant in how many cases it failed (PROPERTY_SURVEY=1)
 *   --no-shrink    stop at the first failing case without shrinking it (PROPERTY_SHRINK=0)
 *   --time-limit M stop running and shrinking after M minutes (PROPERTY_TIME_LIMIT_MS)
 *   --only I2,I4   only violations of these invariants (name prefixes) fail a case (PROPERTY_ONLY)
 *   --trace        print every step as it is played (PROPERTY_TRACE=1)
 * Anything else is passed to vitest.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ensureTemporalCli, ensureTestServerClasspath, log } from './temporal';

const root = resolve(__dirname, '..');

function parse(argv: string[]): { env: Record<string, string>; rest: string[] } {
  const env: Record<string, string> = {};
  const rest: string[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    const value = () => {
      const next = argv[index + 1];
      if (next === undefined) throw new Error(`${argument} needs a value`);
      index += 1;
      return next;
    };
    if (argument === '--runs') env.PROPERTY_RUNS = value();
    else if (argument === '--seed') env.PROPERTY_SEED = value();
    else if (argument === '--survey') env.PROPERTY_SURVEY = '1';
    else if (argument === '--no-shrink') env.PROPERTY_SHRINK = '0';
    else if (argument === '--time-limit') env.PROPERTY_TIME_LIMIT_MS = String(Number(value()) * 60_000);
    else if (argument === '--trace') env.PROPERTY_TRACE = '1';
    else if (argument === '--only') env.PROPERTY_ONLY = value();
    else rest.push(argument);
  }
  for (const [name, raw] of Object.entries(env)) {
    if (['PROPERTY_RUNS', 'PROPERTY_SEED', 'PROPERTY_TIME_LIMIT_MS'].includes(name) && !Number.isSafeInteger(Number(raw))) throw new Error(`${name}: not a whole number: ${raw}`);
  }
  return { env, rest };
}

async function main(): Promise<void> {
  const { env, rest } = parse(process.argv.slice(2));
  await ensureTemporalCli();
  await ensureTestServerClasspath();
  log(`properties: ${Object.entries(env).map(([name, value]) => `${name}=${value}`).join(' ') || '(defaults)'}`);
  const result = spawnSync(resolve(root, 'node_modules', '.bin', 'vitest'), ['run', 'test/properties', ...rest], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  process.exit(result.status ?? 1);
}

main().catch((error: unknown) => {
  log(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
