/**
 * The campaign's settings, from the environment, validated once so that a wrong value
 * stops the run with a message naming the variable.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { hash32 } from './prng';

export const faultKinds = ['worker-kill', 'api-kill', 'temporal-kill', 'receiver-outage'] as const;
export type FaultKind = (typeof faultKinds)[number];

export interface ChaosSettings {
  cases: number;
  concurrency: number;
  /** Bound of the driving phase (cases and faults), in seconds. */
  seconds: number;
  /** Bound of the wait for outstanding deliveries after the faults stop, in seconds. */
  settleSeconds: number;
  /** The seed as given (printed, and part of every referral id). */
  seed: string;
  /** The generator's seed, derived from `seed`. */
  seedNumber: number;
  faultGapSeconds: { min: number; max: number };
  faultKinds: FaultKind[];
  keep: boolean;
}

const intVar = (name: string, min: number, max: number, fallback: number) =>
  z.coerce
    .number({ message: `${name} must be a whole number` })
    .int(`${name} must be a whole number`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`)
    .default(fallback);

const schema = z.object({
  CHAOS_CASES: intVar('CHAOS_CASES', 1, 100_000, 30),
  CHAOS_CONCURRENCY: intVar('CHAOS_CONCURRENCY', 1, 64, 4),
  CHAOS_SECONDS: intVar('CHAOS_SECONDS', 30, 7 * 86_400, 900),
  CHAOS_SETTLE_SECONDS: intVar('CHAOS_SETTLE_SECONDS', 10, 3_600, 180),
  CHAOS_SEED: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,24}$/, 'CHAOS_SEED may hold 1 to 24 letters, digits or _ (it becomes part of every referral id)')
    .optional(),
  CHAOS_FAULT_GAP: z
    .string()
    .regex(/^\d+(\.\d+)?-\d+(\.\d+)?$/, 'CHAOS_FAULT_GAP is "min-max" in seconds, e.g. 6-15')
    .default('6-15'),
  CHAOS_FAULT_KINDS: z.string().default(faultKinds.join(',')),
  CHAOS_KEEP: z.enum(['0', '1', '']).default('0'),
});

export function loadChaosSettings(env: NodeJS.ProcessEnv = process.env): ChaosSettings {
  const present = Object.fromEntries(Object.entries(env).filter(([key, value]) => key.startsWith('CHAOS_') && value !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) throw new Error(`invalid settings: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
  const c = parsed.data;
  const [min, max] = c.CHAOS_FAULT_GAP.split('-').map(Number) as [number, number];
  if (min <= 0 || max < min) throw new Error('invalid settings: CHAOS_FAULT_GAP needs 0 < min <= max');
  const kinds = c.CHAOS_FAULT_KINDS === 'none' ? [] : c.CHAOS_FAULT_KINDS.split(',').map((kind) => kind.trim());
  const unknown = kinds.filter((kind) => !(faultKinds as readonly string[]).includes(kind));
  if (unknown.length > 0) throw new Error(`invalid settings: CHAOS_FAULT_KINDS: unknown ${unknown.join(', ')} (known: ${faultKinds.join(', ')}, or none)`);
  const seed = c.CHAOS_SEED ?? String(randomBytes(4).readUInt32BE(0));
  return {
    cases: c.CHAOS_CASES,
    concurrency: c.CHAOS_CONCURRENCY,
    seconds: c.CHAOS_SECONDS,
    settleSeconds: c.CHAOS_SETTLE_SECONDS,
    seed,
    seedNumber: /^\d+$/.test(seed) ? Number(BigInt(seed) % 4294967296n) : hash32(seed),
    faultGapSeconds: { min, max },
    faultKinds: [...new Set(kinds)] as FaultKind[],
    keep: c.CHAOS_KEEP === '1',
  };
}
