import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { AuthOptions } from './auth';

/**
 * The API's own settings (apart from common/config.ts, which the worker shares). Without
 * API_JWKS_URL or API_JWT_SECRET the API uses a local secret generated once under
 * DATA_DIR/api-jwt-secret: the embedded default for one machine, never for production.
 */
const apiConfigSchema = z.object({
  DATA_DIR: z.string().default(resolve(__dirname, '..', '.data')),
  API_JWT_SECRET: z.string().min(32, 'API_JWT_SECRET must be at least 32 characters').optional(),
  API_JWKS_URL: z.url().optional(),
  API_JWT_ISSUER: z.string().min(1).optional(),
  API_JWT_AUDIENCE: z.string().min(1).optional(),
  AUDIT_LOG_FILE: z.string().min(1).optional(),
  API_RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1000).default(60_000),
  API_RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(600),
  API_READ_RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(1200),
  API_ADDRESS_RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(3000),
  /** How many proxies stand in front of the API (their X-Forwarded-For is believed); 0: none. */
  API_TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
  /** The oldest token accepted by its iat, e.g. 12h (jose time span). */
  API_JWT_MAX_AGE: z.string().regex(/^\d+\s*(s|m|h|d)$/, 'must be a time span such as 12h or 30m').default('12h'),
  /** Social workers reach their teams' cases (team) or only the assessments allocated to them (caseload). */
  API_SOCIAL_WORKER_SCOPE: z.enum(['team', 'caseload']).default('team'),
  /** How far back a person may date an event or a decision; older ones come from the case system. */
  API_BACKDATE_WINDOW_HOURS: z.coerce.number().int().min(1).max(24 * 14).default(24),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.string().optional(),
});

export interface ApiConfig {
  auth: AuthOptions;
  /** Where the local secret lives when it is the embedded default. */
  localSecretFile?: string;
  auditLogFile: string;
  rateLimit: { windowMs: number; limit: number };
  readRateLimit: { windowMs: number; limit: number };
  addressRateLimit: { windowMs: number; limit: number };
  trustProxy: number | false;
  socialWorkerScope: 'team' | 'caseload';
  backdateWindowHours: number;
  logLevel: string;
}

export function localSecretFile(dataDir: string): string {
  return join(dataDir, 'api-jwt-secret');
}

/** The local secret, created (mode 0600) on first use; an existing one is checked like the payload keys. */
export function ensureLocalSecret(file: string): string {
  if (existsSync(file)) {
    // Whoever can read this file can sign tokens for any role.
    const mode = statSync(file).mode & 0o777;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      throw new Error(`${file} is readable by others (mode ${mode.toString(8)}): run chmod 600 on it (it signs the API's local tokens)`);
    }
    const existing = readFileSync(file, 'utf8').trim();
    if (existing.length < 32) throw new Error(`${file} holds ${existing.length} characters: a local token secret needs at least 32 (delete the file to have one generated)`);
    return existing;
  }
  mkdirSync(resolve(file, '..'), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return secret;
}

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  // An empty variable (compose's `${VAR:-}`) means unset.
  const parsed = apiConfigSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')));
  if (!parsed.success) {
    throw new Error(`invalid configuration: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  const c = parsed.data;
  let auth: AuthOptions;
  let secretFile: string | undefined;
  const production = c.NODE_ENV === 'production';
  if (production && (!c.API_JWT_ISSUER || !c.API_JWT_AUDIENCE)) {
    // Whatever the key type: a token minted for another service must not open this one.
    throw new Error('invalid configuration: NODE_ENV=production needs API_JWT_ISSUER and API_JWT_AUDIENCE');
  }
  const maxTokenAge = c.API_JWT_MAX_AGE;
  if (c.API_JWKS_URL) {
    if (!c.API_JWT_ISSUER || !c.API_JWT_AUDIENCE) throw new Error('invalid configuration: API_JWKS_URL needs API_JWT_ISSUER and API_JWT_AUDIENCE');
    auth = { mode: 'jwks', jwksUrl: c.API_JWKS_URL, issuer: c.API_JWT_ISSUER, audience: c.API_JWT_AUDIENCE, maxTokenAge };
  } else if (c.API_JWT_SECRET) {
    auth = { mode: 'secret', secret: c.API_JWT_SECRET, maxTokenAge, ...(c.API_JWT_ISSUER ? { issuer: c.API_JWT_ISSUER } : {}), ...(c.API_JWT_AUDIENCE ? { audience: c.API_JWT_AUDIENCE } : {}) };
  } else if (production) {
    // As with the payload keys: production never falls back to a secret made up on the spot.
    throw new Error('invalid configuration: NODE_ENV=production needs API_JWKS_URL (with API_JWT_ISSUER and API_JWT_AUDIENCE) or API_JWT_SECRET');
  } else {
    secretFile = localSecretFile(c.DATA_DIR);
    auth = { mode: 'secret', secret: ensureLocalSecret(secretFile), maxTokenAge };
  }
  return {
    auth,
    ...(secretFile ? { localSecretFile: secretFile } : {}),
    auditLogFile: c.AUDIT_LOG_FILE ?? join(c.DATA_DIR, 'audit.log'),
    rateLimit: { windowMs: c.API_RATE_LIMIT_WINDOW_MS, limit: c.API_RATE_LIMIT_MAX },
    readRateLimit: { windowMs: c.API_RATE_LIMIT_WINDOW_MS, limit: c.API_READ_RATE_LIMIT_MAX },
    addressRateLimit: { windowMs: c.API_RATE_LIMIT_WINDOW_MS, limit: c.API_ADDRESS_RATE_LIMIT_MAX },
    trustProxy: c.API_TRUST_PROXY === 0 ? false : c.API_TRUST_PROXY,
    socialWorkerScope: c.API_SOCIAL_WORKER_SCOPE,
    backdateWindowHours: c.API_BACKDATE_WINDOW_HOURS,
    logLevel: c.LOG_LEVEL,
  };
}
