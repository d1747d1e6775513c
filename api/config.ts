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
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.string().optional(),
});

export interface ApiConfig {
  auth: AuthOptions;
  /** Where the local secret lives when it is the embedded default. */
  localSecretFile?: string;
  auditLogFile: string;
  rateLimit: { windowMs: number; limit: number };
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
  if (c.API_JWKS_URL) {
    if (!c.API_JWT_ISSUER || !c.API_JWT_AUDIENCE) throw new Error('invalid configuration: API_JWKS_URL needs API_JWT_ISSUER and API_JWT_AUDIENCE');
    auth = { mode: 'jwks', jwksUrl: c.API_JWKS_URL, issuer: c.API_JWT_ISSUER, audience: c.API_JWT_AUDIENCE };
  } else if (c.API_JWT_SECRET) {
    auth = { mode: 'secret', secret: c.API_JWT_SECRET, ...(c.API_JWT_ISSUER ? { issuer: c.API_JWT_ISSUER } : {}), ...(c.API_JWT_AUDIENCE ? { audience: c.API_JWT_AUDIENCE } : {}) };
  } else if (c.NODE_ENV === 'production') {
    // As with the payload keys: production never falls back to a secret made up on the spot.
    throw new Error('invalid configuration: NODE_ENV=production needs API_JWKS_URL (with API_JWT_ISSUER and API_JWT_AUDIENCE) or API_JWT_SECRET');
  } else {
    secretFile = localSecretFile(c.DATA_DIR);
    auth = { mode: 'secret', secret: ensureLocalSecret(secretFile) };
  }
  return {
    auth,
    ...(secretFile ? { localSecretFile: secretFile } : {}),
    auditLogFile: c.AUDIT_LOG_FILE ?? join(c.DATA_DIR, 'audit.log'),
    rateLimit: { windowMs: c.API_RATE_LIMIT_WINDOW_MS, limit: c.API_RATE_LIMIT_MAX },
    logLevel: c.LOG_LEVEL,
  };
}
