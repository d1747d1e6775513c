/**
 * How many generated cases a property runs, and from which seed. `npm test` runs a
 * bounded number (the default given by each property); `npm run test:properties -- --runs N`
 * sets PROPERTY_RUNS. The seed comes from PROPERTY_SEED, or is drawn now; either way it is
 * printed with the run count, so that a failure reproduces with
 * `PROPERTY_SEED=<seed> npm run test:properties -- --runs <n>`.
 */
import fc from 'fast-check';

function integerFromEnv(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be a whole number, not ${JSON.stringify(raw)}`);
  return value;
}

const seed = integerFromEnv('PROPERTY_SEED') ?? (Math.random() * 2 ** 31) | 0;

export function propertySeed(): number {
  return seed;
}

/** PROPERTY_RUNS if set, else the property's own default for `npm test`. */
export function propertyRuns(defaultRuns: number): number {
  const runs = integerFromEnv('PROPERTY_RUNS');
  if (runs !== undefined && runs < 1) throw new Error('PROPERTY_RUNS must be at least 1');
  return runs ?? defaultRuns;
}

/**
 * fast-check parameters with the seed and run count, printed once per property.
 * `npmTestSeed`: the seed `npm test` uses when neither PROPERTY_SEED nor PROPERTY_RUNS is
 * set, so that CI runs the same cases every day; `npm run test:properties` draws a new one.
 */
export function propertyParameters<T>(name: string, defaultRuns: number, extra: fc.Parameters<T> = {}, npmTestSeed?: number): fc.Parameters<T> {
  const numRuns = propertyRuns(defaultRuns);
  const fixed = npmTestSeed !== undefined && integerFromEnv('PROPERTY_SEED') === undefined && integerFromEnv('PROPERTY_RUNS') === undefined;
  const runSeed = fixed ? npmTestSeed : seed;
  console.log(`[property] ${name}: ${numRuns} runs, seed ${runSeed} (reproduce: PROPERTY_SEED=${runSeed} npm run test:properties -- --runs ${numRuns})`);
  return { seed: runSeed, numRuns, verbose: fc.VerbosityLevel.Verbose, ...extra };
}
